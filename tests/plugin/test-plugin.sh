#!/usr/bin/env bash
# The token plugin under the real cryptsetup CLI: `cryptsetup open
# --test-passphrase --token-only` on LUKS2 image files, with the plugin
# found where libcryptsetup looks for plugins through a private mount
# namespace (unshare -m, a bind mount over that directory: nothing is
# installed on this machine). The test build of the plugin reads its
# secrets from $COCO_PLUGIN_SECRETS_DIR; the installed build is run once,
# to show it has no such door. Valid tokens (without and with a MAC,
# secrets with a trailing \n or \0), a wrong GUID, malformed tokens and
# forged headers; every output is checked for every secret's bytes.
set -u
. "$TOP/tests/lib/tap.sh"
. "$TOP/tests/lib/luks.sh"

: "${BUILD:?BUILD must name the build directory}"
PLUGIN_NAME=libcryptsetup-token-coco-efi-secret.so
TEST_PLUGIN=$BUILD/tests/plugin/$PLUGIN_NAME
REAL_PLUGIN=$BUILD/$PLUGIN_NAME
FORGE=$TOP/tests/lib/luks2-forge.py

FIX=$(mktemp -d "${TMPDIR:-/tmp}/coco-plugin-test.XXXXXX")
trap "rm -rf \"\$FIX\"" EXIT; [ -n "${KEEP:-}" ] && trap - EXIT
SECRETS=$FIX/secrets
ALL_OUTPUT=$FIX/all-output
SECRET_FILES=()
mkdir -p "$SECRETS" "$FIX/plugins" "$FIX/real"
: >"$ALL_OUTPUT"

GUID_A=aaaaaaaa-1111-4111-8111-111111111111
GUID_B=bbbbbbbb-2222-4222-8222-222222222222
GUID_C=cccccccc-3333-4333-8333-333333333333
GUID_ABSENT=dddddddd-4444-4444-8444-444444444444

# Where this libcryptsetup looks for token plugins (set when it was built).
TOKEN_DIR=$(strings "$(ldconfig -p | awk '/libcryptsetup.so.12 .*x86-64/ { print $NF; exit }')" |
	grep -m1 -E '^/(usr/)?lib[^ ]*/cryptsetup$')

if [ ! -f "$TEST_PLUGIN" ] || [ ! -f "$REAL_PLUGIN" ]; then
	tap_not_ok "the plugin is built ($TEST_PLUGIN, $REAL_PLUGIN)"
	tap_done
	exit
fi
if [ -z "$TOKEN_DIR" ] || [ ! -d "$TOKEN_DIR" ] || ! unshare -m true 2>/dev/null; then
	tap_skip "plugin tests" "needs root, unshare -m and libcryptsetup's plugin directory ($TOKEN_DIR)"
	tap_done
	exit
fi
tap_diag "libcryptsetup looks for plugins in $TOKEN_DIR"
cp "$TEST_PLUGIN" "$FIX/plugins/"
cp "$REAL_PLUGIN" "$FIX/real/"

# Under ASan the plugin needs the sanitizer runtime loaded first.
PRELOAD=
if [ "${SANITIZED:-0}" = 1 ]; then
	PRELOAD=$(gcc -print-file-name=libasan.so)
	export ASAN_OPTIONS=detect_leaks=0
fi

# new_secret FILE: random printable bytes, remembered for the leak check.
new_secret() {
	printf 'coco-%s' "$(head -c 36 /dev/urandom | od -An -tx1 | tr -d ' \n')" >"$1"
	SECRET_FILES+=("$1")
}

# in_ns PLUGINDIR CMD...: CMD in a private mount namespace where PLUGINDIR
# is libcryptsetup's plugin directory, with the test build's secrets.
in_ns() {
	local dir=$1
	shift
	unshare -m sh -c 'mount --bind "$1" "$2" && shift 2 && exec "$@"' sh "$dir" "$TOKEN_DIR" \
		env ${PRELOAD:+LD_PRELOAD=$PRELOAD} COCO_PLUGIN_SECRETS_DIR="$SECRETS" \
		COCO_PLUGIN_STATE_DIR="$FIX/state" "$@"
}

