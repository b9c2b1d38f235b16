#!/usr/bin/env bash
# A disk that answers two reads of the same header differently (issue 22,
# item 1). libcryptsetup loads the header; the plugin reads the disk
# again and judges its own copy. A host that serves libcryptsetup a
# segment cipher of "aes-xts-plain64 <HOST KEY> 0 /dev/HOSTDISK 0 0"
# and the plugin the owner's header must not get the owner's secret used
# for a dm-crypt table of its making.
#
# tests/lib/flip-disk.so plays the disk (the k-th open of the image gets
# the owner's image, A, or the host's, B, by a schedule); the activation
# runs for real, through tests/lib/fake-dm.so standing in for
# libdevmapper, which logs the table libcryptsetup would load (keys as
# their SHA-256). A real loop device is needed (cryptsetup attaches one
# to an image file); the plugin is found through a private mount
# namespace, as in test-plugin.sh.
#
# The one rule for every run: each table recorded is the owner's (its
# cipher, its volume key, a loop device over the image), and a run that
# opens nothing says it refused. Checked for the plugin under cryptsetup
# and for coco-unlock, at the attack's schedule and at every single open
# and every suffix of opens flipped. Every output is checked for every
# secret's bytes and for the volume key.
set -u
. "$TOP/tests/lib/tap.sh"
. "$TOP/tests/lib/luks.sh"

: "${BUILD:?BUILD must name the build directory}"
PLUGIN_NAME=libcryptsetup-token-coco-efi-secret.so
TEST_PLUGIN=$BUILD/tests/plugin/$PLUGIN_NAME
FLIP=$BUILD/tests/flip-disk.so
FAKE_DM=$BUILD/tests/fake-dm.so
FORGE=$TOP/tests/lib/luks2-forge.py
# Line-buffered stdout, so that the shim's lines (stderr) and
# cryptsetup's (stdout) are in the order they happened.
STDBUF_LIB=/usr/libexec/coreutils/libstdbuf.so

FIX=$(mktemp -d "${TMPDIR:-/tmp}/coco-reads-test.XXXXXX")
# Loop devices cryptsetup attached are cleared with its last descriptor;
# one left by a crash is detached here, found by its backing file.
cleanup() {
	local dev
	for dev in $(losetup -nO NAME -j "$FIX/dev/owner.img" 2>/dev/null) \
		$(losetup -nO NAME -j "$FIX/host.img" 2>/dev/null); do
		losetup -d "$dev" 2>/dev/null
	done
	rm -rf "$FIX"
}
trap cleanup EXIT
[ -n "${KEEP:-}" ] && trap - EXIT
SECRETS=$FIX/secrets
ALL_OUTPUT=$FIX/all-output
SECRET_FILES=()
mkdir -p "$SECRETS" "$FIX/plugins" "$FIX/dev" "$FIX/state"
: >"$ALL_OUTPUT"

GUID=bbbbbbbb-2222-4222-8222-222222222222
IMG=$FIX/dev/owner.img
ALT=$FIX/host.img

TOKEN_DIR=$(strings "$(ldconfig -p | awk '/libcryptsetup.so.12 .*x86-64/ { print $NF; exit }')" |
	grep -m1 -E '^/(usr/)?lib[^ ]*/cryptsetup$')

for f in "$TEST_PLUGIN" "$FLIP" "$FAKE_DM" "${COCO_SECRET:-}" "${COCO_UNLOCK:-}"; do
	if [ ! -f "$f" ]; then
		tap_not_ok "what the test needs is built ($f)"
		tap_done
		exit
	fi
done
if [ -z "$TOKEN_DIR" ] || [ ! -d "$TOKEN_DIR" ] || ! unshare -m true 2>/dev/null; then
	tap_skip "plugin read tests" "needs root, unshare -m and libcryptsetup's plugin directory ($TOKEN_DIR)"
	tap_done
	exit
fi
truncate -s 1M "$FIX/probe.img"
if ! loop=$(losetup -f --show "$FIX/probe.img" 2>/dev/null); then
	tap_skip "plugin read tests" "cryptsetup open on an image file needs a loop device; none here"
	tap_done
	exit
fi
losetup -d "$loop"
cp "$TEST_PLUGIN" "$FIX/plugins/"

# Under ASan the sanitizer runtime comes first; the shims after it.
PRELOAD=
if [ "${SANITIZED:-0}" = 1 ]; then
	PRELOAD=$(gcc -print-file-name=libasan.so):
	export ASAN_OPTIONS=detect_leaks=0
fi
[ -f "$STDBUF_LIB" ] && PRELOAD=$PRELOAD$STDBUF_LIB:
PRELOAD=$PRELOAD$FLIP:$FAKE_DM

