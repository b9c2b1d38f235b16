#!/usr/bin/env bash
# coco-secret build, show and check: the bytes build writes, round trips,
# every rule by which the kernel's efi_secret rejects or ignores a table,
# sevctl-style padding, and build's refusals.
. "$TOP/tests/secret/lib.sh"
cd "$FIX" || exit 1

new_secret s1
printf 'hello' >s2
remember_secret s2
: >empty

# --- the exact bytes ---------------------------------------------------
cs build -o t1 "$DISK_GUID=s2"
tap_is "build exits 0" 0 "$RC"
write_hex expect.bin "$(hex_table "$(hex_entry "$DISK_GUID" 68656c6c6f)")" "$(zeros 3)"
tap_check "build writes header, EFI-order GUID, LE lengths, data, zero padding to 16" \
	cmp -s t1 expect.bin
tap_is "the table file is mode 0600" 600 "$(stat -c %a t1)"
cs build --no-pad -o t1n "$DISK_GUID=s2"
tap_is "--no-pad writes exactly the table's length" 45 "$(stat -c %s t1n)"

# --- round trips -------------------------------------------------------
cs build -o t2 "$GUID_A=s1" "$DISK_GUID=s2" "$GUID_B=empty"
tap_is "build of three secrets exits 0" 0 "$RC"
cs show t2
expect "show lists the first GUID and length" 0 "$GUID_A  $(stat -c %s s1) bytes"
expect "show lists the second GUID and length" 0 "$DISK_GUID  5 bytes"
expect "show lists an empty secret" 0 "$GUID_B  0 bytes"
tap_is "show lists entries in table order" "$GUID_A $DISK_GUID $GUID_B" \
	"$(grep -oE '^[0-9a-f-]{36}' "$OUT" | tr '\n' ' ' | sed 's/ $//')"
out_lacks "show without --reveal prints no data" hello
cs check t2
expect "check accepts a built table" 0 "valid: 3 secrets"
cs_reveal show --reveal t2
tap_check "show --reveal prints the data" grep -qF "$DISK_GUID  5 bytes  hello" "$OUT"
tap_check "show --reveal prints the first secret's bytes" grep -qF "$(cat s1)" "$OUT"
cs check t1n
expect "check accepts an unpadded table" 0 "valid: 1 secrets"

# --- tables written here, the way other producers do -------------------
write_hex sevctl.bin "$(hex_table "$(hex_entry "$GUID_A" 6162)")" "$(zeros 6)"
cs check sevctl.bin
expect "check accepts zero padding to a multiple of 16 (sevctl)" 0 "valid: 1 secrets"
cs show sevctl.bin
expect "show accepts zero padding" 0 "$GUID_A  2 bytes"
write_hex empty.bin "$(hex_table "")"
cs check empty.bin
expect "check accepts a table with no entries" 0 "valid: 0 secrets"
write_hex deleted.bin "$(hex_table "$(hex_entry "$ZERO_GUID" 0000)$(hex_entry "$GUID_A" 41)")"
cs check deleted.bin
expect "check accepts a deleted (all-zero GUID) entry and does not count it" 0 "valid: 1 secrets"
cs show deleted.bin
expect "show marks a deleted entry" 0 "$ZERO_GUID  2 bytes (deleted)"

# --- the kernel's rejection rules --------------------------------------
write_hex short.bin "$(efi_guid "$HEADER_GUID")" 0c00
cs check short.bin
expect "check: a file shorter than the header" 1 "header too short"
write_hex badguid.bin "$(efi_guid "$GUID_A")$(le32 20)"
cs check badguid.bin
expect "check: a wrong header GUID" 1 "header GUID is $GUID_A"
write_hex small.bin "$(efi_guid "$HEADER_GUID")$(le32 19)"
cs check small.bin
expect "check: header length under 20 (kernel: too small)" 1 "header length 19 is less than 20"
write_hex big.bin "$(efi_guid "$HEADER_GUID")$(le32 3073)$(hex_entry "$GUID_A" 41)"
cs check big.bin
expect "check: header length over the area size (kernel: too big)" 1 \
	"header length 3073 is more than the area size 3072"
cs check --area-size 44 t1n
expect "check: --area-size smaller than the table" 1 "header length 45 is more than the area size 44"
cs check --area-size 45 t1n
expect "check: a table exactly the area size is fine" 0 "valid: 1 secrets"
write_hex trunc.bin "$(efi_guid "$HEADER_GUID")$(le32 100)$(hex_entry "$GUID_A" 41)"
cs check trunc.bin
expect "check: header length past the end of the file" 1 "header length 100 is past the end"
write_hex elen.bin "$(hex_table "$(efi_guid "$GUID_A")$(le32 19)$(zeros 8)")"
cs check elen.bin
expect "check: entry length under 20 (kernel: corrupted)" 1 "entry 1 at offset 20: length 19 is less than 20"
write_hex epast.bin "$(hex_table "$(hex_entry "$GUID_A" 41)$(efi_guid "$GUID_B")$(le32 30)$(zeros 8)")"
cs check epast.bin
expect "check: entry running past the end (kernel: corrupted)" 1 \
	"entry 2 at offset 41: length 30 runs past the end of the table (28 bytes left)"
