#!/usr/bin/env bash
# make demo: the guest owner's SEV launch, then the boot with the console
# shown live. The host (tests/boot/sev-host.py, playing the host and its
# PSP: this QEMU runs TCG without SEV) starts QEMU paused; the owner makes
# a session for the host's certified key, computes the launch digest it
# expects, and runs coco-secret launch: verify the host's measurement,
# package the disk secret for that launch only, inject it, continue.
# coco-inject.efi then plays the firmware's part, coco-unlock in the
# initramfs opens the encrypted root with the secret and wipes it.
set -u
. "$TOP/tests/boot/lib.sh"

start=$(date +%s%N)
echo "== preparing: kernel (cached), encrypted disk, initramfs, ESP"
boot_setup demo || exit 1
. "$TOP/tests/boot/launch-lib.sh"
if [ ! -f "$LAUNCH_FOOTER" ] || [ ! -x "${COCO_SECRET:-}" ]; then
	echo "demo: needs coco-secret and $LAUNCH_FOOTER (the shared vectors beside this checkout)"
	exit 1
fi
secret_table "$RUN/table.bin" "$GUID_DISK=$FIX/root.key" || exit 1
owner_firmware "$RUN/owner-fw.bin"
"$PLATFORM_PY" make "$RUN/platform" || exit 1

# show CMD...: the owner's command as typed (paths shortened), then its output.
short() {
	local line
	while IFS= read -r line; do
		line=${line//"$COCO_SECRET"/coco-secret}
		line=${line//"$RUN/"/}
		line=${line//"$KERNEL_DIR/"/}
		line=${line//"$FIX/"/}
		printf '%s\n' "${line//"$LAUNCH_CMDLINE"/\"...\"}"
	done
}
show() {
	echo "\$ $*" | short
	"$@" 2>&1 | short | sed 's/^/  /'
	return "${PIPESTATUS[0]}"
}

echo
echo "== owner: a launch session for the host's platform key (PDH), checked up to its root"
show "$COCO_SECRET" session --pdh "$RUN/platform/chain" --ark "$RUN/platform/ark.cert" \
	--ask "$RUN/platform/ask.cert" --policy 0x3 --name "$RUN/owner" || exit 1
echo
echo "== host: QEMU started paused (-S), its QMP socket behind the stand-in host/PSP"
# Its console is shown live from the start: it stays empty until cont.
BOOT_LIVE=1 host_start demo owner 0x3 || exit 1
grep -E 'LAUNCH_START|LAUNCH_UPDATE' "$RUN/demo.host.log" | sed -E "s/cmdline '[^']*'/cmdline/; s/^/  /"
echo
echo "== owner: the launch digest to expect (firmware, kernel, initramfs, command line \"...\")"
echo "   (the command line: $LAUNCH_CMDLINE)"
show "$COCO_SECRET" measure --mode sev --ovmf "$RUN/owner-fw.bin" --kernel "$KERNEL_DIR/bzImage" \
	--initrd "$INITRD" --append "$LAUNCH_CMDLINE" || exit 1
echo
echo "== owner: launch: query the host, verify, package, inject, continue"
echo "\$ coco-secret launch --qmp demo.sock --tik owner_tik.bin --tek owner_tek.bin --table table.bin \\"
echo "      --mode sev --ovmf owner-fw.bin --kernel bzImage --initrd initrd.img --append \"...\""
owner_launch demo owner "$RUN/table.bin" --mode sev
short <"$RUN/demo.launch.out" | sed 's/^/  /'
echo
echo "== the guest runs: the console follows"
echo
wait "$VM_JOB"
rc=$?
wait "$HOST_JOB"
cp "$RUN/demo.serial.log.txt" "$RUN/serial.txt" 2>/dev/null || : >"$RUN/serial.txt"
echo
echo "== summary (host: $RUN/demo.host.log, console: $RUN/serial.txt)"
[ "$rc" = 0 ] || echo "the VM run failed or timed out"
verdict=0
check() {
	if "${@:2}"; then
		echo "  yes  $1"
	else
		echo "  NO   $1"
		verdict=1
	fi
}
check "the owner verified the host's measurement" grep -q '^measurement verified$' "$RUN/demo.launch.out"
check "the PSP stand-in opened the packet" grep -q 'LAUNCH_SECRET: MAC verified' "$RUN/demo.host.log"
check "the guest was continued only after that" grep -q 'cont passed on to QEMU (secret injected)' "$RUN/demo.host.log"
check "efi_secret listed the injected secret" serial_has 'Created 1 entries in securityfs secrets/coco'
check "coco-unlock opened the encrypted root" serial_has '^COCO-UNLOCK-EXIT=0$'
check "coco-unlock wiped the disk secret" serial_has "coco-unlock: wiped secret $GUID_DISK"
check "switch_root reached the encrypted root" serial_has '^ROOT-OK root$'
check "the disk secret is gone, seen from the root" serial_has "^root: SECRET-GONE $GUID_DISK\$"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
echo "== whole demo $((ms / 1000)).$((ms % 1000 / 100)) s"
exit $((rc || verdict))
