#!/usr/bin/env bash
# Fault boots: what the host can do to a guest besides forging headers.
# Each asserts that the boot goes on, to the real root or to the fallback
# (where the standard prompt would be), within bounded time, and that the
# secrets meant for a volume are gone:
#   io-header     I/O errors (QEMU blkdebug) on every read of the LUKS
#                 header's first sector: the device never shows as LUKS,
#                 coco-unlock gives up after rd.coco.timeout
#   io-keyslot    I/O errors on the keyslot area only: the header reads,
#                 the keyslot cannot: refused at once
#   io-data       I/O errors on the data area's first sectors: the mapping
#                 is made, the root cannot be mounted through it: fallback
#   kill-mid      coco-unlock killed with SIGKILL in the middle of a slow
#                 keyslot, in the bare harness (its init then runs
#                 --wipe-only, as a late hook) and in the mkinitcpio-style
#                 image (its cleanup hook); nothing catches SIGKILL
#   small-ram     a 256 MiB guest and an argon2id keyslot of 512 MiB:
#                 refused by the memory budget, no OOM kill
#   hotplug       the root disk hot-plugged (QMP device_add on a PCIe root
#                 port) 5 s into the wait: opened when it appears
#   full-area     64 secrets, the disk key the 64th; a table of 70 entries
#                 (efi_secret shows 64), the disk key first
set -u
. "$TOP/tests/lib/tap.sh"
. "$TOP/tests/boot/lib.sh"

OTHER=e6f5a162-d67f-4750-a67c-5d065f2a9910
GUID_DATA=8a3c1f0e-5b7d-4e2a-9c61-0d4f2b8e7a15
boot_test_start faults
BASE=$RUN
BARE="rd.luks.uuid=$ROOT_UUID cocotest.root=luks-$ROOT_UUID cocotest.guids=$GUID_DISK,$OTHER"
secret_table "$BASE/table.bin" "$GUID_DISK=$FIX/root.key" "$OTHER=$FIX/other.key"

run_in() { # NAME: a fresh run directory
	RUN=$BASE/$1
	rm -rf "$RUN"
	mkdir -p "$RUN"
}

# A root variant with another keyslot: fixtures/NAME.img, made once.
root_variant() { # NAME PBKDF-OPTIONS...
	local name=$1
	shift
	local inputs=("$BOOT_SRC/lib.sh" "$BOOT_SRC/root-init" "$FIX/root.key" "$*")
	fixture_fresh "$name" "${inputs[@]}" && return 0
	root_tree "$FIX/$name-tree" root || return 1
	LUKS_PBKDF="$*" luks_image "$FIX/$name.img" "$FIX/$name-tree" "$ROOT_UUID" "$FIX/root.key" || return 1
	rm -rf "$FIX/$name-tree"
	fixture_done "$name" "${inputs[@]}"
}

# --- I/O errors ---------------------------------------------------------------------
blkdebug_rules() { # FILE SECTOR: EIO on every read that covers SECTOR
	printf '[inject-error]\nevent = "read_aio"\nerrno = "5"\nsector = "%s"\nonce = "off"\n' "$2" >"$1"
}
run_in io-header
blkdebug_rules "$RUN/rules" 0
tap_boot io-header "$BARE rd.coco.timeout=8" "$BASE/table.bin" "blkdebug:$RUN/rules:$FIX/root.img"
tap_serial "io-header: coco-unlock gives up on the device" "coco-unlock: luks-$ROOT_UUID: device .* did not appear within 8 s"
tap_less_than "io-header: within the timeout and a bit (ms)" 12000 "$(serial_value COCO-UNLOCK-MS)"
tap_serial "io-header: the fallback runs" '^FALLBACK$'
tap_serial "io-header: the secret meant for it is gone" "^initrd: SECRET-GONE $GUID_DISK\$"
tap_serial "io-header: the other stays" "^initrd: SECRET-PRESENT $OTHER\$"

run_in io-keyslot
blkdebug_rules "$RUN/rules" 64
tap_boot io-keyslot "$BARE" "$BASE/table.bin" "blkdebug:$RUN/rules:$FIX/root.img"
tap_serial "io-keyslot: refused: its keyslot cannot be read" \
	"coco-unlock: luks-$ROOT_UUID: /dev/vdb refused: keyslot 0: cannot read its area: (I/O|Input/output) error"
