#!/usr/bin/env bash
# make demo: boots the happy path with the console shown live. The
# "firmware" (coco-inject.efi) injects a secret table holding the disk
# passphrase under the conventional disk GUID and one unrelated secret;
# coco-unlock in the initramfs opens the encrypted root with it and wipes
# it; the encrypted root greets and reports what is left in securityfs.
set -u
. "$TOP/tests/boot/lib.sh"

OTHER=e6f5a162-d67f-4750-a67c-5d065f2a9910
start=$(date +%s%N)
echo "== preparing: kernel (cached), encrypted disk, initramfs, ESP"
boot_setup demo || exit 1
secret_table "$RUN/table.bin" "$GUID_DISK=$FIX/root.key" "$OTHER=$FIX/other.key" || exit 1
echo "== booting QEMU (q35, OVMF, TCG): the console follows"
echo
BOOT_LIVE=1 boot_scenario demo \
	"rd.luks.uuid=$ROOT_UUID cocotest.root=luks-$ROOT_UUID cocotest.guids=$GUID_DISK,$OTHER" \
	"$RUN/table.bin" "$FIX/root.img"
rc=$?
echo
echo "== summary (serial log: $RUN/serial.txt)"
[ "$rc" = 0 ] || echo "the VM run failed or timed out"
verdict=0
check() {
	if serial_has "$2"; then
		echo "  yes  $1"
	else
		echo "  NO   $1"
		verdict=1
	fi
}
check "the injector published the secret area" 'coco-inject: secret area at'
check "efi_secret listed the injected secrets" 'Created 2 entries in securityfs secrets/coco'
check "coco-unlock opened the encrypted root" '^COCO-UNLOCK-EXIT=0$'
check "coco-unlock wiped the disk secret" "coco-unlock: wiped secret $GUID_DISK"
check "switch_root reached the encrypted root" '^ROOT-OK root$'
check "the disk secret is gone, seen from the root" "^root: SECRET-GONE $GUID_DISK\$"
check "the unrelated secret is still there" "^root: SECRET-PRESENT $OTHER\$"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
echo "== VM run ${BOOT_SECONDS:-?} s, whole demo $((ms / 1000)).$((ms % 1000 / 100)) s"
exit $((rc || verdict))
