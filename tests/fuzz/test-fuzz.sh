#!/usr/bin/env bash
# make check's short fuzz run: each target of FUZZ_TARGETS (tests/fuzz/fuzz.mk)
# for FUZZ_SECONDS (12) seconds. `make fuzz` runs them longer.
# shellcheck disable=SC2086 # one argument a target
exec "$(dirname "$0")/run-fuzz.sh" ${FUZZ_TARGETS:?FUZZ_TARGETS must list the targets}