new_secret() {
	printf 'coco-%s' "$(head -c 36 /dev/urandom | od -An -tx1 | tr -d ' \n')" >"$1"
	SECRET_FILES+=("$1")
}

# ere_quote STRING: STRING as an ERE matching itself.
ere_quote() {
	printf '%s' "$1" | sed 's/[][\.*^$?+(){}|]/\\&/g'
}

# --- the owner's volume and the host's header ------------------------------------------
new_secret "$FIX/pass0"
make_luks "$IMG" luks2 "$FIX/pass0"
"$COCO_SECRET" enroll "$IMG" --guid "$GUID" --generate "$FIX/secret" \
	--unlock-key-file "$FIX/pass0" >"$FIX/out-enroll" 2>&1
SECRET_FILES+=("$FIX/secret")
cat "$FIX/out-enroll" >>"$ALL_OUTPUT"
UUID=$(cryptsetup luksUUID "$IMG")
# The owner's volume key, known here only to recognise it (as its
# SHA-256, the way fake-dm logs it) and to look for it in every output.
cryptsetup luksDump -q --dump-volume-key --volume-key-file "$FIX/owner.vk" \
	--key-file "$FIX/pass0" "$IMG" >/dev/null 2>&1
od -An -v -tx1 "$FIX/owner.vk" | tr -d ' \n' >"$FIX/owner.vk.hex"
SECRET_FILES+=("$FIX/owner.vk" "$FIX/owner.vk.hex")
VK_SHA=$(sha256sum <"$FIX/owner.vk.hex" | cut -d' ' -f1)
VK_LEN=$(wc -c <"$FIX/owner.vk.hex")
DATA_SECTORS=$(($(cryptsetup luksDump "$IMG" | awk '/^Data segments:/ { s = 1 } s && /offset:/ { print $2; exit }') / 512))

HOST_KEY=$(head -c 32 /dev/urandom | od -An -v -tx1 | tr -d ' \n')
HOST_CIPHER="aes-xts-plain64 $HOST_KEY 0 /dev/HOSTDISK 0 0"
HOST_KEY_SHA=$(printf '%s' "$HOST_KEY" | sha256sum | cut -d' ' -f1)
cp "$IMG" "$ALT"
python3 "$FORGE" "$ALT" set segments.0.encryption "\"$HOST_CIPHER\""

# owner_re MAPPING: the one table allowed, the owner's: its cipher, its
# volume key, its data offset, on a loop device over the image (or over
# the host's file: the data is the host's to serve anyway; the table must
# still name the device cryptsetup was given).
owner_re() {
	printf '^create %s uuid=CRYPT-LUKS2-%s-%s ro=0 0 [0-9]+ crypt aes-xts-plain64 KEY-SHA256=%s,len=%s 0 (/dev/loop[0-9]+) %s( [1-9][0-9]*( [a-z_]+(:[0-9]+)?)+)? \[/dev/loop[0-9]+=(%s|%s)\]$' \
		"$1" "${UUID//-/}" "$1" "$VK_SHA" "$VK_LEN" "$DATA_SECTORS" \
		"$(ere_quote "$IMG")" "$(ere_quote "$ALT")"
}

# shim_env SCHEDULE: SHIM_ENV, the environment of a run on the disk
# played by SCHEDULE, with the fake device-mapper logging to $LOG.
shim_env() {
	SHIM_ENV=(LD_PRELOAD="$PRELOAD" _STDBUF_O=L COCO_FLIP_PATH="$IMG" COCO_FLIP_ALT="$ALT"
		COCO_FLIP_SCHEDULE="$1" COCO_FLIP_DEBUG=1 COCO_FAKE_DM_LOG="$LOG")
}

# cs_flip NAME SCHEDULE CMD...: a cryptsetup command in a private mount
# namespace where the test plugin is libcryptsetup's, on the played disk.
# Sets OUT, LOG, RC; both files join ALL_OUTPUT.
cs_flip() {
	local name=$1 schedule=$2
	shift 2
	OUT=$FIX/out-$name
	LOG=$FIX/dm-$name.log
	rm -f "$LOG"
	shim_env "$schedule"
	unshare -m sh -c 'mount --bind "$1" "$2" && shift 2 && exec "$@"' sh "$FIX/plugins" "$TOKEN_DIR" \
		env COCO_PLUGIN_SECRETS_DIR="$SECRETS" COCO_PLUGIN_STATE_DIR="$FIX/state" "${SHIM_ENV[@]}" "$@" >"$OUT" 2>&1 </dev/null
	RC=$?
	cat "$OUT" >>"$ALL_OUTPUT"
	[ -f "$LOG" ] && cat "$LOG" >>"$ALL_OUTPUT"
}

