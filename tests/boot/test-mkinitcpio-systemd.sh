#!/usr/bin/env bash
# sd-coco-unlock (mkinitcpio-hook/install/sd-coco-unlock) in an initramfs
# laid out the way mkinitcpio's systemd hook lays one out (mkinitcpio is
# not packaged by Debian): tests/boot/mkinitcpio/build-image.sh runs the
# build() of the stand-ins for base, systemd and sd-encrypt (Debian 12's
# systemd 252, tests/boot/mkinitcpio/install/) and of the real
# sd-coco-unlock; systemd is the image's /init, and runs the units.
#   happy: rd.luks.uuid=; coco-unlock.service opens the root before
#          cryptsetup-pre.target, systemd-cryptsetup@ finds it active,
#          coco-unlock-wipe.service runs before initrd-switch-root.target,
#          the root sees the used secret gone.
#   wrong: a secret that does not open it: coco-unlock leaves it closed,
#          systemd-cryptsetup's prompt comes on the serial console, the
#          passphrase is typed there, the boot completes, the tried secret
#          is gone.
#   off:   rd.coco=0: coco-unlock opens nothing, the prompt is typed, and
#          only coco-unlock-wipe.service can have wiped the secret the
#          configuration names.
# The encrypted root is the dracut tests' (it has the /etc/os-release
# systemd's switch-root wants); dracut_boot_typed types at the prompt.
set -u
. "$TOP/tests/lib/tap.sh"
. "$TOP/tests/dracut/lib.sh"

OTHER=e6f5a162-d67f-4750-a67c-5d065f2a9910
PROMPT='Please enter passphrase for disk'
MAPPER=luks-$ROOT_UUID
# journald forwards the units' messages to the serial console.
ROOT_ARGS="root=/dev/mapper/$MAPPER rd.luks.uuid=$ROOT_UUID cocotest.guids=$GUID_DISK,$OTHER systemd.journald.forward_to_console=1"
UNITDIR=usr/lib/systemd/system

boot_test_start mkinitcpio-systemd
BASE=$RUN
if ! dracut_fixtures; then
	tap_not_ok "fixtures: the encrypted root with os-release"
	tap_done
	exit 1
fi

# --- the image -------------------------------------------------------------------
IMG=$BASE/initrd.img
# shellcheck disable=SC2086 # the hook list: words
mkinitcpio_image "$IMG" ${COCO_TEST_MKINITCPIO_SD_HOOKS:-base systemd sd-coco-unlock sd-encrypt}
rc=$?
sed 's/^/#   /' "$IMG.out" | grep -v 'Running build hook' | head -n 40
tap_is "image build ran" 0 "$rc"
tree=$IMG.tree
failed=$(awk '$1 == "CALL" && $2 != 0 { $1 = $2 = ""; sub(/^ +/, ""); print }' "$IMG.log" 2>/dev/null | sort -u)
# The test kernel has ciphers built in and AF_ALG as modules under
# /crypto/, so add_all_modules '/crypto/' finds some: no add_* call fails.
tap_is "build(): no add_* call failed" "" "$failed"
tap_check "the image's /init is systemd" cmp -s /usr/lib/systemd/systemd "$tree/init"
if [ -e "$BASE/bin/coco-unlock.static" ]; then bin=$BASE/bin/coco-unlock.static; else bin=$BASE/bin/coco-unlock; fi
tap_check "build(): coco-unlock as /usr/bin/coco-unlock" cmp -s "$bin" "$tree/usr/bin/coco-unlock"
for u in coco-unlock.service coco-unlock-wipe.service; do
	tap_check "build(): $u in the image" cmp -s "$TOP/mkinitcpio-hook/coco-unlock/$u" "$tree/$UNITDIR/$u"
done
tap_is "build(): coco-unlock.service enabled (sysinit.target.wants)" "../coco-unlock.service" \
	"$(readlink "$tree/$UNITDIR/sysinit.target.wants/coco-unlock.service")"
tap_is "build(): the wipe enabled (initrd-switch-root.target.wants)" "../coco-unlock-wipe.service" \
	"$(readlink "$tree/$UNITDIR/initrd-switch-root.target.wants/coco-unlock-wipe.service")"
tap_check "the image has systemd-cryptsetup and cryptsetup-pre.target" \
	test -x "$tree/usr/lib/systemd/systemd-cryptsetup" -a -f "$tree/$UNITDIR/cryptsetup-pre.target"
tap_check "no run-time script: nothing for a busybox init" test ! -e "$tree/hooks/sd-coco-unlock"
rm -rf "$tree"
if [ "$rc" != 0 ] || [ ! -s "$IMG" ]; then
	tap_not_ok "no image: no boot"
	tap_done
	exit 1
fi

# --- no silent no-op: the wrong variant stops the build ---------------------------
# build_refused NAME EXPECTED-ERE HOOK...: the build exits non-zero through
# die, writes no image, and says EXPECTED-ERE.
build_refused() {
	local name=$1 ere=$2 img=$BASE/$1.img
	shift 2
	mkinitcpio_image "$img" "$@"
	local rc=$?
	tap_check "$name: the build stops" test "$rc" != 0 -a ! -e "$img"
	tap_check "$name: through die" grep -qx BUILD-DIED "$img.log"
	tap_check "$name: the error says so" grep -qE -- "$ere" "$img.out"
	rm -rf "$img.tree"
}
build_refused "coco-unlock in a systemd image" "ERROR: .*use 'sd-coco-unlock' instead" \
	base systemd coco-unlock sd-encrypt
