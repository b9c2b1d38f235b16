#!/usr/bin/env bash
# The TAP helpers themselves: a check for an absence must be "not ok" when
# the run it reads did not happen (no log, an empty log, a guest that
# never reached its end marker), and "ok" only on a whole run without the
# thing. Each helper runs in a subshell of its own, whose TAP line is
# checked here.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/lib/tap.sh"

T=$(mktemp -d "${TMPDIR:-/tmp}/coco-tap-test.XXXXXX")
trap 'rm -rf "$T"' EXIT

# verdict COMMAND...: "ok" or "not ok", what the helper COMMAND printed.
verdict() {
	(
		TAP_N=0 TAP_FAILED=0
		"$@"
	) 2>/dev/null | grep -oE '^(not )?ok' | head -n 1
}

# The console of a whole guest run, with and without a forbidden line.
printf 'INIT-START\ncoco-unlock: root: unlocked /dev/vdb\nROOT-OK root\nGUEST-DONE\n' >"$T/whole.log"
printf 'INIT-START\nFALLBACK\nGUEST-DONE\n' >"$T/fallback.log"
printf 'INIT-START\ncoco-unlock: waiting up to 30 s\n' >"$T/cut.log"
: >"$T/empty.log"
printf 's3cr3t-passphrase-of-40-bytes-0123456789' >"$T/key"
printf 'line one\nleaked: ...passphrase-of-40-b...\nGUEST-DONE\n' >"$T/leak.log"
: >"$T/empty-key"

END='^GUEST-DONE$'
tap_is "tap_absent: a whole run without the line is ok" ok \
	"$(verdict tap_absent x "$T/whole.log" '^FALLBACK$' "$END")"
tap_is "tap_absent: a whole run with the line is not ok" "not ok" \
	"$(verdict tap_absent x "$T/fallback.log" '^FALLBACK$' "$END")"
tap_is "tap_absent: a missing log is not ok" "not ok" \
	"$(verdict tap_absent x "$T/nothing.log" '^FALLBACK$' "$END")"
tap_is "tap_absent: an empty log is not ok" "not ok" \
	"$(verdict tap_absent x "$T/empty.log" '^FALLBACK$' "$END")"
tap_is "tap_absent: a run cut before its end marker is not ok" "not ok" \
	"$(verdict tap_absent x "$T/cut.log" '^FALLBACK$' "$END")"
tap_is "tap_absent without an end marker: an empty log is still not ok" "not ok" \
	"$(verdict tap_absent x "$T/empty.log" 'anything')"

tap_is "tap_absent_bytes: a whole run without the secret is ok" ok \
	"$(verdict tap_absent_bytes x "$T/whole.log" "$END" "$T/key")"
tap_is "tap_absent_bytes: a 12-byte piece of the secret is found" "not ok" \
	"$(verdict tap_absent_bytes x "$T/leak.log" "$END" "$T/key")"
tap_is "tap_absent_bytes: a missing log is not ok" "not ok" \
	"$(verdict tap_absent_bytes x "$T/nothing.log" "$END" "$T/key")"
tap_is "tap_absent_bytes: a cut run is not ok" "not ok" \
	"$(verdict tap_absent_bytes x "$T/cut.log" "$END" "$T/key")"
tap_is "tap_absent_bytes: an empty secret file (nothing to look for) is not ok" "not ok" \
	"$(verdict tap_absent_bytes x "$T/whole.log" "$END" "$T/empty-key")"
# A binary secret with a newline and a NUL: no short piece of it may count
# (grep -F would split the pattern at the newline), a 12-byte one must.
printf 'ab\n\0cdefghijklmnopqrstuvwxyz0123456789' >"$T/binary-key"
printf 'ab and cd\nGUEST-DONE\n' >"$T/short.log"
printf 'x ijklmnopqrst y\nGUEST-DONE\n' >"$T/binary-leak.log"
tap_is "tap_absent_bytes: short pieces of a binary secret (a newline in it) do not count" ok \
	"$(verdict tap_absent_bytes x "$T/short.log" "$END" "$T/binary-key")"
