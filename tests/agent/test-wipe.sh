#!/usr/bin/env bash
# rd.coco.wipe policies, --wipe-only, and the wipe on fatal signals.
. "$(dirname "$0")/lib.sh"

new_secret >"$FIX/key"
new_secret >"$FIX/other"
new_secret >"$FIX/key-t"
new_secret >"$FIX/pass0"
make_luks "$DEVICES/disk.img" luks2 "$FIX/key"
U=$(luks_uuid "$DEVICES/disk.img")
mkdir -p "$FIX/tokdev"
make_luks "$FIX/tokdev/tok.img" luks2 "$FIX/pass0"
add_keyslot "$FIX/tokdev/tok.img" "$FIX/pass0" "$FIX/key-t" 1
add_token "$FIX/tokdev/tok.img" 1 "$GUID_C"

setup() {
	clear_secrets
	put_secret "$GUID_A" "$FIX/key"
	put_secret "$GUID_B" "$FIX/other"
	put_secret "$GUID_C" "$FIX/key-t"
}

for policy in used all none; do
	setup
	run_agent "wipe=$policy" "rd.luks.uuid=$U rd.coco.key=$GUID_A rd.coco.wipe=$policy"
	rc_is "wipe=$policy" 0
	case $policy in
	used) tap_check "wipe=used: only the used secret gone" \
		eval "secret_gone $GUID_A && secret_present $GUID_B && secret_present $GUID_C" ;;
	all) tap_check "wipe=all: every secret gone" \
		eval "secret_gone $GUID_A && secret_gone $GUID_B && secret_gone $GUID_C" ;;
	none) tap_check "wipe=none: every secret kept" \
		eval "secret_present $GUID_A && secret_present $GUID_B && secret_present $GUID_C" ;;
	esac
done

# A failure path wipes too: the secret was read, the volume stays closed.
setup
cp "$FIX/other" "$SECRETS/$GUID_A"
run_agent wipe-on-failure "rd.luks.uuid=$U rd.coco.key=$GUID_A"
rc_is wipe-on-failure 1
tap_check "wipe-on-failure: read secret gone" secret_gone "$GUID_A"

# One secret for two volumes: unlinked only after the last one used it.
cp "$DEVICES/disk.img" "$FIX/tokdev/copy.img"
cryptsetup luksUUID -q --uuid 5eeeeeee-0000-4000-8000-000000000001 "$FIX/tokdev/copy.img"
setup
run_agent shared-secret "rd.luks.uuid=$U cryptdevice=$FIX/tokdev/copy.img:copy rd.coco.key=$GUID_A"
rc_is shared-secret 0
tap_is "shared-secret: both volumes opened by the one secret" 2 "$(grep -c "key verified .* $GUID_A" "$OUT")"
tap_check "shared-secret: gone afterwards" secret_gone "$GUID_A"
rm -f "$FIX/tokdev/copy.img"

# --wipe-only: no unlocking, just the secrets the key choice names.
setup
run_agent wipe-only "rd.luks.uuid=$U rd.coco.key=$GUID_A" --wipe-only
rc_is wipe-only 0
out_lacks "wipe-only: no unlock attempted" "key verified|does not open"
tap_check "wipe-only: the named secret gone, others kept" \
	eval "secret_gone $GUID_A && secret_present $GUID_B && secret_present $GUID_C"

setup
run_agent wipe-only-token "" --wipe-only --devices-dir "$FIX/tokdev"
rc_is wipe-only-token 0
tap_check "wipe-only-token: the token's secret gone, others kept" \
	eval "secret_gone $GUID_C && secret_present $GUID_A && secret_present $GUID_B"

setup
run_agent wipe-only-all "rd.coco.wipe=all" --wipe-only
tap_check "wipe-only-all: everything gone" \
	eval "secret_gone $GUID_A && secret_gone $GUID_B && secret_gone $GUID_C"

