#!/usr/bin/env bash
# The wait for a device that is not there yet (agent/device-events.c):
# a disk renamed into --devices-dir while coco-unlock waits is picked up
# as it appears (inotify), not on the next tick; the timeout still holds
# when nothing comes; a flood of unrelated files created in the directory
# neither starves nor hangs the wait, and does not make it look again
# more than once per 10 ms.
#
# Latency is wall time, from just before the rename(2) to the first line
# coco-unlock prints after it, each line stamped as it is read from its
# output. The median of three renames at odd offsets must be within
# PICKUP_MS: a 100 ms polling tick gives a median of about 50 ms, any
# longer tick fails; the debug summary must also say the look that found
# it came from an event.
. "$(dirname "$0")/lib.sh"

PICKUP_MS=50
# Under the flood the machine is busy: only "not starved".
FLOOD_PICKUP_MS=1000
LOOK_GAP_MS=10
TIMEOUT_S=2

new_secret >"$FIX/key"
mkdir -p "$FIX/stage"
make_luks "$FIX/stage/disk.img" luks2 "$FIX/key"
U=$(luks_uuid "$FIX/stage/disk.img")
CMD="rd.luks.uuid=$U rd.coco.key=$GUID_A rd.coco.debug"

# Every line of stdin, with the wall time it was read at first.
stamp() {
	local line
	while IFS= read -r line; do
		printf '%s %s\n' "$EPOCHREALTIME" "$line"
	done
}

# agent_bg CMDLINE: coco-unlock in the background; its stamped lines in
# $FIX/out, its exit status in $FIX/rc; JOB waits for both.
agent_bg() {
	printf '%s\n' "$1" >"$FIX/cmdline"
	: >"$FIX/out"
	rm -f "$FIX/rc"
	{
		timeout 60 "$COCO_UNLOCK" --secrets-dir "$SECRETS" --cmdline "$FIX/cmdline" \
			--crypttab /dev/null --devices-dir "$DEVICES" --state-dir "$STATE" --dry-run 2>&1
		echo $? >"$FIX/rc"
	} | stamp >"$FIX/out" &
	JOB=$!
}

# The wall time of the first line matching ERE (at most 10 s of waiting for it).
line_time() {
	local t
	for _ in $(seq 100); do
		t=$(grep -E -- "$1" "$FIX/out" | head -n 1 | cut -d' ' -f1)
		[ -n "$t" ] && { echo "$t"; return 0; }
		sleep 0.1
	done
	return 1
}

# tap_less_than NAME LIMIT VALUE: VALUE is a number below LIMIT.
tap_less_than() {
	if [ -n "$3" ] && [ "$3" -lt "$2" ] 2>/dev/null; then
		tap_ok "$1 ($3 < $2)"
	else
		tap_not_ok "$1 (got '$3', limit $2)"
	fi
}

ms_between() { # T0 T1: (T1 - T0) in whole ms
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%d", (b - a) * 1000 }'
}

# The first line stamped after T.
first_after() {
	awk -v t="$1" '$1 > t { print $1; exit }' "$FIX/out"
}

# agent_done NAME: the run's checks once JOB ended.
agent_done() {
	wait "$JOB"
	# RC and OUT are what lib.sh's checks (rc_is, out_has) read.
	# shellcheck disable=SC2034
	RC=$(cat "$FIX/rc" 2>/dev/null || echo none)
	# shellcheck disable=SC2034
	OUT=$FIX/out
	agent_ran_mark
	show_output "$1"
	check_no_secret_bytes "$1"
}

summary_count() { # WHAT: the number before WHAT in the debug summary
	grep -oE "[0-9]+ $1" "$FIX/out" | head -n 1 | cut -d' ' -f1
}

# flood_start: unrelated files created, written and removed in $DEVICES
# as fast as Python can (never more than 32 at a time: the scan looks at
# 256 names at most).
flood_start() {
	python3 - "$DEVICES" <<-'EOF' &
	import os, sys
	d, i = sys.argv[1], 0
	while True:
	    with open(os.path.join(d, "junk-%d" % (i % 32)), "w") as f:
	        f.write("x")
	    i += 1
	    if i % 32 == 0:
	        for j in range(32):
	            os.unlink(os.path.join(d, "junk-%d" % j))
	EOF
	FLOOD=$!
}

flood_stop() {
	kill "$FLOOD" 2>/dev/null
	wait "$FLOOD" 2>/dev/null
	rm -f "$DEVICES"/junk-*
}

