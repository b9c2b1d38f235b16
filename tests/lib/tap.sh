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

tap_diag() {
	echo "# $*"
}

tap_done() {
	echo "1..$TAP_N"
	[ "$TAP_FAILED" -eq 0 ]
}
