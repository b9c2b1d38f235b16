#!/usr/bin/env bash
# The token plugin in the bare harness: the initramfs runs `cryptsetup
# open --token-only` (cocotest.mode=plugin), and libcryptsetup opens the
# root through libcryptsetup-token-coco-efi-secret.so, which loads
# efi_secret and mounts securityfs itself and hands over the secret the
# token names (enrolled by coco-secret, with a MAC). coco-unlock only
# wipes, as a late hook: the secret is gone from the root, the other one
# stays. Then a token for a secret that is not injected: cryptsetup
# fails, nothing opens, the fallback runs.
set -u
. "$TOP/tests/lib/tap.sh"
. "$TOP/tests/boot/lib.sh"

BOOT_PLUGIN=${BOOT_PLUGIN:-$BUILD/libcryptsetup-token-coco-efi-secret.so}
if [ ! -f "$BOOT_PLUGIN" ] || [ ! -x "${COCO_SECRET:-}" ]; then
	tap_not_ok "the plugin and coco-secret are built ($BOOT_PLUGIN, ${COCO_SECRET:-unset})"
	tap_done
	exit 1
fi
export BOOT_PLUGIN
OTHER=e6f5a162-d67f-4750-a67c-5d065f2a9910
GUID_PLUG=5c0c0e5e-7a1b-4c2d-9e3f-0a1b2c3d4e5f
boot_test_start plugin

# The root with a coco-efi-secret token, as the guest owner enrolls it.
cp "$FIX/root.img" "$RUN/root.img"
"$COCO_SECRET" enroll "$RUN/root.img" --guid "$GUID_PLUG" --generate "$RUN/plug.key" \
	--unlock-key-file "$FIX/root.key" >"$RUN/enroll.out" 2>&1
tap_is "coco-secret enrolled the root (keyslot and token with a MAC)" 0 "$?"
secret_table "$RUN/table.bin" "$GUID_PLUG=$RUN/plug.key" "$OTHER=$FIX/other.key"

ARGS="cocotest.mode=plugin cocotest.uuid=$ROOT_UUID cocotest.root=luks-$ROOT_UUID rd.luks.uuid=$ROOT_UUID"
tap_boot plugin "$ARGS cocotest.guids=$GUID_PLUG,$OTHER" "$RUN/table.bin" "$RUN/root.img"
tap_serial_not "securityfs was not mounted before cryptsetup ran" "^plugin: securityfs mounted before"
tap_is "cryptsetup open --token-only succeeded" 0 "$(serial_value PLUGIN-OPEN-EXIT)"
tap_serial "libcryptsetup opened the token's keyslot" "^Key slot 1 unlocked"
tap_serial "the plugin mounted securityfs" "^plugin: securityfs mounted after cryptsetup"
tap_serial "the plugin loaded efi_secret" "^plugin: efi_secret loaded after cryptsetup"
tap_serial "the secret was still there for the late wipe" "coco-unlock: wiped secret $GUID_PLUG"
tap_is "the late coco-unlock --wipe-only succeeded" 0 "$(serial_value LATE-WIPE-EXIT)"
tap_serial "switch_root reached the encrypted root" '^ROOT-OK root$'
tap_serial "the root is the volume cryptsetup mapped" "^VOLUME-ROOT luks-$ROOT_UUID\$"
tap_serial "the token's secret is gone, seen from the root" "^root: SECRET-GONE $GUID_PLUG\$"
tap_serial "the unused secret is still there" "^root: SECRET-PRESENT $OTHER\$"
tap_serial_not "no fallback" '^FALLBACK$'
tap_no_secret_bytes "$RUN/plug.key" "$FIX/other.key" "$FIX/root.key"

# The token's secret not injected: libcryptsetup finds no usable token.
RUN=$BOOT_RUNS/plugin-absent; rm -rf "$RUN"; mkdir -p "$RUN"
cp "$BOOT_RUNS/plugin/root.img" "$RUN/root.img"
secret_table "$RUN/table.bin" "$OTHER=$FIX/other.key"
tap_boot plugin-absent "$ARGS cocotest.guids=$OTHER" "$RUN/table.bin" "$RUN/root.img"
tap_serial "cryptsetup failed" '^PLUGIN-OPEN-EXIT=[1-9]'
tap_serial "the plugin said which secret is not there" "coco-efi-secret: token 0: secret $GUID_PLUG is not there"
tap_serial "libcryptsetup: no usable token" "No usable token is available"
tap_serial "nothing opened: the fallback" '^FALLBACK$'
tap_serial "the other secret is untouched" "^initrd: SECRET-PRESENT $OTHER\$"
tap_no_secret_bytes "$BOOT_RUNS/plugin/plug.key" "$FIX/other.key" "$FIX/root.key"
tap_done