tap_is "tap_absent_bytes: a 12-byte piece of a binary secret is found" "not ok" \
	"$(verdict tap_absent_bytes x "$T/binary-leak.log" "$END" "$T/binary-key")"
tap_is "tap_absent_bytes: no secret file at all is not ok" "not ok" \
	"$(verdict tap_absent_bytes x "$T/whole.log" "$END")"

echo 0 >"$T/rc"
tap_is "tap_empty: nothing, from a run that happened, is ok" ok "$(verdict tap_empty x "$T/rc" "")"
tap_is "tap_empty: something is not ok" "not ok" "$(verdict tap_empty x "$T/rc" "ERROR: x")"
tap_is "tap_empty: nothing, without proof of the run, is not ok" "not ok" \
	"$(verdict tap_empty x "$T/no-rc" "")"

# The boot harness's wrappers, on a run directory whose log was deleted.
boot_verdict() { # RUNDIR COMMAND...
	(
		# What lib.sh reads (BUILD, CACHE) and its wrappers (RUN).
		# shellcheck disable=SC2034
		BUILD=$T CACHE=$T
		# shellcheck source=../boot/lib.sh
		. "$TOP/tests/boot/lib.sh"
		# shellcheck disable=SC2034
		RUN=$1
		shift
		TAP_N=0 TAP_FAILED=0
		"$@"
	) 2>/dev/null | grep -oE '^(not )?ok' | head -n 1
}
mkdir -p "$T/run-whole" "$T/run-gone"
cp "$T/whole.log" "$T/run-whole/serial.txt"
tap_is "tap_serial_not: a whole guest run without the line is ok" ok \
	"$(boot_verdict "$T/run-whole" tap_serial_not x '^FALLBACK$')"
tap_is "tap_serial_not: a deleted serial log is not ok" "not ok" \
	"$(boot_verdict "$T/run-gone" tap_serial_not x '^FALLBACK$')"
tap_is "tap_no_secret_bytes: a whole guest run without the key is ok" ok \
	"$(boot_verdict "$T/run-whole" tap_no_secret_bytes "$T/key")"
tap_is "tap_no_secret_bytes: a deleted serial log is not ok" "not ok" \
	"$(boot_verdict "$T/run-gone" tap_no_secret_bytes "$T/key")"

# The agent tests' wrappers: an agent that never ran proves nothing.
agent_verdict() { # COCO_UNLOCK-BINARY COMMAND...
	(
		# shellcheck disable=SC2034 # lib.sh's run_agent runs it
		COCO_UNLOCK=$1
		shift
		# shellcheck source=../agent/lib.sh
		. "$TOP/tests/agent/lib.sh"
		new_secret >"$FIX/key"
		put_secret "$GUID_A" "$FIX/key"
		run_agent probe "rd.coco=0" >/dev/null
		rm -f "$SECRETS/$GUID_A"
		TAP_N=0 TAP_FAILED=0
		"$@"
	) 2>/dev/null | grep -oE '^(not )?ok' | head -n 1
}
printf '#!/bin/sh\necho "coco-unlock: disabled on the kernel command line" >&2\n' >"$T/fake-agent"
chmod 0755 "$T/fake-agent"
tap_is "agent out_lacks: a run that happened, without the line, is ok" ok \
	"$(agent_verdict "$T/fake-agent" out_lacks x 'unlocked')"
tap_is "agent out_lacks: an agent that is not there is not ok" "not ok" \
	"$(agent_verdict "$T/no-such-agent" out_lacks x 'unlocked')"
tap_is "agent secret_gone: a secret gone after a run that happened is ok" ok \
	"$(agent_verdict "$T/fake-agent" tap_check x secret_gone aaaaaaaa-1111-4111-8111-111111111111)"
tap_is "agent secret_gone: an agent that is not there wiped nothing" "not ok" \
	"$(agent_verdict "$T/no-such-agent" tap_check x secret_gone aaaaaaaa-1111-4111-8111-111111111111)"
tap_is "agent check_no_secret_bytes: an agent that is not there is not ok" "not ok" \
	"$(agent_verdict "$T/no-such-agent" check_no_secret_bytes x)"
tap_done
