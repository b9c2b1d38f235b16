#!/usr/bin/env bash
# The host swaps the root disk for a forged one, and the guest must not
# boot it. Three boots of the bare harness with the static coco-unlock:
#   segment:  the owner's header with its data segment switched to
#             cipher_null (the real secret still verifies): refused by the
#             header policy, the initramfs reaches its passphrase fallback,
#             the secret is wiped, the other one stays;
#   poweroff: the same disk with rd.coco.on-failure=poweroff: coco-unlock
#             wipes, then powers the guest off; no fallback, no prompt;
#   keyslot:  keyslot 0 made a cipher_null one (CVE-2025-59054). The control
#             first: plain cryptsetup 2.6.1 in the guest "opens" it with a
#             wrong secret (on 6.1; 6.12 has no cipher_null-ecb for it, so
#             there the kernel stops it too); then coco-unlock refuses it.
# A genuine-root control (the same table and parameters on the real disk)
# is tests/boot/test-happy.sh.
set -u
. "$TOP/tests/lib/tap.sh"
. "$TOP/tests/boot/lib.sh"

OTHER=e6f5a162-d67f-4750-a67c-5d065f2a9910
WRONG=0badbad0-1111-4111-8111-111111111111
FORGE=$TOP/tests/lib/luks2-forge.py
boot_test_start forged
BASE=$RUN
CMD="rd.luks.uuid=$ROOT_UUID cocotest.root=luks-$ROOT_UUID cocotest.guids=$GUID_DISK,$OTHER"
secret_table "$BASE/table.bin" "$GUID_DISK=$FIX/root.key" "$OTHER=$FIX/other.key"

# forged NAME OPS...: a forged copy of the root disk, $BASE/NAME.img.
forged() {
	local name=$1
	shift
	cp --sparse=always "$FIX/root.img" "$BASE/$name.img"
	"$FORGE" "$BASE/$name.img" "$@"
}

# --- the data segment switched to cipher_null -----------------------------------
forged segment set segments.0.encryption '"cipher_null-ecb"'
RUN=$BASE/segment
mkdir -p "$RUN"
tap_boot segment "$CMD" "$BASE/table.bin" "$BASE/segment.img"
tap_serial "segment: refused by the header policy" \
	"coco-unlock: luks-$ROOT_UUID: /dev/vdb refused by the header policy: segment 0: encryption cipher_null-ecb is not allowed"
tap_is "segment: coco-unlock exit status 1" 1 "$(serial_value COCO-UNLOCK-EXIT)"
tap_serial_not "segment: nothing mapped" '^initrd: MAPPED '
tap_serial "segment: the passphrase fallback runs" '^FALLBACK$'
tap_serial "segment: the root's secret is wiped" "^initrd: SECRET-GONE $GUID_DISK\$"
tap_serial "segment: the other secret stays" "^initrd: SECRET-PRESENT $OTHER\$"
tap_no_secret_bytes "$FIX/root.key" "$FIX/other.key"

# --- the same, failing closed ------------------------------------------------------
RUN=$BASE/poweroff
mkdir -p "$RUN"
esp_image "$RUN/esp.img" "$BOOT_CMDLINE_BASE $CMD rd.coco.on-failure=poweroff" "$BASE/table.bin" &&
	boot_vm "$RUN/serial.log" "$RUN/esp.img" "$BASE/segment.img"
rc=$?
cp "$RUN/serial.log.txt" "$RUN/serial.txt" 2>/dev/null || : >"$RUN/serial.txt"
boot_drop_serial poweroff
serial_show ''
tap_is "poweroff: the guest powered off by itself, before its timeout (${BOOT_SECONDS:-?}s)" 0 "$rc"
tap_serial "poweroff: refused by the header policy" "coco-unlock: luks-$ROOT_UUID: .*refused by the header policy"
tap_serial "poweroff: wiped before powering off" "coco-unlock: wiped secret $GUID_DISK"
tap_serial "poweroff: said so" "coco-unlock: luks-$ROOT_UUID: left closed and on-failure=poweroff: powering off"
# Its end marker is coco-unlock's own last line: the init never goes on.
POWEROFF_END='on-failure=poweroff: powering off'
tap_absent "poweroff: no passphrase fallback, no switch_root" "$RUN/serial.txt" \
	'^(FALLBACK|COCO-UNLOCK-EXIT|ROOT-OK|GUEST-DONE)' "$POWEROFF_END"
tap_absent_bytes "poweroff: no secret bytes on the console" "$RUN/serial.txt" "$POWEROFF_END" \
	"$FIX/root.key" "$FIX/other.key"

# --- keyslot 0 made a cipher_null keyslot (any passphrase "opens" it) -------------------
vkdir=$(mktemp -d)
cryptsetup luksDump -q --dump-volume-key --volume-key-file "$vkdir/vk" --key-file "$FIX/root.key" \
	"$FIX/root.img" >/dev/null
forged keyslot null-keyslot 0 "$vkdir/vk"
rm -rf "$vkdir"
secret_table "$BASE/table-wrong.bin" "$GUID_DISK=$FIX/root.key" "$OTHER=$FIX/other.key" "$WRONG=$FIX/wrong.key"
RUN=$BASE/keyslot
mkdir -p "$RUN"
# The control's cryptsetup (Debian's, OpenSSL) has no cipher_null of its
# own: it asks the kernel's AF_ALG, which this image then carries and the
# init loads for it (coco-unlock needs none of it).
BOOT_EXTRA_MODULES=algif_skcipher boot_initramfs || exit 1
tap_boot keyslot "$CMD cocotest.anykey=$WRONG" "$BASE/table-wrong.bin" "$BASE/keyslot.img"
# The control: on 6.1 plain cryptsetup takes the wrong secret (the CVE).
# 6.12's crypto API has no cipher_null-ecb for cryptsetup's keyslot check,
# so there the kernel itself stops plain cryptsetup, which must say so.
if [ "${KERNEL_SERIES:-6.1}" = 6.1 ]; then
	tap_is "keyslot (control): plain cryptsetup 2.6.1 accepts a wrong secret on it" 0 "$(serial_value ANYKEY-EXIT)"
else
	tap_serial "keyslot (control): on $KERNEL_SERIES plain cryptsetup cannot use the cipher either" \
		'^Cannot use cipher_null-ecb cipher for keyslot encryption'
	tap_is "keyslot (control): and fails" 1 "$(serial_value ANYKEY-EXIT)"
fi
tap_serial "keyslot: coco-unlock refuses it" \
	"coco-unlock: luks-$ROOT_UUID: /dev/vdb refused by the header policy: keyslot 0: area encryption cipher_null-ecb"
tap_is "keyslot: coco-unlock exit status 1" 1 "$(serial_value COCO-UNLOCK-EXIT)"
tap_serial_not "keyslot: nothing mapped" '^initrd: MAPPED '
tap_serial "keyslot: the passphrase fallback runs" '^FALLBACK$'
tap_serial "keyslot: the root's secret is wiped" "^initrd: SECRET-GONE $GUID_DISK\$"
tap_no_secret_bytes "$FIX/root.key" "$FIX/other.key" "$FIX/wrong.key"
rm -f "$BASE"/*.img
tap_done