tap_less_than "io-keyslot: at once (ms)" 5000 "$(serial_value COCO-UNLOCK-MS)"
tap_serial "io-keyslot: the fallback runs" '^FALLBACK$'
tap_serial "io-keyslot: the secret meant for it is gone" "^initrd: SECRET-GONE $GUID_DISK\$"

# Creating the mapping reads nothing from the disk; the first reads through
# it do. EIO on the data area's first sectors (the file system's superblock):
# the volume opens, the root cannot be mounted, the boot goes on to the
# fallback, and the secret is gone all the same.
data_sector=$(cryptsetup luksDump "$FIX/root.img" 2>/dev/null | awk '/^Data segments:/ { d = 1 } d && /offset:/ { print $2 / 512 + 2; exit }')
run_in io-data
blkdebug_rules "$RUN/rules" "${data_sector:-32770}"
tap_boot io-data "$BARE" "$BASE/table.bin" "blkdebug:$RUN/rules:$FIX/root.img"
tap_serial "io-data: the volume opens (the mapping is made)" "coco-unlock: luks-$ROOT_UUID: .*unlocked"
tap_serial "io-data: the root cannot be mounted through it" "^ROOT-MOUNT-FAILED /dev/mapper/luks-$ROOT_UUID\$"
tap_less_than "io-data: at once (ms)" 5000 "$(serial_value COCO-UNLOCK-MS)"
tap_serial "io-data: the fallback runs" '^FALLBACK$'
tap_serial "io-data: the secret is gone" "^initrd: SECRET-GONE $GUID_DISK\$"

# --- SIGKILL in the middle of a keyslot ---------------------------------------------------
# 20000 PBKDF2 iterations: seconds under TCG, so the kill lands mid-keyslot.
root_variant slow-root --pbkdf pbkdf2 --pbkdf-force-iterations 20000 --hash sha256 ||
	tap_not_ok "kill-mid: the slow root disk"
secret_table "$BASE/table-data.bin" "$GUID_DISK=$FIX/root.key" "$OTHER=$FIX/other.key" "$GUID_DATA=$FIX/data.key"
run_in kill-mid
tap_boot kill-mid "rd.luks.uuid=$ROOT_UUID rd.luks.uuid=$DATA_UUID rd.coco.key=$DATA_UUID:$GUID_DATA cocotest.killmid cocotest.guids=$GUID_DISK,$GUID_DATA,$OTHER" \
	"$BASE/table-data.bin" "$FIX/slow-root.img" "$FIX/data.img"
tap_serial "kill-mid: coco-unlock was killed by SIGKILL after its first read" '^KILLED-MID 137$'
tap_serial "kill-mid: the secret it read is gone already (unlink-first)" "^after-kill: SECRET-GONE $GUID_DISK\$"
tap_serial "kill-mid: the data volume's secret, not read yet, is still there" "^after-kill: SECRET-PRESENT $GUID_DATA\$"
tap_serial "kill-mid: the late wipe succeeds" '^LATE-WIPE-EXIT=0$'
tap_serial "kill-mid: after it, the data secret is gone too" "^late: SECRET-GONE $GUID_DATA\$"
tap_serial "kill-mid: and the unrelated one stays" "^late: SECRET-PRESENT $OTHER\$"

run_in kill-mid-mkinitcpio
if mkinitcpio_image "$RUN/initrd.img" base cocotest cocokill coco-unlock encrypt; then
	INITRD_BARE=$INITRD
	INITRD=$RUN/initrd.img
	tap_boot kill-mid-mkinitcpio "cryptdevice=/dev/vdb:root root=/dev/mapper/root rd.coco.key=$DATA_UUID:$GUID_DATA rd.luks.uuid=$DATA_UUID cocotest.guids=$GUID_DISK,$GUID_DATA,$OTHER" \
		"$BASE/table-data.bin" "$FIX/slow-root.img" "$FIX/data.img"
	INITRD=$INITRD_BARE
	tap_serial "kill-mid-mkinitcpio: coco-unlock was killed mid-keyslot" '^KILLED-MID$'
	tap_serial "kill-mid-mkinitcpio: the cleanup hook removed the root's secret" "^cleanup: SECRET-GONE $GUID_DISK\$"
	tap_serial "kill-mid-mkinitcpio: and the data volume's" "^cleanup: SECRET-GONE $GUID_DATA\$"
	tap_serial "kill-mid-mkinitcpio: not the unrelated one" "^cleanup: SECRET-PRESENT $OTHER\$"
