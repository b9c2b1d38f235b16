#!/usr/bin/env bash
# rd.coco.on-failure=poweroff in coco-unlock itself: every normal end that
# leaves a volume closed goes through the power-off (a test run says so and
# exits instead). The scripts of the generators rely on it: they power off
# themselves only when coco-unlock did not get that far (a signal, exit 2;
# tests/initramfs-tools/test-fail-closed.sh).
. "$(dirname "$0")/lib.sh"

new_secret >"$FIX/key"
# A volume that never appears: left closed at once (rd.coco.timeout=0).
ABSENT="rd.luks.uuid=11111111-1111-4111-8111-111111111111 rd.coco.timeout=0"
POWEROFF='on-failure=poweroff: powering off'
TESTRUN='not powering off: a test run'

clear_secrets
put_secret "$DISK_GUID" "$FIX/key"
run_agent closed "$ABSENT rd.coco.on-failure=poweroff"
rc_is closed 1
out_has "closed: powering off" "left closed and $POWEROFF"
out_has "closed: but not in a test run" "$TESTRUN"

put_secret "$DISK_GUID" "$FIX/key"
run_agent prompt "$ABSENT"
rc_is prompt 1
out_lacks "prompt (the default): no power-off" "powering off"

put_secret "$DISK_GUID" "$FIX/key"
printf 'data UUID=11111111-1111-4111-8111-111111111111 none luks,x-coco.on-failure=poweroff\n' >"$FIX/crypttab"
run_agent crypttab "rd.coco.timeout=0"
rc_is crypttab 1
out_has "crypttab x-coco.on-failure=poweroff: powering off" "data: left closed and $POWEROFF"
rm -f "$FIX/crypttab"

clear_secrets
run_agent no-secrets "$ABSENT rd.coco.on-failure=poweroff"
rc_is no-secrets 3
out_has "no secrets: powering off" "no secrets and rd.coco.$POWEROFF"

# A configuration error opens nothing and decides nothing: exit 2, for
# which the scripts power off when asked, also when a secret could not be
# wiped (4 is for a run that applied on-failure itself).
if unshare -m --propagation private true 2>/dev/null; then
	clear_secrets
	put_secret "$DISK_GUID" "$FIX/key"
	printf '%s\n' "$ABSENT rd.coco.on-failure=poweroff rd.coco.wipe=sometimes" >"$FIX/cmdline"
	run_agent_ro_secrets config-ro
	rc_is "config-ro: a configuration error, and the wipe fails" 2
	out_has "config-ro: the configuration error is said" "configuration error: no volume is opened"
	out_has "config-ro: the failed unlink is said" "cannot wipe secret $DISK_GUID: Read-only file system; it is still readable"
else
	tap_skip "configuration error and a read-only secrets directory" "unshare -m not permitted here"
fi

# The locked memory for the working copies refused (memory pressure, a
# balloon the host inflates) after the secrets were read: the volumes stay
# closed, and with poweroff asked that must power off too, not exit 1 for
# the prompt. A memlock limit (without CAP_IPC_LOCK, which ignores it)
# just above what the secrets' store takes: found by trying page after page.
if [ "${SANITIZED:-0}" = 1 ]; then
	# ASan's runtime locks and maps memory of its own: no page count lets
	# the secrets in and keeps the working copies out (the plain build
	# runs this in the agent phase).
	tap_skip "locked memory refused" "not under ASan (its runtime's own memory)"
	tap_done
	exit
fi
if [ "$(id -u)" != 0 ] || ! command -v setpriv >/dev/null || ! command -v prlimit >/dev/null ||
	! setpriv --bounding-set=-ipc_lock true 2>/dev/null; then
	tap_skip "locked memory refused" "needs root, setpriv and prlimit"
	tap_done
	exit
fi
limit=
for pages in $(seq 1 160); do
	cp "$FIX/key" "$SECRETS/$DISK_GUID"
	if setpriv --bounding-set=-ipc_lock --inh-caps=-ipc_lock prlimit --memlock=$((pages * 4096)) \
		"$COCO_UNLOCK" --secrets-dir "$SECRETS" --cmdline <(echo "$ABSENT") --crypttab /dev/null \
		--devices-dir "$DEVICES" --state-dir "$STATE" --dry-run 2>&1 |
		grep -q 'cannot lock memory for secrets'; then
		limit=$((pages * 4096))
		break
	fi
done
tap_check "locked memory refused: a limit that lets the secrets in but not their working copies (${limit:-none})" \
	test -n "$limit"
clear_secrets
put_secret "$DISK_GUID" "$FIX/key"
AGENT_WRAPPER="setpriv --bounding-set=-ipc_lock --inh-caps=-ipc_lock prlimit --memlock=${limit:-0}" \
	run_agent no-lock "$ABSENT rd.coco.on-failure=poweroff"
rc_is no-lock 1
out_has "no-lock: the refusal is said" "cannot lock memory for secrets"
out_has "no-lock: powering off" "$POWEROFF"

tap_done
