#!/usr/bin/env bash
# The owner's SEV launch, end to end: coco-secret session, then coco-secret
# launch against a host that started QEMU paused (-S). The host and its PSP
# are tests/boot/sev-host.py, written apart from coco-secret: it unwraps
# the session with its own platform's PDH key, measures what the real QEMU
# (TCG, no SEV) boots, answers the owner's QMP, opens the packet and hands
# the table to coco-inject.efi before passing `cont` on.
#
# One real boot (the owner's flow unlocks the root). The hosts that get
# nothing never run their guest: their QEMU is checked to be still paused
# (prelaunch), with an empty console, then told to quit. Last, launch
# against the real QEMU's own QMP socket, which has no SEV here.
set -u
. "$TOP/tests/lib/tap.sh"
. "$TOP/tests/boot/lib.sh"

boot_test_start launch
. "$TOP/tests/boot/launch-lib.sh"
if [ ! -x "${COCO_SECRET:-}" ]; then
	tap_not_ok "coco-secret is built (COCO_SECRET=${COCO_SECRET:-unset})"
	tap_done
	exit 1
fi
if [ ! -f "$LAUNCH_FOOTER" ]; then
	tap_skip "SEV launch boots" "no $LAUNCH_FOOTER (the shared vectors are not beside this checkout)"
	tap_done
	exit 0
fi

tap_check "the stand-in PSP passes the shared vectors" "$HOST_PY" selftest "$LAUNCH_VEC"

owner_firmware "$RUN/owner-fw.bin"
secret_table "$RUN/table.bin" "$GUID_DISK=$FIX/root.key"
"$PLATFORM_PY" make "$RUN/platform"
tap_check "session for policy 0x3 (SEV: NODBG, NOKS)" launch_session owner 0x3
tap_check "session for policy 0x7 (SEV-ES)" launch_session owner-es 0x7
tap_check "session for policy 0x2 (debugging allowed)" launch_session owner-dbg 0x2

# launch NAME SESSION [measure options]: the owner's launch, shown.
launch() {
	local name=$1 sess=$2
	shift 2
	owner_launch "$name" "$sess" "$RUN/table.bin" "$@"
	sed "s/^/#   $name: /" "$RUN/$name.launch.out"
}

# refused NAME WHY-ERE: launch failed saying WHY; the stand-in measured
# (proof the conversation happened) but decrypted and continued nothing;
# the real QEMU is still paused before its first instruction, its console
# empty. Then it is told to quit.
refused() {
	local name=$1 why=$2 status
	if [ "$LAUNCH_RC" = 1 ] && grep -qE -- "$why" "$RUN/$name.launch.out" &&
		grep -q 'nothing injected; the guest was not continued' "$RUN/$name.launch.out"; then
		tap_ok "$name: launch refuses, saying why ($why)"
	else
		tap_not_ok "$name: launch refuses, saying why ($why; status $LAUNCH_RC)"
	fi
	wait "$HOST_JOB"
	sed "s/^/#   /" "$RUN/$name.host.log"
	tap_absent "$name: the stand-in opened no packet and passed no cont on" \
		"$RUN/$name.host.log" 'LAUNCH_SECRET: MAC verified|cont passed on' 'LAUNCH_MEASURE'
	status=$(qemu_status "$RUN/$name.qemu.sock")
	tap_is "$name: the real QEMU was never continued" prelaunch "$status"
	if [ "$status" = prelaunch ] && [ ! -s "$RUN/$name.serial.log" ]; then
		tap_ok "$name: its guest never ran (empty console)"
	else
		tap_not_ok "$name: its guest never ran (console $(wc -c <"$RUN/$name.serial.log") bytes)"
	fi
	"$BOOT_SRC/qmp.py" "$RUN/$name.qemu.sock" quit
	wait "$VM_JOB"
}

