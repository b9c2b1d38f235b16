# shellcheck shell=bash
# The SEV launch around a boot: the owner's side is coco-secret (session,
# launch), the host's is a QEMU started paused (-S) with
# tests/boot/sev-host.py in front of its QMP socket, playing the host and
# the PSP (the QEMU runs TCG without SEV). Sourced after lib.sh and
# boot_setup by tests/boot/test-launch.sh and tests/boot/demo.sh.
#
# Needs COCO_SECRET and the shared vectors' AmdSev footer page.

# shellcheck disable=SC2034 # for the scripts that source this file
LAUNCH_VEC=$TOP/../shared/vectors/sev
LAUNCH_FOOTER=$LAUNCH_VEC/ovmf_AmdSev_suffix.bin
# shellcheck disable=SC2034
PLATFORM_PY=$TOP/tests/secret/sev-platform.py
HOST_PY=$TOP/tests/boot/sev-host.py

# The kernel command line of the launch boots.
LAUNCH_CMDLINE="$BOOT_CMDLINE_BASE rd.luks.uuid=$ROOT_UUID cocotest.root=luks-$ROOT_UUID cocotest.guids=$GUID_DISK"

# owner_firmware OUT: the launch firmware as the owner expects it:
# Debian's OVMF code, then coco-inject.efi (it does the firmware's part:
# publishing the secret area), padded to 4 KiB, then the footer page of an
# AmdSev OVMF, which names the secret and hashes-table areas (Debian ships
# no AmdSev build). sev-host.py makes the same image from what its QEMU
# really runs.
owner_firmware() {
	cat "$OVMF_CODE" "$INJECTOR" >"$1"
	truncate -s $(( ($(stat -c %s "$1") + 4095) / 4096 * 4096 )) "$1"
	cat "$LAUNCH_FOOTER" >>"$1"
}

# launch_session NAME POLICY: the owner's session against the host's
# chain ($RUN/platform, made by sev-platform.py make); output in
# $RUN/NAME.session.out.
launch_session() {
	"$COCO_SECRET" session --pdh "$RUN/platform/chain" --ark "$RUN/platform/ark.cert" \
		--ask "$RUN/platform/ask.cert" --policy "$2" --name "$RUN/$1" >"$RUN/$1.session.out" 2>&1
}

# host_start NAME SESSION POLICY [sev-host.py options]: the host's ESP
# (kernel command line HOST_CMDLINE, initramfs HOST_INITRD), its QEMU
# started paused in the background (job VM_JOB, QMP $RUN/NAME.qemu.sock,
# console $RUN/NAME.serial.log), and sev-host.py in front of it (job
# HOST_JOB, listening on $RUN/NAME.sock, log $RUN/NAME.host.log). The
# guest's disk is HOST_DISK (default the fixtures' root.img; empty for
# none, when BOOT_QEMU_ARGS names the drives).
host_start() {
	local name=$1 sess=$2 policy=$3 disk=${HOST_DISK-$FIX/root.img}
	shift 3
	INITRD=${HOST_INITRD:-$INITRD} esp_image "$RUN/$name.esp" "${HOST_CMDLINE:-$LAUNCH_CMDLINE}" ||
		return 1
	QMP_SOCK=$RUN/$name.qemu.sock BOOT_QEMU_ARGS="-S ${BOOT_QEMU_ARGS:-}" \
		boot_vm "$RUN/$name.serial.log" "$RUN/$name.esp" ${disk:+"$disk"} &
	# shellcheck disable=SC2034 # the caller waits for it
	VM_JOB=$!
	for _ in $(seq 100); do
		[ -S "$RUN/$name.qemu.sock" ] && break
		sleep 0.1
	done
	: >"$RUN/$name.host.log"
	"$HOST_PY" --listen "$RUN/$name.sock" --qemu-qmp "$RUN/$name.qemu.sock" \
		--esp "$RUN/$name.esp" --ovmf-code "$OVMF_CODE" --footer "$LAUNCH_FOOTER" \
		--platform "$RUN/platform" --godh "$RUN/${sess}_godh.b64" \
		--session "$RUN/${sess}_session.b64" --policy "$policy" \
		--log "$RUN/$name.host.log" --wait 60 "$@" &
	HOST_JOB=$!
	for _ in $(seq 100); do
		grep -q 'listening on' "$RUN/$name.host.log" && return 0
		kill -0 "$HOST_JOB" 2>/dev/null || break
		sleep 0.1
	done
	boot_log "$name: the stand-in did not start: $(tail -n 2 "$RUN/$name.host.log")"
	return 1
}

# owner_launch NAME SESSION TABLE [measure options]: coco-secret launch
# against host NAME, expecting the owner's firmware (LAUNCH_FW, default
# $RUN/owner-fw.bin), the fixtures' kernel and initramfs and the command
# line LAUNCH_APPEND (default LAUNCH_CMDLINE). LAUNCH_RC is its status,
# its output $RUN/NAME.launch.out.
owner_launch() {
	local name=$1 sess=$2 table=$3
	shift 3
	"$COCO_SECRET" launch --qmp "$RUN/$name.sock" --qmp-timeout 20 \
		--tik "$RUN/${sess}_tik.bin" --tek "$RUN/${sess}_tek.bin" --table "$table" \
		--ovmf "${LAUNCH_FW:-$RUN/owner-fw.bin}" --kernel "$KERNEL_DIR/bzImage" --initrd "$INITRD" \
		--append "${LAUNCH_APPEND:-$LAUNCH_CMDLINE}" "$@" >"$RUN/$name.launch.out" 2>&1
	# shellcheck disable=SC2034 # the caller's
	LAUNCH_RC=$?
}

# qemu_status SOCKET: the real QEMU's run state (prelaunch while paused
# before its first cont).
qemu_status() {
	python3 - "$1" <<-'PY'
	import json, socket, sys
	s = socket.socket(socket.AF_UNIX); s.settimeout(10); s.connect(sys.argv[1])
	r = s.makefile("r"); r.readline()
	for cmd in ("qmp_capabilities", "query-status"):
	    s.sendall(json.dumps({"execute": cmd}).encode() + b"\n")
	    while True:
	        m = json.loads(r.readline())
	        if "return" in m: break
	print(m["return"]["status"])
	PY
}
