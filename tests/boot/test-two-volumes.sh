#!/usr/bin/env bash
# Two encrypted volumes, root and data, each with its own secret
# (rd.luks.name=UUID=NAME and rd.coco.key=UUID:GUID): both are opened,
# both secrets are unlinked, a third one stays; the root mounts the data
# volume and reads its marker.
set -u
. "$TOP/tests/lib/tap.sh"
. "$TOP/tests/boot/lib.sh"

GUID_ROOT=0c0c5ec1-0000-4000-8000-0000000000a1
GUID_DATA=0c0c5ec1-0000-4000-8000-0000000000d2
OTHER=e6f5a162-d67f-4750-a67c-5d065f2a9910
boot_test_start two-volumes
secret_table "$RUN/table.bin" "$GUID_ROOT=$FIX/root.key" "$GUID_DATA=$FIX/data.key" "$OTHER=$FIX/other.key"

tap_boot two-volumes "rd.luks.name=$ROOT_UUID=root rd.luks.name=$DATA_UUID=data rd.coco.key=$ROOT_UUID:$GUID_ROOT rd.coco.key=$DATA_UUID:$GUID_DATA cocotest.guids=$GUID_ROOT,$GUID_DATA,$OTHER" \
	"$RUN/table.bin" "$FIX/root.img" "$FIX/data.img"
tap_is "coco-unlock exit status" 0 "$(serial_value COCO-UNLOCK-EXIT)"
tap_serial "root is mapped" '^initrd: MAPPED root$'
tap_serial "data is mapped" '^initrd: MAPPED data$'
tap_serial "switch_root reached the encrypted root" '^ROOT-OK root$'
tap_serial "the data volume mounts from the root" '^VOLUME-OK data data$'
tap_serial "the root is the mapped volume root" '^VOLUME-ROOT root$'
tap_serial "the root's secret is gone" "^root: SECRET-GONE $GUID_ROOT\$"
tap_serial "the data volume's secret is gone" "^root: SECRET-GONE $GUID_DATA\$"
tap_serial "the unused secret is still there" "^root: SECRET-PRESENT $OTHER\$"
tap_no_secret_bytes "$FIX/root.key" "$FIX/data.key" "$FIX/other.key"
tap_done
