# shellcheck shell=bash
# The end-to-end checks of coco-secret convert, one release at a time
# (test-ubuntu.sh, test-trixie.sh set the release and call conv_e2e):
#   1. an interrupted convert leaves nothing;
#   2. the conversion: exit status, the input unchanged, the secret, the
#      exported files, the LUKS2 header as cryptsetup reads it, the
#      initramfs's crypttab and its pin, no secret bytes in the output;
#      with CONV_MEASURE, the launch digests against coco-secret measure
#      run on the exported files;
#   3. the converted image launched as the owner launches it: coco-secret
#      session, then coco-secret launch with the exported kernel, initrd,
#      command line and table against a host that started QEMU paused,
#      whose PSP is tests/boot/sev-host.py (it measures what that QEMU
#      boots, opens the packet, hands the table to coco-inject.efi);
#      coco-unlock opens the root, multi-user on the mapping, the marker
#      files, the secret gone, no secret bytes on the console or journal;
#   4. the input booted as it was, from its own kernel and initramfs.
#
# Set before conv_e2e (besides SYS_SUITE for lib.sh):
#   CONV_FORMAT      raw or qcow2: the input's format, and so the output's
#   CONV_ARGS        more convert arguments (an array)
#   CONV_MEASURE     MODES given to --measure, with the launch firmware
#                    (owner_firmware: OVMF, coco-inject.efi, the footer)
#   CONV_SEP_BOOT    1 when the image has a separate /boot (Ubuntu)
#   CONV_EXPECTED_FAILED  units the converted boot may fail (its kernel's
#                    doing, not the conversion's; sys_state_ok)

# conv_e2e_start: what both releases' tests share before any work: the
# helper from the source tree, and their skips (root only; the boot-6.1
# phase only, since the images boot their own kernels whatever the
# phase's). Fails after the skip's TAP line.
conv_e2e_start() {
	export COCO_SECRET_CONVERT_HELPER=$TOP/tools/coco-secret/convert-root.sh
	export MTOOLS_SKIP_CHECK=1
	if [ "$(id -u)" != 0 ]; then
		tap_skip "convert ($SYS_SUITE)" "needs root (debootstrap, chroot, fuse2fs)"
		return 1
	fi
	if [ "${KERNEL_SERIES:-6.1}" != 6.1 ]; then
		tap_skip "convert ($SYS_SUITE) on $KERNEL_SERIES" "runs in the boot-6.1 phase only (the image's own kernels)"
		return 1
	fi
}

# conv_e2e_inputs: the injector, the test disks, the cloud image and DEB
# (CONV_DEB, else the package built for SYS_SUITE).
conv_e2e_inputs() {
	[ -f "$INJECTOR" ] && boot_disks && conv_cloud_image &&
		if [ -n "${CONV_DEB:-}" ]; then DEB=$CONV_DEB; else sys_deb; fi
}

# conv_qemu_drive FILE FORMAT: QEMU's words for FILE as the guest's vdb,
# never written (snapshot=on), then the report's journal disk vdc.
conv_qemu_drive() {
	echo "-drive if=virtio,format=$2,snapshot=on,file=$1 -drive if=virtio,format=raw,file=$RUN/out.img"
}