setup
run_agent wipe-only-none "rd.coco.wipe=none rd.luks.uuid=$U rd.coco.key=$GUID_A" --wipe-only
tap_check "wipe-only-none: everything kept" \
	eval "secret_present $GUID_A && secret_present $GUID_B && secret_present $GUID_C"

# Killed while waiting for a device: the signal handler still wipes; every
# signal that would end the process, real-time ones included.
for sig in TERM INT PWR XCPU VTALRM PROF USR1 RTMIN+3 RTMAX; do
	setup
	printf '%s\n' "rd.luks.uuid=0e0e0e0e-1111-4222-8333-444444444444 rd.coco.timeout=60 rd.coco.wipe=all" >"$FIX/cmdline"
	# Emptied here, not by the job's own redirection: under load the loop
	# below could read the last run's "waiting up to" before the job
	# truncates it, and signal the forked shell before it runs the agent
	# (whose inherited EXIT trap then deletes $FIX).
	: >"$FIX/out"
	"$COCO_UNLOCK" --secrets-dir "$SECRETS" --cmdline "$FIX/cmdline" --crypttab /dev/null \
		--devices-dir "$DEVICES" --state-dir "$STATE" --dry-run >"$FIX/out" 2>&1 &
	pid=$!
	for _ in $(seq 100); do
		grep -q "waiting up to" "$FIX/out" && break
		sleep 0.1
	done
	kill -s "$sig" "$pid"
	wait "$pid"
	rc=$?
	RC=$rc OUT=$FIX/out agent_ran_mark
	tap_is "SIG$sig: killed by the signal" $((128 + $(kill -l "$sig" 2>/dev/null || kill -l "SIG$sig"))) "$rc"
	tap_check "SIG$sig: every secret wiped (wipe=all)" \
		eval "secret_gone $GUID_A && secret_gone $GUID_B && secret_gone $GUID_C"
done
# --- unlink-first: a secret is unlinked right after its one read ----------------
# Volume 1 is there (its secret A is read and unlinked at once), volume 2
# never comes (its secret B, named by rd.coco.key=, waits): while the agent
# still waits, A is gone already; SIGKILL (nobody can catch it) leaves A
# gone, and the late --wipe-only removes B with no disk present.
agent_bg() { # CMDLINE [ARGS...]: coco-unlock in the background; PID and $FIX/out
	printf '%s\n' "$1" >"$FIX/cmdline"
	shift
	"$COCO_UNLOCK" --secrets-dir "$SECRETS" --cmdline "$FIX/cmdline" --crypttab /dev/null \
		--devices-dir "$DEVICES" --state-dir "$STATE" --dry-run "$@" >"$FIX/out" 2>&1 &
	PID=$!
}
MISSING=0e0e0e0e-1111-4222-8333-444444444444
setup
rm -rf "$STATE"
agent_bg "rd.luks.uuid=$U rd.coco.key=$U:$GUID_A rd.luks.uuid=$MISSING rd.coco.key=$MISSING:$GUID_B rd.coco.timeout=60"
wait_for_line "waiting up to"
tap_check "unlink-first: A read, verified and unlinked while the agent still waits" \
	eval "grep -q 'wiped secret $GUID_A (read into locked memory first)' '$FIX/out' && test ! -e '$SECRETS/$GUID_A'"
tap_check "unlink-first: B, for the device not there, is still there" secret_present "$GUID_B"
kill -KILL "$PID"
wait "$PID" 2>/dev/null
RC=137 OUT=$FIX/out agent_ran_mark
tap_check "unlink-first: after SIGKILL, A is still gone" secret_gone "$GUID_A"
run_agent unlink-first-late "rd.luks.uuid=$U rd.coco.key=$U:$GUID_A rd.luks.uuid=$MISSING rd.coco.key=$MISSING:$GUID_B" --wipe-only
tap_check "unlink-first: the late wipe removes B, though its disk never came" secret_gone "$GUID_B"
tap_check "unlink-first: and leaves C, which nothing named" secret_present "$GUID_C"

