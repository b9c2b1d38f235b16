#!/usr/bin/env bash
# dracut systemd mode without coco-unlock.service (coco_unlock_service=no):
# systemd-cryptsetup itself opens the root through the coco-efi-secret
# token plugin the module copied into the image (libcryptsetup finds it
# in its plugin directory), with no prompt; then the pre-pivot hook's
# coco-unlock --wipe-only removes the secret, which the root sees gone.
# systemd-cryptsetup says how it opened the volume only at debug level
# (252: "Volume NAME activated with LUKS token id N."): a drop-in in the
# image gives it SYSTEMD_LOG_LEVEL=debug, and journald forwards debug
# lines to the console.
set -u
. "$TOP/tests/lib/tap.sh"
. "$TOP/tests/dracut/lib.sh"

PLUGIN=${COCO_UNLOCK_PLUGIN:-$BUILD/libcryptsetup-token-coco-efi-secret.so}
OTHER=e6f5a162-d67f-4750-a67c-5d065f2a9910
GUID_PLUG=5c0c0e5e-7a1b-4c2d-9e3f-0a1b2c3d4e5f
PROMPT='Please enter passphrase for disk'

dracut_test_start systemd-plugin
if [ ! -f "$PLUGIN" ] || [ ! -x "${COCO_SECRET:-}" ]; then
	tap_not_ok "the plugin and coco-secret are built ($PLUGIN, ${COCO_SECRET:-unset})"
	tap_done
	exit 1
fi
mkdir -p "$DRACUT_WORK/plugin"
printf '[Service]\nEnvironment=SYSTEMD_LOG_LEVEL=debug\n' >"$DRACUT_WORK/plugin/debug.conf"
COCO_UNLOCK_PLUGIN=$PLUGIN coco_unlock_service=no \
	dracut_image systemd-plugin --no-hostonly --add coco-unlock \
	--include "$DRACUT_WORK/plugin/debug.conf" /etc/systemd/system/systemd-cryptsetup@.service.d/debug.conf ||
	tap_not_ok "dracut builds the systemd-mode image without coco-unlock.service"
PLUGIN_IMG=$IMAGE
lsinitrd "$PLUGIN_IMG" >"$RUN/../systemd-plugin.list" 2>/dev/null
tap_check "the image has the token plugin in libcryptsetup's plugin directory" \
	grep -qE 'lib/x86_64-linux-gnu/cryptsetup/libcryptsetup-token-coco-efi-secret\.so$' "$RUN/../systemd-plugin.list"
tap_absent "the image has no coco-unlock.service" "$RUN/../systemd-plugin.list" 'coco-unlock\.service' \
	'systemd-cryptsetup$'
tap_check "the image has the pre-pivot wipe" grep -q 'pre-pivot/10-coco-unlock-wipe.sh$' "$RUN/../systemd-plugin.list"

# The root with a coco-efi-secret token (and its MAC), as the guest owner enrolls it.
cp "$DFIX/root.img" "$RUN/root.img"
"$COCO_SECRET" enroll "$RUN/root.img" --guid "$GUID_PLUG" --generate "$RUN/plug.key" \
	--unlock-key-file "$FIX/root.key" >"$RUN/enroll.out" 2>&1
tap_is "coco-secret enrolled the root" 0 "$?"
secret_table "$RUN/table.bin" "$GUID_PLUG=$RUN/plug.key" "$OTHER=$FIX/other.key"
ARGS="root=/dev/mapper/$ROOT_MAPPER rd.luks.uuid=$ROOT_UUID cocotest.guids=$GUID_PLUG,$OTHER"
ARGS="$ARGS systemd.journald.forward_to_console=1 systemd.journald.max_level_console=debug"
dracut_boot systemd-plugin "$PLUGIN_IMG" "$ARGS" "$RUN/table.bin" "$RUN/root.img"
tap_serial "libcryptsetup loaded our plugin" "Trying to load .*/cryptsetup/libcryptsetup-token-coco-efi-secret\\.so"
# systemd 252 names the token's id; 257 says "with a LUKS token".
tap_serial "systemd-cryptsetup opened the root with the coco token" \
	"systemd-cryptsetup.*: Volume $ROOT_MAPPER activated with (LUKS token id 0|a LUKS token)\\."
tap_serial "systemd-cryptsetup@ succeeded" "Finished systemd-cryptsetup@"
tap_serial_not "no coco-unlock unit ran" 'coco-unlock\.service|coco-unlock: .*unlocked'
tap_serial_not "no passphrase prompt" "$PROMPT"
dracut_no_failed_unit
tap_serial "the pre-pivot wipe removed the secret" "coco-unlock: wiped secret $GUID_PLUG"
tap_serial "switch_root reached the encrypted root" '^ROOT-OK root$'
tap_serial "the root is the mapped volume" "^VOLUME-ROOT $ROOT_MAPPER\$"
tap_serial "the token's secret is gone, seen from the root" "^root: SECRET-GONE $GUID_PLUG\$"
tap_serial "the unused secret is still there" "^root: SECRET-PRESENT $OTHER\$"
tap_no_secret_bytes "$RUN/plug.key" "$FIX/root.key" "$FIX/other.key"
tap_done
