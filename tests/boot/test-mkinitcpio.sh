#!/usr/bin/env bash
# The mkinitcpio hook (mkinitcpio-hook/) in an initramfs laid out and built
# the way mkinitcpio builds one (mkinitcpio is not packaged by Debian):
# tests/boot/mkinitcpio/build-image.sh sources the hooks' install scripts
# - the real install/coco-unlock, stand-ins for base and encrypt, and the
# test hook cocotest - and runs their build() with add_* functions that
# copy into the image (modules from the test kernel's tree); the image's
# /init (tests/boot/mkinitcpio/init) runs the hooks as mkinitcpio's does.
#   happy: cryptdevice=/dev/vdb:root; coco-unlock's run_hook opens it, the
#          encrypt stand-in finds /dev/mapper/root and skips it, the root
#          is mounted, the cleanup hooks run in reverse order, switch_root
#          reaches the root, which sees the used secret gone.
#   wrong: cryptdevice=UUID=...:root and a secret that does not open it:
#          coco-unlock leaves it closed, the encrypt stand-in says it would
#          prompt, the secret is wiped anyway.
# COCO_TEST_MKINITCPIO_HOOKS overrides the build's hook list (default
# "base cocotest coco-unlock encrypt"), to see the checks fail on a wrong
# order, e.g. "base cocotest encrypt coco-unlock".
set -u
. "$TOP/tests/lib/tap.sh"
. "$TOP/tests/boot/lib.sh"

OTHER=e6f5a162-d67f-4750-a67c-5d065f2a9910
boot_test_start mkinitcpio
BASE=$RUN

# --- the image, made by the hooks' build() ------------------------------------
# install/coco-unlock takes a *.static file for the static build; the
# dynamic build under another name.
IMG=$BASE/initrd.img
# shellcheck disable=SC2086 # the hook list: words
mkinitcpio_image "$IMG" ${COCO_TEST_MKINITCPIO_HOOKS:-base cocotest coco-unlock encrypt}
rc=$?
if [ -e "$BASE/bin/coco-unlock.static" ]; then
	bin=$BASE/bin/coco-unlock.static kind=static
else
	bin=$BASE/bin/coco-unlock kind=dynamic
fi
sed 's/^/#   /' "$IMG.out"
tap_is "image build ran" 0 "$rc"
tree=$IMG.tree
mods=$tree/usr/lib/modules/$KERNEL_RELEASE

# Calls of the build log that failed ("CALL <status> <fn> <args>").
failed=$(awk '$1 == "CALL" && $2 != 0 { $1 = $2 = ""; sub(/^ +/, ""); print }' "$IMG.log" 2>/dev/null)
# The test kernel has ciphers built in and AF_ALG as modules under
# /crypto/, so add_all_modules '/crypto/' finds some: no add_* call fails.
tap_is "build(): no add_* call failed" "" "$failed"
tap_check "build(): added the $kind coco-unlock as /usr/bin/coco-unlock" \
	cmp -s "$bin" "$tree/usr/bin/coco-unlock"
tap_check "add_runscript: /hooks/coco-unlock is the hook's run-time script" \
	cmp -s "$TOP/mkinitcpio-hook/hooks/coco-unlock" "$tree/hooks/coco-unlock"
tap_check "add_module: efi_secret from the kernel's tree" test -f "$mods/kernel/efi_secret.ko"
tap_check "add_module: dm-crypt and its dependency dm-mod" \
	test -f "$mods/kernel/dm-crypt.ko" -a -f "$mods/kernel/dm-mod.ko"
tap_check "depmod ran on the image's modules" grep -q '^kernel/dm-crypt.ko: kernel/dm-mod.ko' "$mods/modules.dep"
tap_is "/config: HOOKS lists the run_hook scripts in HOOKS order" \
	'HOOKS="coco-unlock encrypt"' "$(grep '^HOOKS=' "$tree/config" 2>/dev/null)"
tap_is "/config: CLEANUPHOOKS in reverse order" \
	'CLEANUPHOOKS="coco-unlock cocotest"' "$(grep '^CLEANUPHOOKS=' "$tree/config" 2>/dev/null)"
rm -rf "$tree"
if [ "$rc" != 0 ] || [ ! -s "$IMG" ]; then
	tap_not_ok "no image: no boot"
	tap_done
	exit 1
