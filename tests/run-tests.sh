#!/usr/bin/env bash
# Runs test programs that speak TAP ("ok N - name" / "not ok N - name",
# "# SKIP" directive), keeps each one's log, and prints one closing line
# per phase. A program that exits non-zero without reporting a failure
# counts as one failure, so a crashing test can never pass silently.
#
#   run-tests.sh --phase NAME --results FILE [--timeout SECONDS] TEST...
#   run-tests.sh --total --results FILE
set -u

phase='' results='' total=0 limit=900
while [ $# -gt 0 ]; do
	case $1 in
	--phase) phase=$2; shift 2 ;;
	--results) results=$2; shift 2 ;;
	--timeout) limit=$2; shift 2 ;;
	--total) total=1; shift ;;
	--) shift; break ;;
	-*) echo "run-tests.sh: unknown option $1" >&2; exit 2 ;;
	*) break ;;
	esac
done
[ -n "$results" ] || { echo "run-tests.sh: --results FILE is required" >&2; exit 2; }

if [ "$total" = 1 ]; then
	pass=0 fail=0 skip=0
	[ -f "$results" ] || { echo "run-tests.sh: no results in $results" >&2; exit 1; }
	while read -r _ p f s; do
		pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
	done <"$results"
	echo "total: $pass passed, $fail failed, $skip skipped"
	[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
	exit
fi

[ -n "$phase" ] || { echo "run-tests.sh: --phase NAME is required" >&2; exit 2; }
logdir=$(dirname "$results")/test-logs/$phase
mkdir -p "$logdir"
pass=0 fail=0 skip=0

for t in "$@"; do
	name=$(basename "$t")
	log=$logdir/$name.log
	start=$(date +%s)
	timeout --kill-after=10 "$limit" "$t" >"$log" 2>&1
	rc=$?
	p=$(grep -c -E '^ok [0-9]+( |$)' "$log" | tr -d ' ')
	s=$(grep -c -E '^ok [0-9]+.*# SKIP' "$log" | tr -d ' ')
	f=$(grep -c -E '^not ok [0-9]+' "$log" | tr -d ' ')
	p=$((p - s))
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
		echo "not ok - $name exited with status $rc" >>"$log"
	fi
	if [ "$p" -eq 0 ] && [ "$f" -eq 0 ] && [ "$s" -eq 0 ]; then
		f=1
		echo "not ok - $name reported no test" >>"$log"
	fi
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
	printf '%-8s %-40s %3d ok %3d failed %3d skipped  %4ds\n' \
		"$phase" "$name" "$p" "$f" "$s" $(( $(date +%s) - start ))
	if [ "$f" -gt 0 ]; then
		grep -E '^not ok' "$log" | sed 's/^/    /'
		echo "    --- last lines of $log:"
		tail -n 25 "$log" | sed 's/^/    | /'
	fi
done

echo "$phase $pass $fail $skip" >>"$results"
echo "$phase: $pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
