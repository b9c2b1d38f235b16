#!/usr/bin/env bash
# RAM scans: after the boot is over, is a consumed secret anywhere in the
# guest's memory? Each boot ends with cocotest.dump: the guest says
# DUMP-READY (from the real root, or from the fallback), the host stops it
# and dumps its whole memory through QMP (dump-guest-memory, paging off),
# and tests/boot/ramscan.c counts copies of each secret there: the whole
# value and every 12-byte piece of it. Required: 0 for every consumed one.
# Two controls make each scan able to fail: the secret nobody consumed is
# found (it is still in the secret area), and a boot whose initramfs
# copies the disk secret into a tmpfs on /run has that copy caught.
# Scans: the bare harness (happy, its control boot, a wrong secret, and
# happy again with init_on_free=1), the mkinitcpio-style image, and dracut
# images in shell and systemd mode. coco-inject.efi reads a masked table
# and zeroes its buffer, so no plain copy sits in firmware memory.
set -u
. "$TOP/tests/lib/tap.sh"
. "$TOP/tests/dracut/lib.sh"

OTHER=e6f5a162-d67f-4750-a67c-5d065f2a9910
SCAN=$BUILD/ramscan
# Every run of this test ends at DUMP-READY (the host quits the VM there).
BOOT_END_MARKER='^DUMP-READY$'
boot_test_start ramscan
BASE=$RUN
if ! [ -x "$SCAN" ] || ! dracut_fixtures; then
	tap_not_ok "ramscan: the scanner ($SCAN) and the dracut fixtures"
	tap_done
	exit 1
fi
secret_table "$BASE/table.bin" "$GUID_DISK=$FIX/root.key" "$OTHER=$FIX/other.key"
secret_table "$BASE/table-wrong.bin" "$GUID_DISK=$FIX/wrong.key" "$OTHER=$FIX/other.key"
BARE="rd.luks.uuid=$ROOT_UUID cocotest.root=luks-$ROOT_UUID cocotest.guids=$GUID_DISK,$OTHER cocotest.dump"
SUMMARY=$BASE/counts.txt
: >"$SUMMARY"

# scanned NAME INITRD CMDLINE TABLE DISK: boots with INITRD (the harness's
# when empty), dumps and scans for root.key, wrong.key and other.key; the
# counts go to $RUN/counts (and the dump is deleted).
scanned() {
	local name=$1 initrd=$2 cmdline=$3 table=$4 disk=$5
	RUN=$BASE/$name
	rm -rf "$RUN"
	mkdir -p "$RUN"
	[ -n "$initrd" ] && INITRD=$initrd
	BOOT_DUMP=$RUN/mem.dump QMP_SOCK=$RUN/qmp.sock \
		tap_boot "$name" "$cmdline" "$table" "$disk"
	if [ -s "$RUN/mem.dump" ]; then
		"$SCAN" "$RUN/mem.dump" root.key="$FIX/root.key" wrong.key="$FIX/wrong.key" \
			other.key="$FIX/other.key" >"$RUN/counts"
		tap_diag "$name: $(stat -c %s "$RUN/mem.dump") bytes dumped; $(tr '\n' ';' <"$RUN/counts")"
		sed "s/^/$name /" "$RUN/counts" >>"$SUMMARY"
	fi
	rm -f "$RUN/mem.dump"
}

# count NAME KEY FIELD: a number from the scan of boot NAME ("" if none).
count() {
	sed -n "s/^$2 .*$3=\([0-9]*\).*/\1/p" "$BASE/$1/counts" 2>/dev/null
}

# none_of NAME KEY: the consumed KEY left no copy, whole or in pieces.
none_of() {
	local whole pieces
	whole=$(count "$1" "$2" whole) pieces=$(count "$1" "$2" pieces)
	if [ "$whole" = 0 ] && [ "$pieces" = 0 ]; then
		tap_ok "$1: no copy of the consumed $2 in the guest's memory"
	else
		tap_not_ok "$1: copies of the consumed $2 in the guest's memory: whole ${whole:-?}, pieces ${pieces:-?}"
	fi
}

# found NAME KEY WHY: the control: KEY is in the dump.
found() {
	local whole
	whole=$(count "$1" "$2" whole)
	if [ -n "$whole" ] && [ "$whole" -ge 1 ]; then
		tap_ok "$1 (control): $2 is found ($whole), $3"
	else
		tap_not_ok "$1 (control): $2 not found (${whole:-no scan}), $3"
	fi
}

# --- the bare harness ----------------------------------------------------------------
INITRD_BARE=$INITRD
scanned bare-happy "$INITRD_BARE" "$BARE" "$BASE/table.bin" "$FIX/root.img"
tap_serial "bare-happy: the root secret was used and wiped" "^root: SECRET-GONE $GUID_DISK\$"
none_of bare-happy root.key
found bare-happy other.key "never consumed, still in the secret area"

scanned bare-leak "$INITRD_BARE" "$BARE cocotest.leak=$GUID_DISK" "$BASE/table.bin" "$FIX/root.img"
found bare-leak root.key "copied by the initramfs into /run: the scan catches it"

scanned bare-wrong "$INITRD_BARE" "$BARE" "$BASE/table-wrong.bin" "$FIX/root.img"
tap_serial "bare-wrong: the fallback path ran" '^FALLBACK$'
none_of bare-wrong wrong.key
found bare-wrong other.key "never consumed"

scanned bare-init-on-free "$INITRD_BARE" "$BARE init_on_free=1" "$BASE/table.bin" "$FIX/root.img"
none_of bare-init-on-free root.key
found bare-init-on-free other.key "never consumed"

# --- the mkinitcpio-style image ------------------------------------------------------------
mkdir -p "$BASE/mkinitcpio-image"
if mkinitcpio_image "$BASE/mkinitcpio-image/initrd.img" base cocotest coco-unlock encrypt; then
	scanned mkinitcpio "$BASE/mkinitcpio-image/initrd.img" \
		"cryptdevice=/dev/vdb:root root=/dev/mapper/root cocotest.guids=$GUID_DISK,$OTHER cocotest.dump" \
		"$BASE/table.bin" "$FIX/root.img"
	none_of mkinitcpio root.key
	found mkinitcpio other.key "never consumed"
else
	tap_not_ok "mkinitcpio: the image was built ($(tail -n 1 "$BASE/mkinitcpio-image/initrd.img.out"))"
fi

# --- dracut, shell and systemd mode (journald, udev and systemd running) --------------------
DRACUT_ARGS="$DRACUT_CMDLINE_BASE root=/dev/mapper/$ROOT_MAPPER rd.luks.uuid=$ROOT_UUID cocotest.guids=$GUID_DISK,$OTHER cocotest.dump"
dracut_image shell-coco --no-hostonly --omit "systemd systemd-initrd dracut-systemd" --add coco-unlock &&
	scanned dracut-shell "$IMAGE" "$DRACUT_ARGS" "$BASE/table.bin" "$DFIX/root.img"
none_of dracut-shell root.key
found dracut-shell other.key "never consumed"
dracut_image systemd-coco --no-hostonly --add coco-unlock &&
	scanned dracut-systemd "$IMAGE" "$DRACUT_ARGS systemd.journald.forward_to_console=1" \
		"$BASE/table.bin" "$DFIX/root.img"
none_of dracut-systemd root.key
found dracut-systemd other.key "never consumed"

sed 's/^/# COUNTS: /' "$SUMMARY"
tap_done