# cs_open NAME IMG [PLUGINDIR]: cryptsetup open --test-passphrase
# --token-only with PLUGINDIR (default: the test build's) in place. RC,
# OUT; the output joins ALL_OUTPUT.
cs_open() {
	OUT=$FIX/out-$1
	in_ns "${3:-$FIX/plugins}" cryptsetup open --test-passphrase --token-only --debug "$2" >"$OUT" 2>&1
	RC=$?
	cat "$OUT" >>"$ALL_OUTPUT"
}

# The same with no plugin of ours: the namespace's plugin directory is empty.
cs_open_without() {
	mkdir -p "$FIX/empty"
	cs_open "$1" "$2" "$FIX/empty"
}

opens() {
	if [ "$RC" = 0 ] && grep -qE "Key slot $2 unlocked" "$OUT"; then
		tap_ok "$1"
	else
		tap_not_ok "$1"
		echo "#   status $RC; output:"
		grep -v '^# ' "$OUT" | tail -n 8 | sed 's/^/#   | /'
	fi
}

# refused NAME ERE: not opened, and the plugin said why.
refused() {
	if [ "$RC" != 0 ] && ! grep -q "unlocked" "$OUT" && grep -qE -- "$2" "$OUT"; then
		tap_ok "$1"
	else
		tap_not_ok "$1"
		echo "#   status $RC, expected a failure saying '$2'; output:"
		grep -E 'coco-efi-secret|unlocked|token' "$OUT" | tail -n 8 | sed 's/^/#   | /'
	fi
}

# token IMG KEYSLOT GUID: a coco token without a MAC.
token() {
	printf '{"type":"coco-efi-secret","keyslots":["%s"],"guid":"%s"}' "$2" "$3" |
		cryptsetup token import "$1" >/dev/null
}

# A volume whose keyslot 1 takes secret A, with a token for it.
new_secret "$FIX/pass0"
new_secret "$FIX/secret-a"
make_luks "$FIX/a.img" luks2 "$FIX/pass0"
add_keyslot "$FIX/a.img" "$FIX/pass0" "$FIX/secret-a" 1
token "$FIX/a.img" 1 "$GUID_A"
cp "$FIX/secret-a" "$SECRETS/$GUID_A"

# --- the ABI -------------------------------------------------------------------------
syms=$(objdump -T "$REAL_PLUGIN" | awk '$2 == "g" && $4 != "*UND*" && $NF ~ /^cryptsetup_token_/ { print $(NF-1), $NF }' | sort)
tap_is "exports the six token functions, version CRYPTSETUP_TOKEN_1.0" \
	"$(printf 'CRYPTSETUP_TOKEN_1.0 cryptsetup_token_%s\n' buffer_free dump open open_pin validate version | sort)" \
	"$syms"
others=$(objdump -T "$REAL_PLUGIN" | awk '$2 == "g" && $4 != "*UND*" && $NF !~ /^(cryptsetup_token_|CRYPTSETUP_TOKEN_1.0$)/' | wc -l)
tap_is "exports nothing else" 0 "$others"

# --- opening ---------------------------------------------------------------------------
cs_open_without none "$FIX/a.img"
refused "without the plugin the token is not usable (the control)" "No usable token"

cs_open valid "$FIX/a.img"
opens "a valid token opens its keyslot through the plugin" 1

new_secret "$FIX/secret-nl"
make_luks "$FIX/nl.img" luks2 "$FIX/pass0"
add_keyslot "$FIX/nl.img" "$FIX/pass0" "$FIX/secret-nl" 1
token "$FIX/nl.img" 1 "$GUID_C"
{ cat "$FIX/secret-nl"; echo; } >"$SECRETS/$GUID_C"
cs_open newline "$FIX/nl.img"
opens "a secret written with echo (trailing \\n) opens, without its last byte" 1