# plug NAME DELAY: the disk renamed in DELAY s into the wait; PICKUP is
# the ms from just before the rename to coco-unlock's next line.
plug() {
	local name=$1 delay=$2 before first
	clear_secrets
	put_secret "$GUID_A" "$FIX/key"
	agent_bg "$CMD rd.coco.timeout=20"
	if ! line_time "waiting up to" >/dev/null; then
		tap_not_ok "$name: coco-unlock waits for the disk"
	fi
	sleep "$delay"
	before=$EPOCHREALTIME
	mv "$FIX/stage/disk.img" "$DEVICES/disk.img"
	agent_done "$name"
	mv "$DEVICES/disk.img" "$FIX/stage/disk.img"
	rc_is "$name" 0
	out_has "$name: the disk is found and its key verified" "key verified for $DEVICES/disk.img"
	first=$(first_after "$before")
	PICKUP=$([ -n "$first" ] && ms_between "$before" "$first")
	tap_diag "$name: first line ${PICKUP:-?} ms after the rename"
}

# --- picked up as it appears -------------------------------------------------------
pickups=()
for delay in 1.53 1.27 0.71; do
	plug "rename-$delay" "$delay"
	out_has "rename-$delay: the wait watches the directory" "watching for devices with inotify on $DEVICES\$"
	tap_check "rename-$delay: the look that found it came from an event" \
		test "$(summary_count 'look\(s\) on an event')" -ge 1
	pickups+=("${PICKUP:-99999}")
done
median=$(printf '%s\n' "${pickups[@]}" | sort -n | sed -n 2p)
tap_less_than "picked up within $PICKUP_MS ms of the rename (median of ${pickups[*]} ms)" \
	"$PICKUP_MS" "$median"

# --- nothing comes: the timeout holds ------------------------------------------------
clear_secrets
put_secret "$GUID_A" "$FIX/key"
t0=$EPOCHREALTIME
run_agent timeout "$CMD rd.coco.timeout=$TIMEOUT_S"
took=$(ms_between "$t0" "$EPOCHREALTIME")
rc_is timeout 1
out_has "timeout: gives up" "device $U did not appear within $TIMEOUT_S s"
tap_check "timeout: not before $TIMEOUT_S s ($took ms)" test "$took" -ge $((TIMEOUT_S * 1000))
tap_less_than "timeout: and not much after (ms)" $((TIMEOUT_S * 1000 + 1500)) "$took"

# --- a flood of unrelated files ---------------------------------------------------------
# looks_bounded NAME: the looks an event caused are at most one per
# LOOK_GAP_MS of waiting (and a few).
looks_bounded() {
	local start end looks limit
	start=$(grep -E 'waiting up to' "$FIX/out" | head -n 1 | cut -d' ' -f1)
	end=$(grep -E 'device wait: ' "$FIX/out" | head -n 1 | cut -d' ' -f1)
	looks=$(summary_count 'look\(s\) on an event')
	limit=$(( $(ms_between "${start:-0}" "${end:-0}") / LOOK_GAP_MS + 5 ))
	tap_diag "$1: $looks look(s) on an event, $(summary_count 'event\(s\) read') event(s) read"
	tap_check "$1: at most one look per $LOOK_GAP_MS ms ($looks, limit $limit)" \
		test -n "$looks" -a "${looks:-0}" -le "$limit" -a -n "$start" -a -n "$end"
}

flood_start
plug flood-rename 1.5
looks_bounded flood-rename
tap_check "flood-rename: the flood was read (more events than looks)" \
	test "$(summary_count 'event\(s\) read')" -gt "$(summary_count 'look\(s\) on an event')"
tap_less_than "flood-rename: not starved: picked up within $FLOOD_PICKUP_MS ms" "$FLOOD_PICKUP_MS" "${PICKUP:-}"

clear_secrets
put_secret "$GUID_A" "$FIX/key"
t0=$EPOCHREALTIME
agent_bg "$CMD rd.coco.timeout=$TIMEOUT_S"
agent_done flood-timeout
took=$(ms_between "$t0" "$EPOCHREALTIME")
flood_stop
rc_is flood-timeout 1
out_has "flood-timeout: gives up" "device $U did not appear within $TIMEOUT_S s"
tap_less_than "flood-timeout: the timeout holds under the flood (ms)" $((TIMEOUT_S * 1000 + 1500)) "$took"
looks_bounded flood-timeout
tap_done
