#!/usr/bin/env bash
# lintian on the package make check built (issue 12: "make deb builds a
# lintian-clean package"): --pedantic, the package's own overrides (lintian
# reads them from the .deb). Not ok on any E: line; the W:, I: and P:
# lines are printed. Proof that lintian ran and looked at the package: its
# exit status, and an O: line for every override of
# debian/coco-unlock.lintian-overrides (so a stale override fails too).
#
# Environment: TOP, BUILD; CHANGES (default: the one .changes in $BUILD/deb).
set -u
. "$TOP/tests/lib/tap.sh"

if [ -z "${CHANGES:-}" ]; then
	# make deb empties the directory first: one version in it.
	for f in "$BUILD"/deb/coco-unlock_*_amd64.changes; do CHANGES=$f; done
fi
if [ ! -f "${CHANGES:-}" ]; then
	tap_not_ok "a .changes in $BUILD/deb to check (make deb)"
	tap_done
	exit 1
fi
out=$BUILD/deb/lintian.txt

# --fail-on none: lintian 2.116 counts shown overrides (--show-overrides)
# at their tag's level, so its exit status 2 would not mean an error; the
# E: lines say that. 0 is "normal operation", 1 a run-time error.
rc=0
lintian --pedantic --display-info --show-overrides --fail-on none "$CHANGES" \
	>"$out" 2>"$out.err" || rc=$?
tap_is "lintian ran (exit status)" 0 "$rc"
grep -v '^running with root privileges' "$out.err" | sed 's/^/#   stderr: /'

grep -E '^[WIP]: ' "$out" | sed 's/^/# /'
tap_absent "lintian --pedantic: no E: line" "$out" '^E: '

# Each override (its tag, the first word after an optional "package:")
# matched in the package.
n=0
while read -r tag rest; do
	case $tag in '' | '#'*) continue ;; coco-unlock:) tag=${rest%% *} ;; esac
	n=$((n + 1))
	tap_check "lintian used the override $tag ${rest#"$tag" }" grep -q "^O: coco-unlock: $tag " "$out"
done <"$TOP/debian/coco-unlock.lintian-overrides"
tap_check "the package has overrides to prove lintian looked at it" test "$n" -gt 0
tap_done
