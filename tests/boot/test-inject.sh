#!/usr/bin/env bash
# The harness itself, without coco-unlock: coco-inject.efi publishes the
# secret area, the kernel finds it (CocoSecret= in its efi: line), and
# efi_secret exposes each secret of a table built by coco-secret with
# exactly the injected bytes (compared by SHA-256 inside the guest). Then the chain by hand: cryptsetup opens
# the encrypted root with the securityfs file as key file, the secret is
# unlinked, and switch_root reaches the root, where it is still gone.
set -u
. "$TOP/tests/lib/tap.sh"
. "$TOP/tests/boot/lib.sh"

OTHER=e6f5a162-d67f-4750-a67c-5d065f2a9910
boot_test_start inject
# The table comes from coco-secret, as a guest owner makes it; the
# harness's own builder (used for the broken tables) must agree with it
# byte for byte.
tap_check "coco-secret builds the table" "$COCO_SECRET" build -o "$RUN/table.bin" \
	"$GUID_DISK=$FIX/root.key" "$OTHER=$FIX/other.key"
secret_table "$RUN/harness-table.bin" "$GUID_DISK=$FIX/root.key" "$OTHER=$FIX/other.key"
tap_check "coco-secret's table and the harness's are the same bytes" \
	cmp "$RUN/table.bin" "$RUN/harness-table.bin"

tap_boot inject "cocotest.mode=manual cocotest.uuid=$ROOT_UUID cocotest.key=$GUID_DISK cocotest.guids=$GUID_DISK,$OTHER" \
	"$RUN/table.bin" "$FIX/root.img"
tap_serial "the injector installed the config table" 'coco-inject: secret area at 0x[0-9A-F]+, size 0x1000 .*installed'
tap_serial "the kernel found the secret area" 'efi: .*CocoSecret=0x'
tap_serial "efi_secret created 2 entries" 'efi_secret efi_secret.0: Created 2 entries in securityfs secrets/coco'
for g in "$GUID_DISK" "$OTHER"; do
	case $g in "$GUID_DISK") key=$FIX/root.key ;; *) key=$FIX/other.key ;; esac
	want=$(sha256sum <"$key" | cut -d' ' -f1)
	got=$(grep -aoE "initrd: SECRET-SHA256 $g [0-9a-f]+" "$RUN/serial.txt" | awk '{ print $4 }')
	if [ "$got" = "$want" ]; then
		tap_ok "secret $g reads back byte for byte (hash match)"
	else
		tap_not_ok "secret $g reads back byte for byte (hash mismatch)"
	fi
done
tap_serial "cryptsetup opened the root with the securityfs file" '^MANUAL-OPEN-EXIT=0$'
tap_serial "switch_root reached the encrypted root" '^ROOT-OK root$'
tap_serial "the used secret is gone, seen from the root" "^root: SECRET-GONE $GUID_DISK\$"
tap_serial "the other secret is still there" "^root: SECRET-PRESENT $OTHER\$"
tap_done
