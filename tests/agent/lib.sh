# shellcheck shell=bash
# Fixtures for the agent's integration tests: LUKS image files made with
# the cryptsetup CLI, a fake secrets directory, and a runner that checks,
# after every run, that no secret byte reached the program's output.
# Keys are checked with --dry-run (activation with a NULL name), since the
# test machines have no device-mapper.

set -u
. "$TOP/tests/lib/tap.sh"
. "$TOP/tests/lib/luks.sh"

: "${COCO_UNLOCK:?COCO_UNLOCK must name the coco-unlock binary}"
FIX=$(mktemp -d "${TMPDIR:-/tmp}/coco-agent-test.XXXXXX")
trap 'rm -rf "$FIX"' EXIT
SECRETS=$FIX/secrets
DEVICES=$FIX/dev
SECRET_LIST=$FIX/secret-bytes
# What the unlocking run records for --wipe-only (instead of /run/coco-unlock).
STATE=$FIX/state
mkdir -p "$SECRETS" "$DEVICES"
: >"$SECRET_LIST"
: >"$FIX/placed"

# GUIDs used across the tests (which source this file).
# shellcheck disable=SC2034
DISK_GUID=736869e5-84f0-4973-92ec-06879ce3da0b
# shellcheck disable=SC2034
GUID_A=aaaaaaaa-1111-4111-8111-111111111111
# shellcheck disable=SC2034
GUID_B=bbbbbbbb-2222-4222-8222-222222222222
# shellcheck disable=SC2034
GUID_C=cccccccc-3333-4333-8333-333333333333

# A fresh random passphrase that tests can grep for in output. Longer
# than a SHA-256 block (64 bytes) on purpose: HMAC pads shorter keys with
# zeros, so for PBKDF2 "key" and "key\0" would be the same passphrase and
# the trailing-NUL retry could not be seen.
new_secret() {
	local s
	s="coco-$(head -c 36 /dev/urandom | od -An -tx1 | tr -d ' \n')"
	echo "$s" >>"$SECRET_LIST"
	printf '%s' "$s"
}

# add_token IMG KEYSLOT GUID
add_token() {
	printf '{"type":"coco-efi-secret","keyslots":["%s"],"guid":"%s"}' "$2" "$3" |
		cryptsetup token import "$1" >/dev/null
}

luks_uuid() {
	cryptsetup luksUUID "$1"
}

# put_secret GUID FILE: place a secret file in the fake secrets directory
# (and remember it was there: "gone" means something only for those).
put_secret() {
	cp "$2" "$SECRETS/$1" && echo "$1" >>"$FIX/placed"
}

clear_secrets() {
	rm -f "$SECRETS"/*
	: >"$FIX/placed"
}

# Proof that the last run of the agent happened: $FIX/ran holds its exit
# status, written only when the binary ran (not 126/127: not executable,
# not found) and said something. Checks for an absence read it first.
agent_ran_mark() {
	rm -f "$FIX/ran"
	case $RC in 126 | 127) return ;; esac
	[ -s "$OUT" ] && echo "$RC" >"$FIX/ran"
}

agent_ran() {
	if [ ! -s "$FIX/ran" ]; then
		echo "#   no proof the agent ran (status ${RC:-unset}, output ${OUT:-unset})"
		return 1
	fi
}

secret_present() { [ -e "$SECRETS/$1" ]; }
# gone: it was put there, the agent ran, and it is not there now.
secret_gone() {
	agent_ran && grep -qx -- "$1" "$FIX/placed" && [ ! -e "$SECRETS/$1" ]
}

# run_agent NAME CMDLINE [ARGS...]: runs coco-unlock with the fixtures;
# sets RC and OUT (its stdout and stderr). Checks the output for secrets.
run_agent() {
	local name=$1 cmdline=$2
	shift 2
	printf '%s\n' "$cmdline" >"$FIX/cmdline"
	[ -e "$FIX/crypttab" ] || : >"$FIX/crypttab"
	OUT=$FIX/out
	${AGENT_WRAPPER:-} "$COCO_UNLOCK" --secrets-dir "$SECRETS" --cmdline "$FIX/cmdline" \
		--crypttab "$FIX/crypttab" --devices-dir "$DEVICES" --state-dir "$STATE" --dry-run "$@" \
		>"$OUT" 2>&1
	RC=$?
	agent_ran_mark
	show_output "$name"
	check_no_secret_bytes "$name"
}

# run_agent_ro_secrets NAME: the agent on $FIX/cmdline with the secrets
# directory mounted read-only (a private mount namespace), so that every
# unlink fails; RC and OUT as run_agent sets them. Needs unshare -m.
run_agent_ro_secrets() {
	OUT=$FIX/out
	unshare -m --propagation private sh -c 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" &&
		exec "$2" --secrets-dir "$1" --cmdline "$3" --crypttab /dev/null --devices-dir "$4" \
			--state-dir "$5" --dry-run' sh "$SECRETS" "$COCO_UNLOCK" "$FIX/cmdline" "$DEVICES" "$STATE" \
		>"$OUT" 2>&1
	RC=$?
	agent_ran_mark
	show_output "$1"
}

# wait_for_line ERE: until the output of an agent started in the
# background ($FIX/out) has a line matching ERE; false after 20 s.
wait_for_line() {
	for _ in $(seq 200); do
		grep -qE -- "$1" "$FIX/out" && return 0
		sleep 0.1
	done
	return 1
}

show_output() {
	local line
	while IFS= read -r line; do
		printf '#   [%s] %s\n' "$1" "$line"
	done <"$OUT"
}

# Each secret's bytes, and each 10-byte piece of them, must stay out of OUT.
check_no_secret_bytes() {
	local s i leaked=
	while read -r s; do
		[ -n "$s" ] || continue
		for ((i = 0; i + 10 <= ${#s}; i += 5)); do
			if grep -qF -- "${s:i:10}" "$OUT"; then
				leaked=$s
				break 2
			fi
		done
	done <"$SECRET_LIST"
	if ! agent_ran || [ ! -s "$SECRET_LIST" ]; then
		tap_not_ok "$1: no secret bytes in the output (no run, or no secret to look for)"
	elif [ -n "$leaked" ]; then
		tap_not_ok "$1: no secret bytes in the output"
	else
		tap_ok "$1: no secret bytes in the output"
	fi
}

# out_has NAME REGEX: the output has a line matching REGEX.
out_has() {
	if grep -qE -- "$2" "$OUT"; then
		tap_ok "$1"
	else
		tap_not_ok "$1"
		echo "#   no line matches: $2"
	fi
}

# out_lacks NAME REGEX: no line matches REGEX, in the output of a run
# that happened.
out_lacks() {
	if ! agent_ran; then
		tap_not_ok "$1"
	elif grep -qE -- "$2" "$OUT"; then
		tap_not_ok "$1"
		echo "#   unexpected line: $(grep -E -- "$2" "$OUT" | head -1)"
	else
		tap_ok "$1"
	fi
}

rc_is() {
	tap_is "$1: exit status" "$2" "$RC"
}
