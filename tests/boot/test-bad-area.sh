#!/usr/bin/env bash
# A secret area that efi_secret rejects: unpopulated (wrong header GUID:
# no directory, nothing logged by the kernel) and corrupted (an entry's
# length runs past the table: "EFI secret area is corrupted"). Both times
# coco-unlock exits 3 quickly with a message and the fallback is reached.
set -u
. "$TOP/tests/lib/tap.sh"
. "$TOP/tests/boot/lib.sh"

OTHER=e6f5a162-d67f-4750-a67c-5d065f2a9910
boot_test_start bad-area
secret_table --header-guid "$OTHER" "$RUN/unpopulated.bin" "$GUID_DISK=$FIX/root.key"
secret_table --corrupt "$RUN/corrupted.bin" "$GUID_DISK=$FIX/root.key" "$OTHER=$FIX/other.key"

for kind in unpopulated corrupted; do
	tap_boot "$kind" "rd.luks.uuid=$ROOT_UUID cocotest.guids=$GUID_DISK" "$RUN/$kind.bin" "$FIX/root.img"
	tap_serial "$kind: the kernel saw the secret area" 'efi: .*CocoSecret=0x'
	if [ "$kind" = corrupted ]; then
		tap_serial "$kind: efi_secret reported the corruption" 'EFI secret area is corrupted'
	fi
	tap_serial "$kind: no secrets directory" '^initrd: SECRETS-DIR absent$'
	tap_is "$kind: coco-unlock exit status (no secrets)" 3 "$(serial_value COCO-UNLOCK-EXIT)"
	tap_less_than "$kind: coco-unlock gave up quickly (ms)" 5000 "$(serial_value COCO-UNLOCK-MS)"
	tap_serial "$kind: coco-unlock said why" 'coco-unlock: .*no secret'
	tap_serial "$kind: the initramfs reached its fallback" '^FALLBACK$'
	tap_serial_not "$kind: no volume was opened" '^initrd: MAPPED '
	tap_no_secret_bytes "$FIX/root.key" "$FIX/other.key"
	cp "$RUN/serial.txt" "$RUN/serial-$kind.txt"
done
tap_done