# cs_open NAME SCHEDULE: cryptsetup open --token-only of the image as NAME.
cs_open() {
	cs_flip "$1" "$2" cryptsetup open --token-only --debug "$IMG" "$1"
}

# agent NAME SCHEDULE: coco-unlock, for real (no --dry-run), on the image
# found in its devices directory, with the secret in place again.
agent() {
	OUT=$FIX/out-$1
	LOG=$FIX/dm-$1.log
	rm -f "$LOG" "$FIX/state"/*
	cp "$FIX/secret" "$SECRETS/$GUID"
	shim_env "$2"
	env "${SHIM_ENV[@]}" "$COCO_UNLOCK" --secrets-dir "$SECRETS" --cmdline "$FIX/cmdline" \
		--crypttab "$FIX/crypttab" --devices-dir "$FIX/dev" --state-dir "$FIX/state" \
		>"$OUT" 2>&1 </dev/null
	RC=$?
	cat "$OUT" >>"$ALL_OUTPUT"
	[ -f "$LOG" ] && cat "$LOG" >>"$ALL_OUTPUT"
}
printf 'rd.luks.uuid=%s\n' "$UUID" >"$FIX/cmdline"
: >"$FIX/crypttab"

# owner_only NAME MAPPING END_ERE REFUSAL_ERE [HANDOUT_ERE]: the run of
# OUT happened (END_ERE); every table in LOG is the owner's; an open that
# succeeded recorded one; one that failed said REFUSAL_ERE or, when
# HANDOUT_ERE is given, failed before any secret was handed out (OUT has
# no line matching it: libcryptsetup gave up on the host's bytes itself).
owner_only() {
	local name=$1 map=$2 end=$3 refusal=$4 handout=${5:-} bad
	if ! tap_run_happened "$OUT" "$end"; then
		tap_not_ok "$name"
		echo "#   no proof the run happened: $TAP_WHY"
		return
	fi
	bad=$(grep -asE '^(create|reload) ' "$LOG" | grep -avE "$(owner_re "$map")")
	if [ -n "$bad" ]; then
		tap_not_ok "$name"
		echo "#   status $RC; a table that is not the owner's was loaded (keys as SHA-256):"
		printf '%s\n' "$bad" | head -n 3 | sed 's/^/#   table: /'
		table_words "$bad"
	elif [ "$RC" = 0 ] && ! grep -qaE "^create $map " "$LOG" 2>/dev/null; then
		tap_not_ok "$name"
		echo "#   status 0, but no table was recorded"
	elif [ "$RC" != 0 ] && ! grep -qE -- "$refusal" "$OUT" &&
	     { [ -z "$handout" ] || grep -qE -- "$handout" "$OUT"; }; then
		tap_not_ok "$name"
		echo "#   status $RC without saying '$refusal'${handout:+, after a secret was handed out}; the end of the output:"
		grep -v '^# ' "$OUT" | tail -n 5 | sed 's/^/#   | /'
	else
		tap_ok "$name"
	fi
}

# table_words TABLE: whose words a bad table holds, for the report.
table_words() {
	case $1 in *"KEY-SHA256=$HOST_KEY_SHA,"*) echo "#   its key $HOST_KEY_SHA is the host's key (SHA-256)" ;; esac
	case $1 in *"KEY-SHA256=$VK_SHA,"*) echo "#   the owner's volume key is in it too, after the host's words" ;; esac
	case $1 in *" /dev/HOSTDISK "*) echo "#   its device is the host's /dev/HOSTDISK" ;; esac
}

# opens_before_token OUT: how many opens of the image came before the
# token handler was loaded: libcryptsetup's own reads of the header.
opens_before_token() {
	awk '/Token handler coco-efi-secret.* loaded/ { print n + 0; found = 1; exit }
	     /^flip-disk\[[0-9]+\]: open #/ { n++ }
	     END { if (!found) print "" }' "$1"
}

# repeat LETTER N: LETTER N times (none for 0).
repeat() {
	head -c "$2" /dev/zero | tr '\0' "$1"
}
HANDOUT="coco-efi-secret: token 0: secret $GUID, [0-9]+ bytes"
REFUSED="coco-efi-secret: token 0 \\(secret $GUID\\): .*refused"
AGENT_REFUSED="refused|MAC does not match"

# --- (c) the shim works: controls ------------------------------------------------------
cs_flip dump-b B cryptsetup luksDump "$IMG"
tap_check "control: with B served to every open, luksDump of the image shows the host's cipher" \
	grep -qF "cipher: $HOST_CIPHER" "$OUT"
cs_flip dump-a A cryptsetup luksDump "$IMG"
tap_check "control: with A served, luksDump shows the owner's cipher" \
	grep -qE "cipher: aes-xts-plain64$" "$OUT"

cp "$FIX/secret" "$SECRETS/$GUID"
cs_open owner A
tap_check "control: the owner's disk opens through the plugin, for real (fake device-mapper)" \
	eval '[ "$RC" = 0 ] && grep -q "Key slot 1 unlocked" "$OUT"'
tap_check "control: fake-dm recorded exactly one table, the owner's (cipher, volume key, loop over the image)" \
	eval '[ "$(grep -c "" "$LOG" 2>/dev/null)" = 1 ] && grep -qE "$(owner_re owner)" "$LOG"'
P=$(opens_before_token "$OUT")
tap_check "control: libcryptsetup opened the image before the token handler was loaded ($P opens)" \
	eval '[ -n "$P" ] && [ "$P" -gt 0 ]'
N=$(grep -c '^flip-disk\[[0-9]*\]: open #' "$OUT")
tap_diag "the image is opened $N times by cryptsetup open --token-only"

# --- (a) the attack on the plugin: the host's header to libcryptsetup's reads only --------
ATTACK=$(repeat B "${P:-1}")A
cs_open attack "$ATTACK"
# Every open libcryptsetup made before the token handler got B, any later
# one A (a plugin that reads the disk itself; the fixed one does not).
hit=$(awk -v p="${P:-1}" '/^flip-disk\[[0-9]+\]: open #/ { n++; if ((n <= p) != ($0 ~ /: B \(/)) bad = 1 }
	END { print (n >= p && !bad) ? "yes" : "no" }' "$OUT")
tap_is "the attack's schedule ($ATTACK) served B to libcryptsetup's reads, A to the rest" yes "$hit"
tap_check "the plugin refuses the header libcryptsetup loaded, naming the host's cipher words" \
	grep -qE "$REFUSED: segment 0: encryption aes-xts-plain64 [0-9a-f]+ 0 /dev/HOSTDISK 0 0 has characters no cipher name has" "$OUT"
owner_only "plugin, host's header to libcryptsetup only: no table but the owner's, or refused" \
	attack "Command successful|Command failed" "$REFUSED"
tap_absent "plugin, host's header to libcryptsetup only: the secret is not handed out" "$OUT" \
	"$HANDOUT" "Command successful|Command failed"

# Every single open of the image flipped, every prefix and every suffix
# of opens (the attack above is one of the prefixes).
for ((k = 1; k <= N; k++)); do
	pre=$(repeat A $((k - 1)))
	for schedule in "${pre}BA" "$(repeat B "$k")A" "${pre}B"; do
		cs_open "sweep-$schedule" "$schedule"
		owner_only "plugin, schedule $schedule: no table but the owner's, or refused" \
			"sweep-$schedule" "Command successful|Command failed" "$REFUSED" "$HANDOUT"
	done
done

# --- (b) the same disk against coco-unlock ------------------------------------------------
agent agent-owner A
tap_check "control: coco-unlock unlocks the owner's disk, for real (fake device-mapper)" \
	eval '[ "$RC" = 0 ] && grep -q "unlocked .*owner.img with secret $GUID (token, keyslot 1)" "$OUT"'
owner_only "coco-unlock, the owner's disk: the table is the owner's" "luks-$UUID" \
	"coco-unlock: " "$AGENT_REFUSED"
NA=$(grep -c '^flip-disk\[[0-9]*\]: open #' "$OUT")
tap_diag "the image is opened $NA times by coco-unlock"

agent agent-attack "$ATTACK"
owner_only "coco-unlock, the plugin attack's schedule ($ATTACK): no table but the owner's, or refused" \
	"luks-$UUID" "coco-unlock: " "$AGENT_REFUSED"
for ((k = 1; k <= NA; k++)); do
	pre=$(repeat A $((k - 1)))
	for schedule in "${pre}BA" "$(repeat B "$k")A" "${pre}B"; do
		agent "agent-$schedule" "$schedule"
		owner_only "coco-unlock, schedule $schedule: no table but the owner's, or refused" \
			"luks-$UUID" "coco-unlock: " "$AGENT_REFUSED"
	done
done

tap_absent_bytes "no secret's bytes, nor the volume key, in any output or table log" \
	"$ALL_OUTPUT" "" "${SECRET_FILES[@]}"
# shellcheck disable=SC2034 # read by the eval below
left=$(losetup -nO NAME -j "$IMG"; losetup -nO NAME -j "$ALT")
# Only as good as the proof that a loop device was attached at all.
tap_check "no loop device left over the images (tables show loops were attached)" \
	eval '[ -z "$left" ] && grep -q "\[/dev/loop[0-9]*=" "$ALL_OUTPUT"'
tap_done
