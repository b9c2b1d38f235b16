#!/usr/bin/env bash
# No secret area (the injector is given no table): coco-unlock says so
# and exits 3 at once, without waiting for rd.coco.timeout; the initramfs
# reaches its fallback and nothing hangs.
set -u
. "$TOP/tests/lib/tap.sh"
. "$TOP/tests/boot/lib.sh"

boot_test_start no-area
tap_boot no-area "rd.luks.uuid=$ROOT_UUID cocotest.guids=$GUID_DISK" - "$FIX/root.img"
tap_serial "the injector booted without a secret area" 'coco-inject: no .*secret-table.masked: booting without a secret area'
tap_serial_not "the kernel saw no secret area" 'CocoSecret='
tap_is "coco-unlock exit status (no secrets)" 3 "$(serial_value COCO-UNLOCK-EXIT)"
tap_less_than "coco-unlock gave up quickly (ms)" 5000 "$(serial_value COCO-UNLOCK-MS)"
tap_serial "coco-unlock said why" 'coco-unlock: .*no secret'
tap_serial "the initramfs reached its fallback" '^FALLBACK$'
tap_serial_not "no volume was opened" '^initrd: MAPPED '
tap_done
