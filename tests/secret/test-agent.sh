#!/usr/bin/env bash
# End to end on files: coco-secret enrolls a LUKS2 image and builds the
# table; coco-unlock --dry-run, given the secret as efi_secret would show
# it, opens the image through the token's keyslot.
. "$TOP/tests/secret/lib.sh"
cd "$FIX" || exit 1

if [ ! -x "${COCO_UNLOCK:-}" ]; then
	tap_skip "coco-unlock opens a volume enrolled by coco-secret" "no coco-unlock binary"
	tap_done
	exit
fi

new_secret pass0
mkdir devices secrets
make_luks devices/disk.img luks2 pass0
cs enroll devices/disk.img --guid "$DISK_GUID" --generate disk.secret --unlock-key-file pass0
expect "enroll" 0 "keyslot 1, token 0"
remember_secret disk.secret
cs build -o secret.table "$DISK_GUID=disk.secret"
expect "build" 0 "1 secrets"

# What efi_secret would show: the entry's data (after the 20-byte header
# and the entry's 20-byte GUID and length), in a file named by its GUID.
dd if=secret.table of="secrets/$DISK_GUID" bs=1 skip=40 count=32 status=none
tap_check "the table's entry holds the generated secret" cmp -s disk.secret "secrets/$DISK_GUID"

uuid=$(cryptsetup luksUUID devices/disk.img)
echo "rd.luks.uuid=$uuid" >cmdline
: >crypttab
OUT=$FIX/agent-out
"$COCO_UNLOCK" --secrets-dir secrets --cmdline cmdline --crypttab crypttab \
	--devices-dir devices --dry-run >"$OUT" 2>&1
RC=$?
cat "$OUT" >>"$ALL_OUTPUT"
expect "coco-unlock opens it through the token's keyslot" 0 "(token, keyslot 1)"

no_secret_in_output "no secret bytes in any output"
tap_done