# coco-secret's flow: a generated secret and a token with a MAC.
if [ -x "${COCO_SECRET:-}" ]; then
	make_luks "$FIX/mac.img" luks2 "$FIX/pass0"
	"$COCO_SECRET" enroll "$FIX/mac.img" --guid "$GUID_B" --generate "$FIX/secret-mac" \
		--unlock-key-file "$FIX/pass0" >"$FIX/out-enroll" 2>&1
	SECRET_FILES+=("$FIX/secret-mac")
	cat "$FIX/out-enroll" >>"$ALL_OUTPUT"
	cp "$FIX/secret-mac" "$SECRETS/$GUID_B"
	cs_open mac "$FIX/mac.img"
	opens "coco-secret's token, with a MAC, opens" 1
	{ cat "$FIX/secret-mac"; printf '\0'; } >"$SECRETS/$GUID_B"
	cs_open mac-nul "$FIX/mac.img"
	opens "with GRUB's trailing \\0, the MAC picks the secret without it" 1

	# The host changes what the MAC covers (an allowed cipher, so only the MAC can tell).
	cp "$FIX/secret-mac" "$SECRETS/$GUID_B"
	cp "$FIX/mac.img" "$FIX/mac-forged.img"
	python3 "$FORGE" "$FIX/mac-forged.img" set segments.0.encryption '"serpent-xts-plain64"'
	cs_open mac-forged "$FIX/mac-forged.img"
	refused "a header changed under the MAC is refused" "MAC does not match secret $GUID_B"

	in_ns "$FIX/plugins" cryptsetup luksDump "$FIX/mac.img" >"$FIX/out-dump" 2>&1
	tap_check "luksDump shows the token's secret GUID, and its keyslot" \
		grep -qzE "coco-efi-secret.*Secret GUID: $GUID_B.*Keyslot: +1" "$FIX/out-dump"
else
	tap_skip "coco-secret's token, with a MAC, opens" "no coco-secret binary"
fi

# --- refusals ---------------------------------------------------------------------------
cp "$FIX/a.img" "$FIX/absent.img"
cryptsetup token remove --token-id 0 "$FIX/absent.img"
token "$FIX/absent.img" 1 "$GUID_ABSENT"
cs_open wrong-guid "$FIX/absent.img"
refused "a token naming a secret that is not there: not opened" "secret $GUID_ABSENT is not there"
tap_check "... and libcryptsetup went on to say no token could be used" grep -q "No usable token" "$OUT"

printf '{"type":"coco-efi-secret","keyslots":["1"],"guid":"not-a-guid"}' >"$FIX/bad.json"
cp "$FIX/a.img" "$FIX/import.img"
in_ns "$FIX/plugins" cryptsetup token import --json-file "$FIX/bad.json" "$FIX/import.img" \
	>"$FIX/out-import" 2>&1
# shellcheck disable=SC2034 # read by the eval below
rc=$?
tap_check "token import of a malformed token is refused by the plugin's validate" \
	eval '[ "$rc" != 0 ] && grep -q "not a valid coco-efi-secret token" "$FIX/out-import"'

# The host writes the malformed token itself, bypassing validate.
cp "$FIX/a.img" "$FIX/malformed.img"
python3 "$FORGE" "$FIX/malformed.img" set tokens.0.guid '"not-a-guid"'
cs_open malformed "$FIX/malformed.img"
refused "a malformed token written by the host is not followed" "not a valid coco-efi-secret token"
cp "$FIX/a.img" "$FIX/malformed2.img"
python3 "$FORGE" "$FIX/malformed2.img" set tokens.0.mac '"not-hex"'
cs_open malformed-mac "$FIX/malformed2.img"
refused "a token with a malformed MAC (libcryptsetup takes the header) is not followed" \
	"not a valid coco-efi-secret token"

# A forged cipher_null keyslot for a volume key the host knows: any
# passphrase "opens" it on this libcryptsetup (2.6.1).
cryptsetup luksDump -q --dump-volume-key --volume-key-file "$FIX/a.vk" --key-file "$FIX/pass0" \
	"$FIX/a.img" >/dev/null 2>&1
