# shellcheck shell=bash
# Fixtures for coco-secret's tests: a scratch directory, LUKS images made
# with the cryptsetup CLI (PBKDF2, 1000 iterations: fast), table bytes
# written independently of coco-secret, and a runner that keeps every
# command's output so the tests can check no secret byte ever reached it.

set -u
. "$TOP/tests/lib/tap.sh"
. "$TOP/tests/lib/luks.sh"

: "${COCO_SECRET:?COCO_SECRET must name the coco-secret binary}"
FIX=$(mktemp -d "${TMPDIR:-/tmp}/coco-secret-test.XXXXXX")
trap 'rm -rf "$FIX"' EXIT
ALL_OUTPUT=$FIX/all-output
SECRET_FILES=$FIX/secret-files
: >"$ALL_OUTPUT"
: >"$SECRET_FILES"

# GUIDs for the tests that source this file.
# shellcheck disable=SC2034
DISK_GUID=736869e5-84f0-4973-92ec-06879ce3da0b
# shellcheck disable=SC2034
GUID_A=aaaaaaaa-1111-4111-8111-111111111111
# shellcheck disable=SC2034
GUID_B=bbbbbbbb-2222-4222-8222-222222222222
# shellcheck disable=SC2034
ZERO_GUID=00000000-0000-0000-0000-000000000000

# new_secret FILE: random printable bytes in FILE, remembered for the leak check.
new_secret() {
	printf 'coco-%s' "$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')" >"$1"
	remember_secret "$1"
}

remember_secret() {
	echo "$1" >>"$SECRET_FILES"
}

# cs ARGS...: runs coco-secret; RC is its status, OUT a file with its
# stdout and stderr. The output joins ALL_OUTPUT for the leak check.
cs() {
	OUT=$FIX/out
	"$COCO_SECRET" "$@" >"$OUT" 2>&1
	RC=$?
	cat "$OUT" >>"$ALL_OUTPUT"
	return 0
}

# cs_reveal ARGS...: like cs, for the one command allowed to print secrets.
cs_reveal() {
	OUT=$FIX/out-reveal
	"$COCO_SECRET" "$@" >"$OUT" 2>&1
	RC=$?
}

out_has() { grep -qF -- "$1" "$OUT"; }

# expect NAME RC TEXT: the last command exited with RC and said TEXT.
expect() {
	if [ "$RC" = "$2" ] && out_has "$3"; then
		tap_ok "$1"
	else
		tap_not_ok "$1"
		echo "#   expected status $2 and '$3'; got status $RC:"
		sed 's/^/#   | /' "$OUT"
	fi
}

# out_lacks NAME ERE: the last command said something, and nothing
# matching ERE.
out_lacks() {
	tap_absent "$1" "$OUT" "$2"
}

# failed_without NAME FILE: the last command failed, said why, and left
# no FILE behind.
failed_without() {
	if [ "$RC" != 0 ] && [ -s "$OUT" ] && [ ! -e "$2" ] && [ ! -L "$2" ]; then
		tap_ok "$1"
	else
		tap_not_ok "$1"
		echo "#   status $RC, output $(wc -c <"$OUT" 2>/dev/null || echo none) bytes, $2 $([ -e "$2" ] && echo exists || echo absent)"
	fi
}

# no_token NAME IMG ID: IMG is a LUKS2 volume (luksDump reads it) without
# a token ID.
no_token() {
	local dump
	if ! dump=$(cryptsetup luksDump "$2" 2>/dev/null) || ! grep -q '^Tokens:' <<<"$dump"; then
		tap_not_ok "$1"
		echo "#   $2 is not a readable LUKS2 volume"
	elif [ -n "$(token_json "$2" "$3")" ]; then
		tap_not_ok "$1"
		echo "#   token $3: $(token_json "$2" "$3")"
	else
		tap_ok "$1"
	fi
}

# refuses IMG KEYFILE: the volume is readable and KEYFILE opens no
# keyslot (cryptsetup's status 2: no key available with this passphrase).
refuses() {
	cryptsetup isLuks "$1" || return 1
	cryptsetup open --test-passphrase --key-file "$2" "$1" 2>/dev/null
	[ $? = 2 ]
}