build_refused "sd-coco-unlock in a busybox image" "ERROR: .*use 'coco-unlock' instead" \
	base sd-coco-unlock encrypt

# line_of ERE: the number of the first line of the serial log matching ERE.
line_of() {
	grep -anE -- "$1" "$RUN/serial.txt" | head -n 1 | cut -d: -f1
}
# tap_before NAME ERE1 ERE2: both lines are there, the first one first.
tap_before() {
	local a b
	a=$(line_of "$2") b=$(line_of "$3")
	if [ -n "$a" ] && [ -n "$b" ] && [ "$a" -lt "$b" ]; then
		tap_ok "$1"
	else
		tap_not_ok "$1 (lines '${a:-none}' and '${b:-none}')"
	fi
}

# --- happy: coco-unlock.service opens the root -------------------------------------
RUN=$BASE/happy
mkdir -p "$RUN"
secret_table "$RUN/table.bin" "$GUID_DISK=$FIX/root.key" "$OTHER=$FIX/other.key"
dracut_boot mkinitcpio-systemd-happy "$IMG" "$ROOT_ARGS" "$RUN/table.bin" "$DFIX/root.img"
tap_serial "happy: coco-unlock.service ran and finished" 'Finished coco-unlock\.service'
tap_serial "happy: coco-unlock opened the root" "coco-unlock: $MAPPER: unlocked "
tap_before "happy: coco-unlock.service finished before systemd-cryptsetup@ started" \
	'Finished coco-unlock\.service' 'Starting systemd-cryptsetup@'
tap_serial "happy: systemd-cryptsetup found it already active" "systemd-cryptsetup.*: Volume $MAPPER already active"
tap_serial "happy: systemd-cryptsetup@ succeeded" 'Finished systemd-cryptsetup@'
tap_before "happy: coco-unlock-wipe.service finished before initrd-switch-root.target" \
	'Finished coco-unlock-wipe\.service' 'Reached target initrd-switch-root\.target'
tap_serial_not "happy: no failed unit" 'FAILED|Failed to start'
tap_serial_not "happy: no passphrase prompt" "$PROMPT"
tap_serial "happy: switch_root reached the encrypted root" '^ROOT-OK root$'
tap_serial "happy: the root is the mapped volume" "^VOLUME-ROOT $MAPPER\$"
tap_serial "happy: the used secret is gone, seen from the root" "^root: SECRET-GONE $GUID_DISK\$"
tap_serial "happy: the unused secret is still there (wipe=used)" "^root: SECRET-PRESENT $OTHER\$"
tap_no_secret_bytes "$FIX/root.key" "$FIX/other.key"

# --- wrong secret: systemd's prompt, typed ---------------------------------------
RUN=$BASE/wrong
mkdir -p "$RUN"
secret_table "$RUN/table.bin" "$GUID_DISK=$FIX/wrong.key" "$OTHER=$FIX/other.key"
dracut_boot_typed mkinitcpio-systemd-wrong "$IMG" "$ROOT_ARGS" "$RUN/table.bin" "$PROMPT" "$FIX/root.key" "$DFIX/root.img"
tap_serial "wrong: coco-unlock left the root closed" "coco-unlock: $MAPPER: .*left closed"
tap_serial_not "wrong: coco-unlock.service did not fail (status 1 is the fallback)" \
	'Failed to start coco-unlock|coco-unlock\.service: Failed'
tap_check "wrong: systemd-cryptsetup's prompt appeared" test -n "$PROMPT_SECONDS"
tap_serial "wrong: the typed passphrase opened the root: switch_root" '^ROOT-OK root$'
tap_serial "wrong: the tried secret is gone, seen from the root" "^root: SECRET-GONE $GUID_DISK\$"
tap_no_secret_bytes "$FIX/root.key" "$FIX/wrong.key" "$FIX/other.key"

# --- rd.coco=0: the wipe unit alone ----------------------------------------------
RUN=$BASE/off
mkdir -p "$RUN"
secret_table "$RUN/table.bin" "$GUID_DISK=$FIX/root.key" "$OTHER=$FIX/other.key"
dracut_boot_typed mkinitcpio-systemd-off "$IMG" "$ROOT_ARGS rd.coco=0" "$RUN/table.bin" "$PROMPT" "$FIX/root.key" "$DFIX/root.img"
tap_serial_not "off: coco-unlock opened nothing" "coco-unlock: $MAPPER: unlocked"
tap_check "off: systemd-cryptsetup's prompt appeared" test -n "$PROMPT_SECONDS"
tap_serial "off: coco-unlock-wipe.service ran" 'Finished coco-unlock-wipe\.service'
tap_serial "off: the typed passphrase opened the root: switch_root" '^ROOT-OK root$'
tap_serial "off: the secret the configuration names is gone, seen from the root" "^root: SECRET-GONE $GUID_DISK\$"
tap_no_secret_bytes "$FIX/root.key" "$FIX/other.key"
tap_done
