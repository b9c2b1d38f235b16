# shellcheck shell=bash
# TAP helpers for the shell tests: each check prints "ok N - name" or
# "not ok N - name"; tests/run-tests.sh counts them.

TAP_N=0
TAP_FAILED=0

tap_ok() {
	TAP_N=$((TAP_N + 1))
	echo "ok $TAP_N - $*"
}

tap_not_ok() {
	TAP_N=$((TAP_N + 1))
	TAP_FAILED=$((TAP_FAILED + 1))
	echo "not ok $TAP_N - $*"
}

tap_skip() {
	TAP_N=$((TAP_N + 1))
	echo "ok $TAP_N - $1 # SKIP ${2:-}"
}

# tap_check NAME COMMAND...: passes when COMMAND succeeds.
tap_check() {
	local name=$1
	shift
	if "$@"; then
		tap_ok "$name"
	else
		tap_not_ok "$name"
	fi
}

# tap_is NAME EXPECTED ACTUAL
tap_is() {
	if [ "$2" = "$3" ]; then
		tap_ok "$1"
	else
		tap_not_ok "$1"
		echo "#   expected: '$2'"
		echo "#   got:      '$3'"
	fi
}

# A check for the absence of something is only as good as the proof that
# the run it reads happened. tap_run_happened FILE [END_ERE] succeeds when
# FILE exists, is not empty and, when END_ERE is given, has a line
# matching it (the run's own end marker); otherwise it sets TAP_WHY.
TAP_WHY=
tap_run_happened() {
	local file=$1 end=${2:-}
	if [ ! -e "$file" ]; then
		TAP_WHY="$file does not exist"
	elif [ ! -s "$file" ]; then
		TAP_WHY="$file is empty"
	elif [ -n "$end" ] && ! grep -aqE -- "$end" "$file"; then
		TAP_WHY="$file never reached its end marker '$end'"
	else
		TAP_WHY=
		return 0
	fi
	return 1
}

# tap_absent NAME FILE ERE [END_ERE]: no line of FILE matches ERE, and the
# run that wrote FILE happened (tap_run_happened). "not ok" otherwise.
tap_absent() {
	local name=$1 file=$2 re=$3 end=${4:-}
	if ! tap_run_happened "$file" "$end"; then
		tap_not_ok "$name"
		echo "#   no proof the run happened: $TAP_WHY"
	elif grep -aqE -- "$re" "$file"; then
		tap_not_ok "$name"
		grep -aE -- "$re" "$file" | head -n 3 | sed 's/^/#   found: /'
	else
		tap_ok "$name"
	fi
}

# tap_absent_bytes NAME FILE END_ERE|'' SECRETFILE...: no SECRETFILE's
# bytes, nor any 12-byte piece of them, appear in FILE, and the run that
# wrote FILE happened. An empty or missing SECRETFILE is "not ok" too:
# there would be nothing to look for.
tap_absent_bytes() {
	local name=$1 file=$2 end=$3 k found=
	shift 3
	if ! tap_run_happened "$file" "$end"; then
		tap_not_ok "$name"
		echo "#   no proof the run happened: $TAP_WHY"
		return
	fi
	[ $# -gt 0 ] || { tap_not_ok "$name"; echo "#   no secret to look for"; return; }
	for k in "$@"; do
		if [ ! -s "$k" ]; then
			tap_not_ok "$name"
			echo "#   secret file $k is missing or empty: nothing to look for"
			return
		fi
	done
	# In Python, not grep -F: a binary secret may hold a newline (which
	# would split the pattern into short ones that match anything) or a
	# NUL (which the shell drops).
	found=$(python3 -c '
import sys
data = open(sys.argv[1], "rb").read()
for k in sys.argv[2:]:
    s = open(k, "rb").read()
    pieces = [s[i:i + 12] for i in range(0, max(len(s) - 12, 0) + 1)]
    if any(p in data for p in pieces):
        print(k)
' "$file" "$@" | tr '\n' ' ')
	found=${found:+ ${found% }}
	if [ -n "$found" ]; then
		tap_not_ok "$name"
		echo "#   bytes of these secrets found in $file:$found"
	else
		tap_ok "$name"
	fi
}

# tap_empty NAME PROOF VALUE: VALUE (what a run printed or asked for) is
# empty, and PROOF, a file the run writes only when it happened (its
# status, its call log), exists and is not empty.
tap_empty() {
	if ! tap_run_happened "$2"; then
		tap_not_ok "$1"
		echo "#   no proof the run happened: $TAP_WHY"
	elif [ -n "$3" ]; then
		tap_not_ok "$1"
		printf '%s\n' "$3" | head -n 3 | sed 's/^/#   got: /'
	else
		tap_ok "$1"
	fi
}

tap_diag() {
	echo "# $*"
}

tap_done() {
	echo "1..$TAP_N"
	[ "$TAP_FAILED" -eq 0 ]
}
