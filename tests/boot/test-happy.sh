#!/usr/bin/env bash
# Happy path: coco-unlock in the initramfs opens the encrypted root
# (rd.luks.uuid=, default mapping name luks-UUID) with the injected
# disk-passphrase secret, unlinks that secret (rd.coco.wipe=used, the
# default) and leaves the other one; switch_root reaches the root, which
# sees the used secret gone from securityfs.
set -u
. "$TOP/tests/lib/tap.sh"
. "$TOP/tests/boot/lib.sh"

OTHER=e6f5a162-d67f-4750-a67c-5d065f2a9910
boot_test_start happy
secret_table "$RUN/table.bin" "$GUID_DISK=$FIX/root.key" "$OTHER=$FIX/other.key"

# The kernel has AF_ALG as modules (as Debian's do) and the image has none
# of them: the static build's crypto is its own.
af_alg_modular() {
	local m dep=$KERNEL_DIR/modules/lib/modules/$KERNEL_RELEASE/modules.dep
	for m in af_alg algif_hash algif_skcipher; do
		grep -qE "/$m\.ko:" "$dep" || return 1
	done
}
tap_check "the kernel has af_alg, algif_hash and algif_skcipher as modules" af_alg_modular

tap_boot happy "rd.luks.uuid=$ROOT_UUID cocotest.root=luks-$ROOT_UUID cocotest.guids=$GUID_DISK,$OTHER" \
	"$RUN/table.bin" "$FIX/root.img"
tap_is "coco-unlock exit status" 0 "$(serial_value COCO-UNLOCK-EXIT)"
tap_serial "coco-unlock logged the unlock" "coco-unlock: .*unlocked /dev/vdb"
tap_serial "the mapping has the default name" "^initrd: MAPPED luks-$ROOT_UUID\$"
tap_serial "switch_root reached the encrypted root" '^ROOT-OK root$'
tap_serial "the root is the mapped volume" "^VOLUME-ROOT luks-$ROOT_UUID\$"
tap_serial "the used secret is gone, seen from the root" "^root: SECRET-GONE $GUID_DISK\$"
tap_serial "the unused secret is still there (wipe=used)" "^root: SECRET-PRESENT $OTHER\$"
tap_serial_not "no fallback" '^FALLBACK$'
tap_is "none of them was loaded in the guest" none "$(serial_value AF-ALG-LOADED)"
tap_no_secret_bytes "$FIX/root.key" "$FIX/other.key"
tap_done