# add_token IMG KEYSLOT GUID: a token without a MAC, as coco-secret made them before.
add_token() {
	printf '{"type":"coco-efi-secret","keyslots":["%s"],"guid":"%s"}' "$2" "$3" |
		cryptsetup token import "$1" >/dev/null
}

# token_mac IMG KEYSLOT GUID SECRETFILE: the MAC the token should carry,
# computed by the test's own implementation (tests/lib/luks2-forge.py).
token_mac() {
	"$TOP/tests/lib/luks2-forge.py" "$1" mac "$2" "$3" "$4"
}

hex_of() { od -An -tx1 -v "$1" | tr -d ' \n'; }

# no_secret_in_output NAME: no remembered secret's bytes in any output;
# "not ok" when there was no output or no secret to look for.
no_secret_in_output() {
	local all f leaked='' looked=0
	all=$(hex_of "$ALL_OUTPUT")
	while read -r f; do
		[ -s "$f" ] || continue
		looked=$((looked + 1))
		case $all in *"$(hex_of "$f")"*) leaked="$leaked $f" ;; esac
	done <"$SECRET_FILES"
	if [ -z "$leaked" ] && [ -s "$ALL_OUTPUT" ] && [ "$looked" -gt 0 ]; then
		tap_ok "$1"
	else
		tap_not_ok "$1"
		echo "#   secrets seen in output:$leaked"
	fi
}

# Table bytes, made here without coco-secret's code.
# le32 N: N as 8 hex digits, little-endian.
le32() {
	printf '%02x%02x%02x%02x' $(($1 & 255)) $((($1 >> 8) & 255)) \
		$((($1 >> 16) & 255)) $((($1 >> 24) & 255))
}

# efi_guid GUID: its 16 bytes in EFI order (first three fields little-endian).
efi_guid() {
	local g=${1//-/}
	printf '%s' "${g:6:2}${g:4:2}${g:2:2}${g:0:2}${g:10:2}${g:8:2}${g:14:2}${g:12:2}${g:16:16}"
}

HEADER_GUID=1e74f542-71dd-4d66-963e-ef4287ff173b

# hex_entry GUID DATA-HEX: one entry with the right length.
hex_entry() {
	printf '%s%s%s' "$(efi_guid "$1")" "$(le32 $((20 + ${#2} / 2)))" "$2"
}

# hex_table BODY-HEX: header with the right length, then BODY.
hex_table() {
	printf '%s%s%s' "$(efi_guid "$HEADER_GUID")" "$(le32 $((20 + ${#1} / 2)))" "$1"
}

# write_hex FILE HEX...
write_hex() {
	local f=$1
	shift
	printf '%s' "$@" | xxd -r -p >"$f"
}

# Zeros as hex.
zeros() { head -c "$1" /dev/zero | od -An -tx1 -v | tr -d ' \n'; }

# opens IMG KEYFILE [SLOT]: the key file opens the volume (or that keyslot).
opens() {
	cryptsetup open --test-passphrase --key-file "$2" ${3:+--key-slot "$3"} "$1" 2>/dev/null
}

keyslot_count() {
	cryptsetup luksDump "$1" | grep -cE '^  [0-9]+: luks2|^Key Slot [0-9]+: ENABLED' || true
}

# token_json IMG ID: the token's JSON without white space, or nothing.
token_json() {
	cryptsetup token export --token-id "$2" "$1" 2>/dev/null | tr -d ' \n\t'
}

# The SEV launch vectors (../shared/vectors/sev/VECTORS.md), beside the
# project's checkout. need_sev_vectors: VEC names them, or the test
# skips, saying where it looked, and exits.
VEC=$TOP/../shared/vectors/sev
need_sev_vectors() {
	if [ ! -f "$VEC/VECTORS.md" ]; then
		tap_skip "SEV launch vectors" "no $VEC/VECTORS.md (the shared vectors are not beside this checkout)"
		tap_done
		exit 0
	fi
}

# is_digest NAME EXPECTED ARGS...: coco-secret ARGS exits 0 and prints EXPECTED.
is_digest() {
	local name=$1 want=$2
	shift 2
	cs "$@"
	if [ "$RC" = 0 ] && [ "$(cat "$OUT")" = "$want" ]; then
		tap_ok "$name"
	else
		tap_not_ok "$name"
		echo "#   expected status 0 and $want; got status $RC:"
		sed 's/^/#   | /' "$OUT"
	fi
}