else
	tap_not_ok "kill-mid-mkinitcpio: the image ($(tail -n 1 "$RUN/initrd.img.out"))"
fi

# --- a keyslot that wants more memory than the guest has ------------------------------------
root_variant big-argon2 --pbkdf argon2id --pbkdf-memory 524288 --pbkdf-force-iterations 4 --pbkdf-parallel 1 ||
	tap_not_ok "small-ram: the argon2id root disk"
run_in small-ram
BOOT_MEM_MIB=256 tap_boot small-ram "$BARE" "$BASE/table.bin" "$FIX/big-argon2.img"
tap_serial "small-ram: refused by the memory budget" \
	"coco-unlock: luks-$ROOT_UUID: keyslot 0 is not tried: keyslot 0: argon2id memory 524288 KiB is over the budget"
tap_serial_not "small-ram: no OOM kill" 'Out of memory|oom-kill|Killed process'
tap_serial "small-ram: the fallback runs" '^FALLBACK$'
tap_serial "small-ram: the secret meant for it is gone" "^initrd: SECRET-GONE $GUID_DISK\$"

# --- the disk hot-plugged while coco-unlock waits ---------------------------------------------
run_in hotplug
cp --sparse=always "$FIX/root.img" "$RUN/hotplug.img"
boot_hotplug "$RUN/hotplug.img" "$BARE rd.coco.timeout=40" "$BASE/table.bin"
boot_drop_serial hotplug
serial_show ''
tap_is "hotplug: the disk was plugged 5 s into the wait" 1 "$HOTPLUG_PLUGGED"
tap_is "hotplug: the VM ran to its end" 0 "$HOTPLUG_RC"
tap_serial "hotplug: the root opened when it appeared" "coco-unlock: luks-$ROOT_UUID: unlocked /dev/vd"
tap_less_than "hotplug: within the timeout (ms)" 40000 "$(serial_value COCO-UNLOCK-MS)"
tap_serial "hotplug: switch_root reached the root" '^ROOT-OK root$'
tap_serial "hotplug: the secret is gone, seen from the root" "^root: SECRET-GONE $GUID_DISK\$"
hotplug_times
tap_diag "hotplug: virtio_blk saw the disk at ${HOTPLUG_SEEN_AT:-?} s, coco-unlock picked it up at ${HOTPLUG_PICKED_AT:-?} s and unlocked it at ${HOTPLUG_UNLOCKED_AT:-?} s (kernel time)"

# --- a full secret area ---------------------------------------------------------------------------
fill=()
for i in $(seq 1 69); do
	printf 'filler secret %02d' "$i" >"$BASE/filler-$i"
	fill+=("$(printf 'f111%04x-0000-4000-8000-000000000000' "$i")=$BASE/filler-$i")
done
secret_table "$BASE/table-64.bin" "${fill[@]:0:63}" "$GUID_DISK=$FIX/root.key"
run_in full-64
tap_boot full-64 "rd.luks.uuid=$ROOT_UUID cocotest.root=luks-$ROOT_UUID cocotest.guids=$GUID_DISK" \
	"$BASE/table-64.bin" "$FIX/root.img"
tap_serial "full-64: efi_secret shows 64 entries" 'Created 64 entries in securityfs secrets/coco'
tap_serial "full-64: coco-unlock lists 64" 'coco-unlock: 64 secret\(s\) in'
tap_serial "full-64: the 64th opens the root" '^ROOT-OK root$'
tap_serial "full-64: and is gone, seen from the root" "^root: SECRET-GONE $GUID_DISK\$"
secret_table "$BASE/table-70.bin" "$GUID_DISK=$FIX/root.key" "${fill[@]}"
run_in full-70
tap_boot full-70 "rd.luks.uuid=$ROOT_UUID cocotest.root=luks-$ROOT_UUID cocotest.guids=$GUID_DISK" \
	"$BASE/table-70.bin" "$FIX/root.img"
tap_serial "full-70: efi_secret shows only 64 of the 70" 'Created 64 entries in securityfs secrets/coco'
tap_serial "full-70: the first opens the root" '^ROOT-OK root$'
tap_serial "full-70: and is gone, seen from the root" "^root: SECRET-GONE $GUID_DISK\$"
tap_no_secret_bytes "$FIX/root.key"
tap_done