fi
INITRD=$IMG

# seq_of: the hook calls and the hand-over, in the order the guest ran them.
seq_of() {
	grep -aE '^(HOOKFN|SWITCH-ROOT|ROOT-OK)' "$RUN/serial.txt" | cut -d' ' -f1-3 | tr '\n' ';'
}

# --- happy: the coco-unlock hook opens the root -------------------------------
RUN=$BASE/happy
mkdir -p "$RUN"
secret_table "$RUN/table.bin" "$GUID_DISK=$FIX/root.key" "$OTHER=$FIX/other.key"
tap_boot mkinitcpio-happy "cryptdevice=/dev/vdb:root root=/dev/mapper/root cocotest.guids=$GUID_DISK,$OTHER" \
	"$RUN/table.bin" "$FIX/root.img"
tap_is "happy: the hooks ran in mkinitcpio's order, then switch_root" \
	"HOOKFN run_hook coco-unlock;HOOKFN run_hook encrypt;HOOKFN run_latehook cocotest;HOOKFN run_cleanuphook coco-unlock;HOOKFN run_cleanuphook cocotest;SWITCH-ROOT /new_root /sbin/init;ROOT-OK root;" \
	"$(seq_of)"
tap_serial "happy: coco-unlock opened cryptdevice= /dev/vdb" "coco-unlock: .*unlocked /dev/vdb"
tap_serial "happy: the encrypt stand-in found /dev/mapper/root and skipped it" '^ENCRYPT-SKIPPED root$'
tap_serial_not "happy: the encrypt stand-in would not prompt" '^ENCRYPT-WOULD-PROMPT'
tap_serial "happy: root= mounted before the late hooks" '^late: ROOT-MOUNTED$'
tap_serial "happy: the used secret is gone after run_hook" "^late: SECRET-GONE $GUID_DISK\$"
tap_serial "happy: the unused secret is still there (wipe=used)" "^late: SECRET-PRESENT $OTHER\$"
tap_serial "happy: the mapping is named as cryptdevice= says" '^initrd: MAPPED root$'
tap_serial "happy: switch_root reached the encrypted root" '^ROOT-OK root$'
tap_serial "happy: the root is the mapped volume" '^VOLUME-ROOT root$'
tap_serial "happy: the used secret is gone, seen from the root" "^root: SECRET-GONE $GUID_DISK\$"
tap_serial_not "happy: no emergency shell, no fallback" '^(EMERGENCY-SHELL|FALLBACK)'
tap_serial_not "happy: no ERROR from the init" '^ERROR:'
tap_no_secret_bytes "$FIX/root.key" "$FIX/other.key"

# --- wrong secret: left to encrypt ---------------------------------------------
RUN=$BASE/wrong
mkdir -p "$RUN"
secret_table "$RUN/table.bin" "$GUID_DISK=$FIX/wrong.key" "$OTHER=$FIX/other.key"
tap_boot mkinitcpio-wrong "cryptdevice=UUID=$ROOT_UUID:root root=/dev/mapper/root cocotest.guids=$GUID_DISK,$OTHER" \
	"$RUN/table.bin" "$FIX/root.img"
tap_serial "wrong: coco-unlock left the volume closed" 'coco-unlock: .*left closed'
tap_serial "wrong: the hook went on (exit status noted)" ':: coco-unlock: exit status 1'
tap_serial "wrong: the encrypt stand-in would prompt for it" '^ENCRYPT-WOULD-PROMPT root /dev/vdb$'
tap_serial_not "wrong: no mapping" '^initrd: MAPPED '
tap_serial "wrong: the secret it tried is wiped anyway" "^late: SECRET-GONE $GUID_DISK\$"
tap_serial "wrong: still gone after the cleanup hooks" "^cleanup: SECRET-GONE $GUID_DISK\$"
tap_serial "wrong: the cleanup hooks ran" '^HOOKFN run_cleanuphook coco-unlock$'
tap_serial "wrong: no root, so the init stops where mkinitcpio gives a shell" '^FALLBACK$'
tap_serial_not "wrong: no switch_root" '^(SWITCH-ROOT|ROOT-OK)'
tap_no_secret_bytes "$FIX/wrong.key" "$FIX/root.key" "$FIX/other.key"
tap_done
