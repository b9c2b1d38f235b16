#!/usr/bin/env bash
# The guest owner's flow, end to end: coco-secret enrolls a keyslot and a
# coco-efi-secret token for a generated secret and builds the secret
# table; coco-inject.efi injects it; in the guest, coco-unlock is given no
# volume and no key on the command line, finds the disk by its token,
# opens it through the token's keyslot and wipes the secret.
set -u
. "$TOP/tests/lib/tap.sh"
. "$TOP/tests/boot/lib.sh"

GUID_OWNER=9f1c3d5e-2b4a-4c6d-8e0f-1a2b3c4d5e6f
OTHER=e6f5a162-d67f-4750-a67c-5d065f2a9910
boot_test_start coco-secret
if [ ! -x "${COCO_SECRET:-}" ]; then
	tap_not_ok "coco-secret is built (COCO_SECRET=${COCO_SECRET:-unset})"
	tap_done
	exit 1
fi

# The shared root image stays as it is; enroll a copy.
cp "$FIX/root.img" "$RUN/enrolled.img"
tap_check "coco-secret enroll --generate" "$COCO_SECRET" enroll "$RUN/enrolled.img" \
	--guid "$GUID_OWNER" --generate "$RUN/owner.secret" --unlock-key-file "$FIX/root.key"
tap_check "coco-secret build" "$COCO_SECRET" build -o "$RUN/table.bin" \
	"$GUID_OWNER=$RUN/owner.secret" "$OTHER=$FIX/other.key"
tap_check "coco-secret check" "$COCO_SECRET" check "$RUN/table.bin"

tap_boot coco-secret "cocotest.root=luks-$ROOT_UUID cocotest.guids=$GUID_OWNER,$OTHER" \
	"$RUN/table.bin" "$RUN/enrolled.img"
tap_is "coco-unlock exit status" 0 "$(serial_value COCO-UNLOCK-EXIT)"
tap_serial "the disk was found by its token, not by configuration" \
	"coco-unlock: found /dev/vdb by scan: it has a coco-efi-secret token"
tap_serial "opened through the token's keyslot with the owner's secret" \
	"coco-unlock: luks-$ROOT_UUID: unlocked /dev/vdb with secret $GUID_OWNER \(token, keyslot 1\)"
tap_serial "switch_root reached the encrypted root" '^ROOT-OK root$'
tap_serial "the owner's secret is gone, seen from the root" "^root: SECRET-GONE $GUID_OWNER\$"
tap_serial "the other secret is still there" "^root: SECRET-PRESENT $OTHER\$"

# The generated secret is binary: look for its bytes in hex.
secret_hex=$(xxd -p "$RUN/owner.secret" | tr -d '\n')
if xxd -p "$RUN/serial.txt" | tr -d '\n' | grep -q "${secret_hex:0:24}"; then
	tap_not_ok "no byte of the generated secret on the console"
else
	tap_ok "no byte of the generated secret on the console"
fi
tap_no_secret_bytes "$FIX/other.key"
tap_done
