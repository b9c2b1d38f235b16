#!/usr/bin/env bash
# What only a real kernel shows: a volume that is already active counts as
# open (exit 0, nothing tried again), and --wipe-only unlinks the secret
# the key choice names from real securityfs. The boot keeps the secrets
# (rd.coco.wipe=none) until the --wipe-only run asks for wipe=used. Then
# a mapping of the volume's name on another disk (the data volume, opened
# by the init as "decoy") does not count as the volume being open.
set -u
. "$TOP/tests/lib/tap.sh"
. "$TOP/tests/boot/lib.sh"

OTHER=e6f5a162-d67f-4750-a67c-5d065f2a9910
boot_test_start again
GUID_DATA=8a3c1f0e-5b7d-4e2a-9c61-0d4f2b8e7a15
secret_table "$RUN/table.bin" "$GUID_DISK=$FIX/root.key" "$OTHER=$FIX/other.key" "$GUID_DATA=$FIX/data.key"

tap_boot again "rd.luks.uuid=$ROOT_UUID rd.coco.wipe=none cocotest.again cocotest.decoy=$GUID_DATA cocotest.root=luks-$ROOT_UUID cocotest.guids=$GUID_DISK,$OTHER" \
	"$RUN/table.bin" "$FIX/root.img" "$FIX/data.img"
tap_is "first run: exit status" 0 "$(serial_value COCO-UNLOCK-EXIT)"
tap_serial "first run: left the secrets in place (wipe=none)" "coco-unlock: secrets left in place"
tap_is "second run: exit status 0" 0 "$(serial_value COCO-UNLOCK-AGAIN-EXIT)"
tap_serial "second run: the volume is already active" "coco-unlock: luks-$ROOT_UUID: already active"
tap_is "one unlock only" 1 "$(grep -ac 'coco-unlock: .*unlocked /dev/vdb' "$RUN/serial.txt")"
tap_is "--wipe-only: exit status 0" 0 "$(serial_value COCO-WIPE-ONLY-EXIT)"
tap_serial "--wipe-only: wiped the disk secret" "coco-unlock: wiped secret $GUID_DISK"
tap_is "decoy: the init opened the data volume under the root's name" 0 "$(serial_value DECOY-OPEN-EXIT)"
tap_serial "decoy: not counted as the root being open" \
	"coco-unlock: decoy: a mapping of that name is active on another device or volume; left alone"
tap_is "decoy: exit status 1" 1 "$(serial_value COCO-UNLOCK-DECOY-EXIT)"
tap_serial "switch_root reached the encrypted root" '^ROOT-OK root$'
tap_serial "the disk secret is gone, seen from the root" "^root: SECRET-GONE $GUID_DISK\$"
tap_serial "the other secret is still there" "^root: SECRET-PRESENT $OTHER\$"
tap_no_secret_bytes "$FIX/root.key" "$FIX/other.key" "$FIX/data.key"
tap_done
