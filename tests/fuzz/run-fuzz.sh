#!/usr/bin/env bash
# Runs libFuzzer targets built by tests/fuzz/fuzz.mk, each from its seed
# corpus (tests/fuzz/corpus/TARGET) plus what earlier runs found, for
# FUZZ_SECONDS seconds or FUZZ_RUNS executions. TAP: one check per target,
# "not ok" on any crash, leak or sanitizer report (libFuzzer exits non-zero
# and leaves a crash-* file), with the number of executions as a comment.
#
#   FUZZ_DIR=build/fuzz run-fuzz.sh TARGET...
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/lib/tap.sh"
: "${FUZZ_DIR:?FUZZ_DIR must name the directory of the fuzz-* binaries}"

# Seeds that are disk bytes are made here, not committed: the first 32 KiB
# of LUKS1 and LUKS2 images (PBKDF2; argon2id with a coco token).
make_header_seeds() {
	local dir=$1 img=$FUZZ_DIR/seed.img key=$FUZZ_DIR/seed.key
	[ -e "$dir/.made" ] && return
	mkdir -p "$dir"
	printf 'a seed passphrase, long enough for it' >"$key"
	for kind in luks1 luks2 luks2-argon2; do
		rm -f "$img"
		truncate -s 20M "$img"
		case $kind in
		luks2-argon2)
			cryptsetup luksFormat -q --type luks2 --pbkdf argon2id --pbkdf-memory 32768 \
				--pbkdf-force-iterations 4 --key-file "$key" "$img" &&
				printf '{"type":"coco-efi-secret","keyslots":["0"],"guid":"%s","mac":"%064d"}' \
					736869e5-84f0-4973-92ec-06879ce3da0b 0 | cryptsetup token import "$img" ;;
		*)
			cryptsetup luksFormat -q --type "$kind" --pbkdf pbkdf2 --pbkdf-force-iterations 1000 \
				--key-file "$key" "$img" ;;
		esac >/dev/null 2>&1 || continue
		head -c 32768 "$img" >"$dir/$kind.bin"
	done
	rm -f "$img" "$key"
	touch "$dir/.made"
}

for t in "$@"; do
	bin=$FUZZ_DIR/fuzz-$t
	corpus=$FUZZ_DIR/corpus-$t
	log=$FUZZ_DIR/fuzz-$t.log
	mkdir -p "$corpus" "$FUZZ_DIR/crashes-$t"
	if [ ! -x "$bin" ]; then
		tap_not_ok "fuzz-$t: built"
		continue
	fi
	if [ -n "${FUZZ_RUNS:-}" ]; then
		limit=(-runs="$FUZZ_RUNS")
	else
		limit=(-max_total_time="${FUZZ_SECONDS:-12}")
	fi
	seeds=$TOP/tests/fuzz/corpus/$t
	if [ "$t" = luks-header ]; then
		seeds=$FUZZ_DIR/seeds-$t
		make_header_seeds "$seeds"
	fi
	start=$SECONDS
	"$bin" "${limit[@]}" -print_final_stats=1 -close_fd_mask=2 -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="$FUZZ_DIR/crashes-$t/" "$corpus" "$seeds" >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	if [ "$rc" = 0 ] && [ -n "$execs" ]; then
		tap_ok "fuzz-$t: $execs executions in $((SECONDS - start)) s, no crash, leak or sanitizer report"
	else
		tap_not_ok "fuzz-$t: status $rc after ${execs:-?} executions (log: $log)"
		grep -E 'ERROR|SUMMARY|runtime error' "$log" | head -n 5 | sed 's/^/#   /'
	fi
done
tap_done