cp "$FIX/a.img" "$FIX/null.img"
python3 "$FORGE" "$FIX/null.img" null-keyslot 1 "$FIX/a.vk"
tap_is "control: the forged keyslot gives the volume key without any passphrase" \
	"$(sha256sum <"$FIX/a.vk" | cut -d' ' -f1)" "$(python3 "$FORGE" "$FIX/null.img" null-key 1)"
new_secret "$FIX/wrong"
cp "$FIX/wrong" "$SECRETS/$GUID_A"
cs_open null "$FIX/null.img"
refused "the forged cipher_null keyslot is refused by the header policy" \
	"coco-efi-secret: token 0 \\(secret $GUID_A\\): .* refused: keyslot 1: .*cipher_null"
cp "$FIX/secret-a" "$SECRETS/$GUID_A"

cp "$FIX/a.img" "$FIX/slow.img"
python3 "$FORGE" "$FIX/slow.img" set keyslots.1.kdf.iterations 2147483648
cs_open slow "$FIX/slow.img"
refused "a keyslot of 2^31 PBKDF2 iterations is refused before any KDF runs" \
	"refused: keyslot 1: .*iterations"

cp "$FIX/a.img" "$FIX/ecb.img"
python3 "$FORGE" "$FIX/ecb.img" set segments.0.encryption '"aes-ecb"'
cs_open ecb "$FIX/ecb.img"
refused "an aes-ecb data segment is refused" "refused: .*aes-ecb"

head -c 5000 /dev/zero | tr '\0' 'x' >"$SECRETS/$GUID_A"
cs_open big "$FIX/a.img"
refused "a secret over 4 KiB is refused" "secret $GUID_A is larger than 4096 bytes"
rm -f "$SECRETS/$GUID_A"
mkfifo "$SECRETS/$GUID_A"
cs_open fifo "$FIX/a.img"
refused "a FIFO in the secrets directory is refused, without blocking" "secret $GUID_A is not a regular file"
rm -f "$SECRETS/$GUID_A"
cp "$FIX/secret-a" "$SECRETS/$GUID_A"

# Issue 22: what libcryptsetup loaded is what is judged, and the same
# rules as the agent's. Digest keys "00" and "0": libcryptsetup reads the
# owner's "00" as 0 and then uses the host's "0" (here 2^25 iterations).
cp "$FIX/a.img" "$FIX/digest00.img"
python3 "$FORGE" "$FIX/digest00.img" copy digests.0 digests.00 set digests.0.keyslots '[]' \
	set digests.0.iterations 33554432
cs_open digest00 "$FIX/digest00.img"
refused "digest keys 00 and 0 (one object to libcryptsetup, two to us): refused" \
	"refused: its digests has a member named 00, not a canonical number"

# Persistent flags: cryptsetup and systemd-cryptsetup apply them, the MAC does not cover them.
if [ -x "${COCO_SECRET:-}" ]; then
	cp "$FIX/mac.img" "$FIX/discards.img"
	python3 "$FORGE" "$FIX/discards.img" set config.flags '["allow-discards"]'
	cs_open discards "$FIX/discards.img"
	refused "a host-added persistent allow-discards under a MAC-sealed token: refused" \
		"refused: it carries persistent flags \\(allow-discards\\)"
fi

# A volume's KDF work: one token naming four keyslots of 6000 iterations,
# under a PBKDF2 budget of 10000 (each try 0.7 of one keyslot's budget
# with its digest, four 2.8 of the volume's 2): refused; with 100000 it opens.
make_luks "$FIX/four.img" luks2 "$FIX/pass0"
for slot in 1 2 3; do
	new_secret "$FIX/other-$slot"
	cryptsetup luksAddKey -q --pbkdf pbkdf2 --pbkdf-force-iterations 6000 --key-file "$FIX/pass0" \
		--key-slot "$slot" "$FIX/four.img" "$FIX/other-$slot" >/dev/null
