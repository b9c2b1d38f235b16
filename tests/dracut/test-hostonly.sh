#!/usr/bin/env bash
# A host-only image (dracut --hostonly, systemd mode) built from the
# guest's own /etc/crypttab: the root (key file none: the disk-passphrase
# GUID) and a data volume whose key file is a secret with a GUID of its
# own. No rd.luks.* on the command line: coco-unlock reads the image's
# crypttab, opens both with their two secrets, wipes both; the
# systemd-cryptsetup units find both active; the root mounts the data
# volume.
#
# The build host has neither volume, so the entries carry dracut's
# "force" option (without it, the crypt module keeps only entries for
# devices present on the build host). dracut sees the guest's crypttab
# through a bind mount in a private mount namespace.
set -u
. "$TOP/tests/lib/tap.sh"
. "$TOP/tests/dracut/lib.sh"

dracut_test_start hostonly
CRYPTTAB=$DRACUT_WORK/guest-crypttab
cat >"$CRYPTTAB" <<EOT
# <name>  <device>  <key file>  <options>  (the guest's /etc/crypttab)
cryptroot UUID=$ROOT_UUID none luks,force
cryptdata UUID=$DATA_UUID /sys/kernel/security/secrets/coco/$GUID_DATA luks,force
EOT
dracut_image systemd-hostonly --guest-crypttab "$CRYPTTAB" --hostonly --add coco-unlock ||
	tap_not_ok "dracut builds the host-only image"
lsinitrd -f etc/crypttab "$IMAGE" >"$RUN/crypttab" 2>/dev/null
tap_check "the image's crypttab has the root" grep -q "^cryptroot /dev/disk/by-uuid/$ROOT_UUID none" "$RUN/crypttab"
tap_check "the image's crypttab has the data volume" \
	grep -q "^cryptdata /dev/disk/by-uuid/$DATA_UUID /sys/kernel/security/secrets/coco/$GUID_DATA" "$RUN/crypttab"

secret_table "$RUN/table.bin" "$GUID_DISK=$FIX/root.key" "$GUID_DATA=$FIX/data.key"
dracut_boot hostonly "$IMAGE" \
	"root=/dev/mapper/cryptroot cocotest.guids=$GUID_DISK,$GUID_DATA systemd.journald.forward_to_console=1" \
	"$RUN/table.bin" "$DFIX/root.img" "$FIX/data.img"
tap_serial "coco-unlock opened the root with the disk GUID" "coco-unlock: cryptroot: unlocked .* with secret $GUID_DISK"
tap_serial "coco-unlock opened the data volume with its own GUID" "coco-unlock: cryptdata: unlocked .* with secret $GUID_DATA"
tap_serial "systemd-cryptsetup: root already active" 'systemd-cryptsetup.*: Volume cryptroot already active'
tap_serial "systemd-cryptsetup: data already active" 'systemd-cryptsetup.*: Volume cryptdata already active'
tap_serial_not "no failed unit" 'FAILED|Failed to start'
tap_serial_not "no passphrase prompt" 'Please enter passphrase'
tap_serial "switch_root reached the encrypted root" '^ROOT-OK root$'
tap_serial "the root is cryptroot" '^VOLUME-ROOT cryptroot$'
tap_serial "the data volume is open and readable from the root" '^VOLUME-OK cryptdata data$'
tap_serial "the root's secret is gone" "^root: SECRET-GONE $GUID_DISK\$"
tap_serial "the data volume's secret is gone" "^root: SECRET-GONE $GUID_DATA\$"
tap_no_secret_bytes "$FIX/root.key" "$FIX/data.key"
tap_done