# 1. The owner's flow: the host boots what the owner measured.
if host_start owner owner 0x3 --schema 9.1; then
	launch owner owner --mode sev
	tap_is "launch: verified, injected, continued (status 0)" 0 "$LAUNCH_RC"
	tap_check "launch said so" grep -q '^guest continued$' "$RUN/owner.launch.out"
	wait "$VM_JOB"
	wait "$HOST_JOB"
	sed "s/^/#   /" "$RUN/owner.host.log"
	tap_check "the stand-in opened the packet (its MAC verified)" \
		grep -q 'LAUNCH_SECRET: MAC verified' "$RUN/owner.host.log"
	tap_check "and passed cont on with the secret injected" \
		grep -q 'cont passed on to QEMU (secret injected)' "$RUN/owner.host.log"
	cp "$RUN/owner.serial.log.txt" "$RUN/serial.txt" 2>/dev/null || : >"$RUN/serial.txt"
	# BOOT_DROP_SERIAL=1 (tests/boot/test-vacuous.sh's switch): the checks
	# below must then all fail.
	[ "${BOOT_DROP_SERIAL:-0}" = 1 ] && rm -f "$RUN/owner.serial.log" "$RUN/owner.serial.log.txt"
	boot_drop_serial launch
	serial_show
	tap_serial "the guest reached its end" "$BOOT_END_MARKER"
	tap_is "coco-unlock exit status" 0 "$(serial_value COCO-UNLOCK-EXIT)"
	tap_serial "the injected secret opened the encrypted root" '^ROOT-OK root$'
	tap_serial "and was wiped" "^root: SECRET-GONE $GUID_DISK\$"
	tap_no_secret_bytes "$FIX/root.key"
	tap_absent_bytes "no secret, TEK or TIK bytes in launch's output" "$RUN/owner.launch.out" \
		'^guest continued$' "$FIX/root.key" "$RUN/owner_tek.bin" "$RUN/owner_tik.bin"
	tap_absent_bytes "none in the stand-in's log either" "$RUN/owner.host.log" \
		'cont passed on' "$FIX/root.key" "$RUN/owner_tek.bin" "$RUN/owner_tik.bin"
else
	tap_not_ok "the owner's host started"
fi

# 2. A host that boots another initramfs: same kernel, one file more.
cp "$INITRD" "$RUN/swapped-initrd.img"
mkdir -p "$RUN/extra" && echo "the host's own /init.d" >"$RUN/extra/host-was-here"
(cd "$RUN/extra" && echo host-was-here | cpio --quiet -o -H newc | gzip) >>"$RUN/swapped-initrd.img"
HOST_INITRD=$RUN/swapped-initrd.img host_start initrd owner 0x3 &&
	launch initrd owner --mode sev
refused initrd "firmware, kernel, initrd or command line differ"

# 3. A host that appends rd.coco.wipe=none: the secret would stay readable.
HOST_CMDLINE="$LAUNCH_CMDLINE rd.coco.wipe=none" host_start cmdline owner 0x3 &&
	launch cmdline owner --mode sev
refused cmdline "firmware, kernel, initrd or command line differ"

# 4. SEV-ES, and the host launches one vCPU more than the owner expects.
host_start vcpus owner-es 0x7 --mode seves --vcpus 3 &&
	launch vcpus owner-es --mode seves --vcpus 2 --vcpu-type EPYC-v4
refused vcpus "the host launched 3 vCPUs, you expected 2"

# 5. The packet is altered on its way to the PSP: the PSP refuses it.
host_start transit owner 0x3 --alter-in-transit && launch transit owner --mode sev
refused transit "sev-inject-launch-secret failed: SEV: the packet's MAC does not verify"
tap_check "transit: the stand-in says why" grep -q "refused: the packet's MAC does not verify" \
	"$RUN/transit.host.log"

# 6. A policy that lets the host debug the guest: verify refuses it.
host_start debug owner-dbg 0x2 && launch debug owner-dbg --mode sev
refused debug "policy 0x2 lets the host debug the guest"

# 7. The real QEMU 7.2 itself, without the stand-in: it has no SEV here.
# launch speaks its QMP and says so; the guest stays paused.
esp_image "$RUN/nosev.esp" "$LAUNCH_CMDLINE" &&
	QMP_SOCK=$RUN/nosev.qemu.sock BOOT_QEMU_ARGS=-S \
		boot_vm "$RUN/nosev.serial.log" "$RUN/nosev.esp" "$FIX/root.img" &
VM_JOB=$!
for _ in $(seq 100); do
	[ -S "$RUN/nosev.qemu.sock" ] && break
	sleep 0.1
done
"$COCO_SECRET" launch --qmp "$RUN/nosev.qemu.sock" --qmp-timeout 20 \
	--tik "$RUN/owner_tik.bin" --tek "$RUN/owner_tek.bin" --table "$RUN/table.bin" \
	--mode sev --ovmf "$RUN/owner-fw.bin" >"$RUN/nosev.launch.out" 2>&1
tap_is "a QEMU without SEV: launch fails" 1 "$?"
sed "s/^/#   nosev: /" "$RUN/nosev.launch.out"
tap_check "and says why, in one line" grep -q 'query-sev: SEV is not enabled for this guest' \
	"$RUN/nosev.launch.out"
tap_is "nosev: the real QEMU was never continued" prelaunch "$(qemu_status "$RUN/nosev.qemu.sock")"
"$BOOT_SRC/qmp.py" "$RUN/nosev.qemu.sock" quit
wait "$VM_JOB"

tap_done