# The record: what a plan named is written to STATE_DIR/wipe before it is
# read, so the late wipe finds a token's secret when the disk is gone.
setup
rm -rf "$STATE"
run_agent record "rd.coco.wipe=none" --devices-dir "$FIX/tokdev"
rc_is record 0
tap_is "record: the planned GUID is recorded, nothing else" "$GUID_C" "$(cat "$STATE/wipe" 2>/dev/null)"
tap_is "record: mode 0600 in a 0700 directory" "600 700" "$(stat -c %a "$STATE/wipe") $(stat -c %a "$STATE")"
mkdir -p "$FIX/empty-devices"
run_agent record-late "rd.coco.wipe=used" --wipe-only --devices-dir "$FIX/empty-devices"
tap_check "record: the late wipe removes the token's secret with its disk gone" secret_gone "$GUID_C"
tap_check "record: and only that one" eval "secret_present $GUID_A && secret_present $GUID_B"
tap_check "record: the record is removed by the late wipe" test ! -e "$STATE/wipe"

# SIGKILL at several moments of a slow keyslot: from the first read on,
# the secret is gone from the secrets directory.
make_luks "$FIX/slow.img" luks2 "$FIX/key"
cryptsetup luksKillSlot -q "$FIX/slow.img" 0 2>/dev/null || true
truncate -s 20M "$FIX/slow.img"
cryptsetup luksFormat -q --type luks2 --pbkdf pbkdf2 --pbkdf-force-iterations 3000000 \
	--key-file "$FIX/key" "$FIX/slow.img" >/dev/null
mkdir -p "$FIX/slowdev"
mv "$FIX/slow.img" "$FIX/slowdev/"
US=$(luks_uuid "$FIX/slowdev/slow.img")
after=0 leaked=0
for delay in 0.05 0.1 0.2 0.3 0.5 0.8; do
	setup
	agent_bg "rd.luks.uuid=$US rd.coco.key=$GUID_A" --devices-dir "$FIX/slowdev"
	sleep "$delay"
	kill -KILL "$PID" 2>/dev/null
	wait "$PID" 2>/dev/null
	if grep -q "wiped secret $GUID_A (read into locked memory first)" "$FIX/out"; then
		after=$((after + 1))
		[ -e "$SECRETS/$GUID_A" ] && leaked=$((leaked + 1))
	fi
done
tap_check "SIGKILL mid-keyslot: some of the 6 kills came after the read ($after)" test "$after" -ge 2
tap_is "SIGKILL mid-keyslot: none of those left the secret readable" 0 "$leaked"

# A secret already gone is said as such; an unlink that fails has its own
# status (4) and message.
setup
run_agent already-gone "rd.luks.uuid=$U rd.coco.key=$GUID_A rd.coco.wipe=all" --wipe-only
out_lacks "already-gone: nothing said twice" "already gone"
if unshare -m --propagation private true 2>/dev/null; then
	setup
	printf '%s\n' "rd.luks.uuid=$U rd.coco.key=$GUID_A" >"$FIX/cmdline"
	run_agent_ro_secrets read-only
	rc_is read-only 4
	out_has "read-only: the failed unlink is said" "cannot wipe secret $GUID_A: Read-only file system; it is still readable"
else
	tap_skip "read-only secrets directory" "unshare -m not permitted here"
fi

# rd.coco=0 turns the unlocking off, not the late wipe.
setup
run_agent disabled "rd.coco=0 rd.luks.uuid=$U rd.coco.key=$GUID_A"
rc_is disabled 0
tap_check "disabled: the unlocking run wipes nothing" \
	eval "secret_present $GUID_A && secret_present $GUID_B && secret_present $GUID_C"
run_agent disabled-late "rd.coco=0 rd.luks.uuid=$U rd.coco.key=$GUID_A" --wipe-only
tap_check "disabled: the late wipe still removes what the configuration names" \
	eval "secret_gone $GUID_A && secret_present $GUID_B"
tap_done
