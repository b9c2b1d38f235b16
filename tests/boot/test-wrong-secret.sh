#!/usr/bin/env bash
# The injected disk secret does not open the root: coco-unlock leaves the
# volume closed (exit 1) for the passphrase prompt, and still unlinks the
# secret it read; the other secret stays.
set -u
. "$TOP/tests/lib/tap.sh"
. "$TOP/tests/boot/lib.sh"

OTHER=e6f5a162-d67f-4750-a67c-5d065f2a9910
boot_test_start wrong-secret
secret_table "$RUN/table.bin" "$GUID_DISK=$FIX/wrong.key" "$OTHER=$FIX/other.key"

tap_boot wrong-secret "rd.luks.uuid=$ROOT_UUID cocotest.guids=$GUID_DISK,$OTHER" "$RUN/table.bin" "$FIX/root.img"
tap_serial "efi_secret created 2 entries" 'Created 2 entries in securityfs secrets/coco'
tap_is "coco-unlock exit status (left closed)" 1 "$(serial_value COCO-UNLOCK-EXIT)"
tap_less_than "coco-unlock did not wait for the timeout (ms)" 10000 "$(serial_value COCO-UNLOCK-MS)"
tap_serial_not "the volume was left closed" '^initrd: MAPPED '
tap_serial "coco-unlock said it left it closed" 'coco-unlock: .*left closed'
tap_serial "the secret it tried is wiped anyway" "^initrd: SECRET-GONE $GUID_DISK\$"
tap_serial "the unused secret is still there" "^initrd: SECRET-PRESENT $OTHER\$"
tap_serial "the initramfs reached its fallback" '^FALLBACK$'
tap_no_secret_bytes "$FIX/wrong.key" "$FIX/root.key" "$FIX/other.key"
tap_done