# conv_input_boot_files IMG DIR: the newest vmlinuz-* and initrd.img-* of
# the raw image IMG (its /boot partition, else its root's /boot), read
# with debugfs, as DIR/bzImage and DIR/initrd.img; RELEASE set.
conv_input_boot_files() {
	local img=$1 out=$2 start size prefix
	read -r start size prefix < <(sfdisk --json "$img" | python3 -c 'import json, sys
parts = json.load(sys.stdin)["partitiontable"]["partitions"]
boot = [p for p in parts if p["type"] == sys.argv[1]]
root = [p for p in parts if p["type"] == sys.argv[2]]
p, prefix = (boot[0], "") if boot else (root[0], "/boot")
print(p["start"], p["size"], prefix or "/")' "$CONV_TYPE_XBOOTLDR" "$CONV_TYPE_ROOT") || return 1
	mkdir -p "$out"
	dd if="$img" of="$out/part" bs=512 skip="$start" count="$size" status=none || return 1
	RELEASE=$(debugfs -R "ls -p ${prefix%/}/" "$out/part" 2>/dev/null |
		awk -F/ '$6 ~ /^vmlinuz-/ { sub(/^vmlinuz-/, "", $6); print $6 }' | sort -V | tail -n 1)
	[ -n "$RELEASE" ] &&
		debugfs -R "dump ${prefix%/}/vmlinuz-$RELEASE $out/bzImage" "$out/part" >/dev/null 2>&1 &&
		debugfs -R "dump ${prefix%/}/initrd.img-$RELEASE $out/initrd.img" "$out/part" >/dev/null 2>&1
	rm -f "$out/part"
	[ -s "$out/bzImage" ] && [ -s "$out/initrd.img" ]
}

conv_interrupted() {
	"$COCO_SECRET" convert --in "$IN" --out "$D/int.$CONV_FORMAT" --secret-out "$D/int.secret" \
		--deb "$DEB" "${CONV_ARGS[@]}" >"$D/int.log" 2>&1 &
	local pid=$! rc=0
	for _ in $(seq 600); do
		grep -q 'apt-get update' "$D/int.log" && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.2
	done
	kill -TERM "$pid"
	wait "$pid" || rc=$?
	sed 's/^/#   /' "$D/int.log" | tail -n 4
	tap_check "interrupted: the run was inside the image when it was stopped" grep -q 'apt-get update' "$D/int.log"
	tap_check "interrupted: says so, exit status 1" \
		eval '[ "$rc" = 1 ] && grep -q "interrupted (signal 15): nothing written" "$D/int.log"'
	tap_check "interrupted: no --out, no secret, no boot files, no work directory" \
		test ! -e "$D/int.$CONV_FORMAT" -a ! -e "$D/int.secret" -a ! -e "$D/int.$CONV_FORMAT.boot" \
		-a -z "$(find "$D" -maxdepth 1 -name '.coco-convert.*')"
	tap_check "interrupted: no fuse2fs left running" eval '! pgrep -f "fuse2fs -f $D/" >/dev/null'
}

# conv_header_checks: the root partition of the output (OUT_RAW), as an
# independent reader sees it.
conv_header_checks() {
	local start_sector uuid line want
	start_sector=$(sfdisk --json "$OUT_RAW" | python3 -c 'import json,sys
p=[p for p in json.load(sys.stdin)["partitiontable"]["partitions"] if p["type"]=="'"$CONV_TYPE_ROOT"'"]
print(p[0]["start"])')
	dd if="$OUT_RAW" of="$D/header.img" bs=512 skip="$start_sector" count=32768 status=none
	cryptsetup luksDump "$D/header.img" >"$D/dump.txt" 2>&1
	tap_check "the root partition is LUKS2" grep -q '^Version:[[:space:]]*2$' "$D/dump.txt"
	tap_check "it has a coco-efi-secret token" grep -q 'coco-efi-secret' "$D/dump.txt"
	tap_check "the secret opens a keyslot (cryptsetup)" \
		cryptsetup open --test-passphrase --key-file "$D/disk.secret" "$D/header.img"
	tap_check "the recovery passphrase opens a keyslot (cryptsetup)" \
		cryptsetup open --test-passphrase --key-file "$FIX/root.key" "$D/header.img"
	uuid=$(cryptsetup luksUUID "$D/header.img")
	lsinitramfs "$B/initrd.img" >"$D/initrd.list" 2>/dev/null
	tap_check "the initramfs has coco-unlock" grep -q 'usr/sbin/coco-unlock$' "$D/initrd.list"
	tap_check "the initramfs has efi_secret" grep -q 'efi_secret\.ko' "$D/initrd.list"
	rm -rf "$D/initrd"
	unmkinitramfs "$B/initrd.img" "$D/initrd" >/dev/null 2>&1
	line=$(cat "$D"/initrd/*/cryptroot/crypttab "$D"/initrd/cryptroot/crypttab 2>/dev/null | grep '^root ')
	tap_diag "the initramfs's crypttab: $line"
	tap_check "the initramfs's crypttab: the root by its LUKS UUID, with a pin" \
		eval '[[ "$line" =~ ^root\ UUID=$uuid\ none\ .*fixate-volume-key=[0-9a-f]{64} ]]'
	# The pin, from the volume key cryptsetup gives (systemd's definition:
	# HMAC-SHA256 under the volume key of "cryptsetup:NAME:UUID").
	cryptsetup luksDump --dump-volume-key --volume-key-file "$D/vk" -q --key-file "$D/disk.secret" \
		"$D/header.img" >/dev/null 2>&1
	want=$(python3 -c 'import hmac, hashlib, sys
print(hmac.new(open(sys.argv[1], "rb").read(), ("cryptsetup:root:" + sys.argv[2]).encode(), hashlib.sha256).hexdigest())' \
		"$D/vk" "$uuid" 2>/dev/null)
	[ -f "$D/vk" ] && shred -u "$D/vk"
	tap_is "the pin is the volume key's (HMAC-SHA256 of cryptsetup:root:UUID)" \
		"fixate-volume-key=$want" "$(grep -oE 'fixate-volume-key=[0-9a-f]{64}' <<<"$line")"
	rm -rf "$D/initrd"
}

# conv_measure_checks: each measure-MODE.txt is what coco-secret measure
# gives for the exported kernel, initramfs and command line.
conv_measure_checks() {
	local mode want args
	for mode in ${CONV_MEASURE//,/ }; do
		args=(--mode "$mode" --ovmf "$CONV_OVMF" --kernel "$B/vmlinuz" --initrd "$B/initrd.img"
			--append "$(cat "$B/cmdline")")
		[ "$mode" != sev ] && args+=(--vcpus 1 --vcpu-type EPYC-Milan)
		want=$("$COCO_SECRET" measure "${args[@]}" 2>&1)
		tap_diag "measure-$mode.txt: $(head -c 200 "$B/measure-$mode.txt" 2>/dev/null | head -n 1)"
		tap_is "--measure $mode: the digest of the exported kernel, initramfs and cmdline" \
			"$want" "$(cat "$B/measure-$mode.txt" 2>/dev/null)"
	done
}

conv_convert() {
	local rc=0 start=$SECONDS measure=()
	[ -n "${CONV_MEASURE:-}" ] && measure=(--ovmf "$CONV_OVMF" --measure "$CONV_MEASURE"
		--vcpus 1 --vcpu-type EPYC-Milan)
	OUT=$D/out.$CONV_FORMAT
	# The harness's own words (console, the initrd's path on its ESP) are
	# part of what the owner measures, so they go in through --append.
	"$COCO_SECRET" convert --in "$IN" --out "$OUT" --secret-out "$D/disk.secret" \
		--deb "$DEB" --recovery-key-file "$FIX/root.key" \
		--append "$BOOT_CMDLINE_BASE cocotest.guids=$GUID_DISK" \
		"${CONV_ARGS[@]}" "${measure[@]}" >"$D/convert.log" 2>&1 || rc=$?
	CONVERT_SECONDS=$((SECONDS - start))
	grep '^coco-secret' "$D/convert.log" | sed 's/^/#   /'
	tap_is "convert: exit status 0 (${CONVERT_SECONDS} s)" 0 "$rc"
	tap_is "the input is unchanged" "$IN_SUM" "$(sha256sum <"$IN")"
	tap_is "the output's format is the input's ($CONV_FORMAT)" "$CONV_FORMAT" \
		"$(qemu-img info --output=json "$OUT" 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["format"])' 2>/dev/null)"
	tap_check "the secret: 32 bytes, mode 0600" \
		test "$(stat -c '%s %a' "$D/disk.secret" 2>/dev/null)" = "32 600"
	B=$OUT.boot
	for f in vmlinuz initrd.img cmdline secret.table; do
		tap_check "exported: $f" test -s "$B/$f"
	done
	tap_check "the command line: root on the mapping, rd.coco.on-failure=poweroff" \
		grep -q '^root=/dev/mapper/root ro rd.coco.on-failure=poweroff ' "$B/cmdline"
	CONV_CMDLINE=$(cat "$B/cmdline" 2>/dev/null)
	OUT_RAW=$OUT
	if [ "$CONV_FORMAT" != raw ]; then
		OUT_RAW=$D/out-copy.raw
		qemu-img convert -f "$CONV_FORMAT" -O raw "$OUT" "$OUT_RAW"
	fi
	conv_header_checks
	[ "$OUT_RAW" != "$OUT" ] && rm -f "$OUT_RAW"
	[ -n "${CONV_MEASURE:-}" ] && conv_measure_checks
	tap_absent_bytes "no secret bytes in convert's output" "$D/convert.log" 'converted ' "$D/disk.secret"
	tap_absent_bytes "no secret bytes in the exported files but the table" "$B/initrd.img" '' "$D/disk.secret"
}

conv_boot_converted() {
	RUN=$CONV_WORK/runs/$SYS_SUITE-converted
	rm -rf "$RUN"
	mkdir -p "$RUN/kernel"
	cp "$B/vmlinuz" "$RUN/kernel/bzImage"
	KERNEL_DIR=$RUN/kernel INITRD=$B/initrd.img
	truncate -s 32M "$RUN/out.img"
	# shellcheck disable=SC2034 # read by sys_real_system_checks
	SYS_MAPPER=root
	conv_launch
	sys_journal
	tap_serial "coco-unlock opened the root" "coco-unlock: root: unlocked /dev/vdb"
	tap_serial_not "no cryptroot prompt" 'Please unlock disk'
	SYS_EXPECTED_FAILED=${CONV_EXPECTED_FAILED:-} sys_real_system_checks "coco-unlock: root: unlocked /dev/vdb"
	conv_marker_checks
	tap_no_secret_bytes "$D/disk.secret" "$FIX/root.key"
	sys_journal_no_secret_bytes "$D/disk.secret" "$FIX/root.key"
}

# conv_launch: the owner's SEV launch of the converted image, with what
# convert exported and nothing of the harness: a session for the stand-in
# platform, its host's QEMU paused on the exported kernel, initrd and
# command line with the converted disk, coco-secret launch. The console
# ends in $RUN/serial.txt, as tap_boot leaves it.
conv_launch() {
	local rc=1 vm_rc=1 start
	"$PLATFORM_PY" make "$RUN/platform" >/dev/null
	tap_check "the owner's session (policy 0x3: no debugging, no key sharing)" \
		launch_session owner 0x3
	start=$(date +%s%N)
	if HOST_CMDLINE=$CONV_CMDLINE HOST_DISK='' \
		BOOT_QEMU_ARGS=$(conv_qemu_drive "$OUT" "$CONV_FORMAT") \
		host_start converted owner 0x3 --schema 9.1; then
		# KERNEL_DIR/bzImage and INITRD are the exported vmlinuz and initrd.img.
		LAUNCH_FW=$CONV_OVMF LAUNCH_APPEND=$CONV_CMDLINE \
			owner_launch converted owner "$B/secret.table" --mode sev
		rc=$LAUNCH_RC
		if [ "$rc" = 0 ]; then
			wait "$VM_JOB" && vm_rc=0
		else
			# A refused launch leaves the guest paused: told to quit
			# rather than left to the timeout, it never ran.
			"$BOOT_SRC/qmp.py" "$RUN/converted.qemu.sock" quit >/dev/null 2>&1
			wait "$VM_JOB"
		fi
		wait "$HOST_JOB"
	fi
	CONVERTED_BOOT_SECONDS=$(boot_seconds_since "$start")
	sed 's/^/#   launch: /' "$RUN/converted.launch.out" 2>/dev/null
	sed 's/^/#   host: /' "$RUN/converted.host.log" 2>/dev/null
	tap_is "launch: verified, injected, continued (status 0)" 0 "$rc"
	tap_check "the stand-in PSP opened the packet (its MAC verified)" \
		grep -q 'LAUNCH_SECRET: MAC verified' "$RUN/converted.host.log"
	if [[ ,${CONV_MEASURE:-}, == *,sev,* ]]; then
		tap_is "measure-sev.txt is the digest the stand-in PSP measured" \
			"$(cat "$B/measure-sev.txt" 2>/dev/null)" \
			"$(grep -o 'digest [0-9a-f]*' "$RUN/converted.host.log" | cut -d' ' -f2)"
	fi
	cp "$RUN/converted.serial.log.txt" "$RUN/serial.txt" 2>/dev/null || : >"$RUN/serial.txt"
	boot_drop_serial "converted $SYS_SUITE"
	tap_is "converted $SYS_SUITE: the VM ran to its end (${CONVERTED_BOOT_SECONDS}s)" 0 "$vm_rc"
	serial_show ''
	tap_serial "converted $SYS_SUITE: the guest reached its end (${BOOT_END_MARKER})" "$BOOT_END_MARKER"
	tap_absent_bytes "no secret, TEK or TIK bytes in launch's output" "$RUN/converted.launch.out" \
		'^guest continued$' "$D/disk.secret" "$RUN/owner_tek.bin" "$RUN/owner_tik.bin"
}

conv_marker_checks() {
	tap_serial "the root's marker file is there" "^MARKER root coco-convert marker $SYS_SUITE\$"
	tap_serial "the 1 MiB marker file is whole" "^MARKER one-mib $(head -c 1048576 /dev/zero | tr '\0' m | sha256sum | cut -c1-16)\$"
	tap_serial "the marker symbolic link is there" '^MARKER link root-marker$'
	if [ "${CONV_SEP_BOOT:-0}" = 1 ]; then
		tap_serial "/boot is the separate partition, its marker there" '^MARKER boot coco-convert boot marker$'
	fi
}

# The input, after its conversion, boots as it did: its own kernel and
# initramfs from its /boot, the root by its file system's UUID, no secret.
conv_boot_input() {
	RUN=$CONV_WORK/runs/$SYS_SUITE-input
	rm -rf "$RUN"
	mkdir -p "$RUN"
	local ok=1
	conv_input_boot_files "$CLOUD_IMG" "$RUN/kernel" || ok=0
	tap_check "the input's own kernel and initramfs, read from its /boot (${RELEASE:-none})" test "$ok" = 1
	# shellcheck disable=SC2034 # read by tap_boot
	KERNEL_DIR=$RUN/kernel INITRD=$RUN/kernel/initrd.img
	truncate -s 32M "$RUN/out.img"
	BOOT_QEMU_ARGS=$(conv_qemu_drive "$IN" "$CONV_FORMAT") \
		tap_boot "the unconverted input" "root=UUID=$CONV_ROOT_FS_UUID ro" -
	tap_serial "systemd runs as PID 1 in the input's root" '^REAL-PID1 systemd$'
	tap_serial "the root is the plain partition, no mapping" '^REAL-ROOT /dev/vdb[0-9]+$'
	grep -aE '^(SYSTEM-STATE|FAILED-UNIT) ' "$RUN/serial.txt" | sed 's/^/#   /'
	tap_check "systemctl is-system-running: running (or degraded by expected units only)" sys_state_ok
	conv_marker_checks
	tap_serial_not "no coco-unlock in the input's boot" 'coco-unlock:'
	INPUT_BOOT_SECONDS=${BOOT_SECONDS:-?}
}

# conv_e2e: the whole test; DEB and the image made first.
conv_e2e() {
	D=$CONV_WORK/$SYS_SUITE/converted
	rm -rf "$D"
	mkdir -p "$D"
	. "$TOP/tests/boot/launch-lib.sh"
	CONV_OVMF=$D/owner-fw.bin
	owner_firmware "$CONV_OVMF"
	IN=$CLOUD_IMG
	if [ "$CONV_FORMAT" = qcow2 ]; then
		IN=$D/cloud.qcow2
		qemu-img convert -f raw -O qcow2 "$CLOUD_IMG" "$IN"
	fi
	IN_SUM=$(sha256sum <"$IN")
	conv_interrupted
	conv_convert
	conv_boot_converted
	conv_boot_input
	echo "# FIGURE: convert $SYS_SUITE $(du -m --apparent-size "$CLOUD_IMG" | cut -f1) MiB image ($CONV_FORMAT): ${CONVERT_SECONDS} s; converted boot ${CONVERTED_BOOT_SECONDS} s, input boot ${INPUT_BOOT_SECONDS} s"
}