done
cryptsetup luksAddKey -q --pbkdf pbkdf2 --pbkdf-force-iterations 6000 --key-file "$FIX/pass0" \
	--key-slot 4 "$FIX/four.img" "$FIX/secret-a" >/dev/null
printf '{"type":"coco-efi-secret","keyslots":["1","2","3","4"],"guid":"%s"}' "$GUID_A" |
	cryptsetup token import "$FIX/four.img" >/dev/null
COCO_PLUGIN_PBKDF2_BUDGET=10000 cs_open four-over "$FIX/four.img"
refused "a token whose keyslots together cost more than the volume's KDF budget: not handed out" \
	"not handed out: the KDF work of its keyslots is over what is left of the volume's budget"
COCO_PLUGIN_PBKDF2_BUDGET=100000 cs_open four-within "$FIX/four.img"
opens "the same token within the budget opens (the control)" 4

# The secret handed out is recorded for the late --wipe-only, which then
# wipes it although the host stripped the token after activation.
rm -rf "$FIX/state" "$FIX/stripped"
mkdir -p "$FIX/stripped"
cp "$FIX/a.img" "$FIX/stripped/disk.img"
cs_open record "$FIX/stripped/disk.img"
opens "record: the token opens its keyslot" 1
tap_check "record: the GUID handed out is on the wipe record (0600)" \
	eval '[ "$(stat -c %a "$FIX/state/wipe" 2>/dev/null)" = 600 ] && grep -qx "$GUID_A" "$FIX/state/wipe"'
cryptsetup token remove --token-id 0 "$FIX/stripped/disk.img"
: >"$FIX/cmdline"
"$COCO_UNLOCK" --wipe-only --secrets-dir "$SECRETS" --state-dir "$FIX/state" --cmdline "$FIX/cmdline" \
	--crypttab /dev/null --devices-dir "$FIX/stripped" >"$FIX/out-wipe" 2>&1
tap_diag "--wipe-only: status $?: $(tr '\n' ' ' <"$FIX/out-wipe")"
cat "$FIX/out-wipe" >>"$ALL_OUTPUT"
tap_check "record: the token stripped after activation, --wipe-only still wipes the secret" \
	eval 'grep -q "wiped secret $GUID_A" "$FIX/out-wipe" && [ ! -e "$SECRETS/$GUID_A" ]'
cp "$FIX/secret-a" "$SECRETS/$GUID_A"

# The installed build has no test door: the secrets directory is
# efi_secret's on securityfs, which this machine does not have.
cs_open real "$FIX/a.img" "$FIX/real"
refused "the installed build ignores COCO_PLUGIN_SECRETS_DIR and finds no secret area" \
	"no secrets: /sys/kernel/security/secrets/coco does not exist"

# Memory: every path once under valgrind (the ASan build runs all of it in the asan phase).
if [ "${SANITIZED:-0}" != 1 ] && command -v valgrind >/dev/null; then
	for img in a nl absent; do
		OUT=$FIX/out-valgrind-$img
		in_ns "$FIX/plugins" valgrind -q --error-exitcode=99 --leak-check=full \
			--errors-for-leak-kinds=definite \
			cryptsetup open --test-passphrase --token-only -v "$FIX/$img.img" >"$OUT" 2>&1
		RC=$?
		cat "$OUT" >>"$ALL_OUTPUT"
		case $img in
		absent) tap_check "valgrind: a refused token, no memory error, no leak" \
			eval '[ "$RC" = 1 ] && grep -q "No usable token" "$OUT" && ! grep -q "==[0-9]*==" "$OUT"' ;;
		*) opens "valgrind: $img.img opens, no memory error, no leak" 1
		   tap_check "valgrind: $img.img said nothing" eval '! grep -q "==[0-9]*==" "$OUT"' ;;
		esac
	done
else
	tap_skip "valgrind runs" "ASan build, or no valgrind"
fi

tap_absent_bytes "no secret's bytes in any output" "$ALL_OUTPUT" "" "${SECRET_FILES[@]}"
tap_done