cs show epast.bin
expect "show names the fault too" 1 "entry 2 at offset 41"
tap_check "show lists the entries before the fault" grep -qF "$GUID_A  1 bytes" "$OUT"
write_hex dup.bin "$(hex_table "$(hex_entry "$GUID_A" 41)$(hex_entry "$GUID_A" 42)")"
cs check dup.bin
expect "check: a repeated GUID (kernel: cannot create the file)" 1 "repeats entry 1"
body=
for i in $(seq 1 65); do
	body=$body$(hex_entry "$(printf 'aaaaaaaa-1111-4111-8111-%012x' "$i")" "")
done
write_hex many.bin "$(hex_table "$body")"
cs check many.bin
expect "check: a 65th entry (kernel: ignored)" 1 "entry 65 at offset 1300: the kernel exposes at most 64"
body=$(hex_entry "$ZERO_GUID" "")
for i in $(seq 1 64); do
	body=$body$(hex_entry "$(printf 'aaaaaaaa-1111-4111-8111-%012x' "$i")" "")
done
write_hex many-del.bin "$(hex_table "$body")"
cs check many-del.bin
expect "check: 64 secrets after a deleted entry are all exposed" 0 "valid: 64 secrets"
write_hex stray.bin "$(hex_table "$(hex_entry "$GUID_A" 41)0000000000")"
cs check stray.bin
expect "check: stray bytes too few for an entry (kernel: ignored)" 1 "5 stray bytes at offset 41"
write_hex junk.bin "$(hex_table "$(hex_entry "$GUID_A" 41)")0000ff"
cs check junk.bin
expect "check: a non-zero byte after the length" 1 "byte at offset 43, after the table's length 41, is not zero"
write_hex pad.bin "$(hex_table "$(hex_entry "$GUID_A" 41)")$(zeros 24)"
cs check pad.bin
expect "check: zeros past the next multiple of 16" 1 "more than the padding to a multiple of 16"
cs check --area-size 46 t1
expect "check: a padded file larger than the area" 1 "the file is 48 bytes, more than the area size 46"
head -c 8000 /dev/zero >huge.bin
cs check huge.bin
expect "check: a file far larger than the area" 1 "huge.bin is larger than"

# --- build's refusals --------------------------------------------------
args=()
for i in $(seq 1 65); do
	args+=("$(printf 'aaaaaaaa-1111-4111-8111-%012x' "$i")=empty")
done
cs build -o r1 "${args[@]}"
expect "build refuses 65 secrets" 1 "65 secrets: the kernel exposes at most 64"
failed_without "a refused build writes no file" r1
cs build -o r1 "${args[@]:0:64}"
expect "build takes 64 secrets" 0 "64 secrets"
cs build -o r2 "$GUID_A=s1" "$GUID_A=s2"
expect "build refuses a repeated GUID" 1 "GUID $GUID_A is given twice"
cs build -o r2 "${GUID_A^^}=s1" "$GUID_A=s2"
expect "build refuses a repeated GUID in other case" 1 "is given twice"
cs build -o r3 "$ZERO_GUID=s1"
expect "build refuses the all-zero GUID" 1 "all-zero GUID"
head -c 3040 /dev/urandom >bigsecret
remember_secret bigsecret
cs build -o r4 "$GUID_A=bigsecret"
expect "build refuses a table over the area size" 1 "would be 3088 bytes, more than the area size 3072"
failed_without "no table over the area size was written" r4
head -c 3030 /dev/urandom >bigsecret2
remember_secret bigsecret2
cs build --area-size 3070 -o r4 "$GUID_A=bigsecret2"
expect "build counts the padding against the area size" 1 "would be 3072 bytes, more than the area size 3070"
cs build --area-size 3070 --no-pad -o r4 "$GUID_A=bigsecret2"
tap_is "without padding, the same table fits exactly" "0 3070" "$RC $(stat -c %s r4 2>/dev/null)"
cs build --area-size 64 -o r5 "$GUID_A=s1"
expect "build honours --area-size" 1 "more than the area size 64"
cs build -o r6 "not-a-guid=s1"
expect "build refuses a bad GUID (usage)" 2 "expected GUID=FILE"
cs build -o r6 "$GUID_A=missing-file"
expect "build names a missing file" 1 "cannot open missing-file"
cs build "$GUID_A=s1"
expect "build without -o is a usage error" 2 "build needs -o TABLE"
cs check --reveal t2
expect "check refuses --reveal" 2 "check does not take --reveal"
echo old >r7
chmod 644 r7
cs build -o r7 "$GUID_A=s1"
tap_is "build replaces an old table, mode 0600" "0 600" "$RC $(stat -c %a r7)"

cs --help
expect "--help shows the guest owner's flow" 0 "coco-secret enroll disk.img --guid"
expect "--help lists convert" 0 "convert --in IMAGE --out IMAGE"
cs build --help
expect "COMMAND --help works too" 0 "Usage: coco-secret COMMAND"
cs help
expect "the help command" 0 "Usage: coco-secret COMMAND"
cs --version
expect "--version" 0 "coco-secret "
cs frobnicate
expect "an unknown command: usage error" 2 "unknown command: frobnicate"
cs
expect "no command: usage error" 2 "no command"

no_secret_in_output "no secret bytes in any output but --reveal's"
tap_done
