#!/usr/bin/env bash
# The C style (.clang-format) on every line a change adds or modifies since
# .clang-format came: git clang-format formats only those lines, so what
# was written before stays as it is and nothing new drifts. One check per
# file it would change, with the first lines of its diff.
set -u
. "$TOP/tests/lib/tap.sh"
cd "$TOP" || exit 1

if ! command -v git-clang-format >/dev/null || ! git rev-parse --git-dir >/dev/null 2>&1; then
	tap_skip "C format of changed lines" "needs git, a checkout and clang-format (Debian: clang-format)"
	tap_done
	exit
fi
# The commit that added .clang-format: lines changed since then are checked.
base=$(git log --diff-filter=A --format=%H -- .clang-format | tail -n 1)
if [ -z "$base" ]; then
	tap_not_ok "C format of changed lines: .clang-format is committed"
	tap_done
	exit
fi
out=$(mktemp)
trap 'rm -f "$out"' EXIT
git clang-format --binary clang-format --diff --extensions c,h "$base" -- '*.c' '*.h' >"$out" 2>&1
rc=$?
tap_diag "lines changed since $(git log -1 --format='%h %s' "$base")"
if grep -qE '^(no modified files to format|clang-format did not modify any files)' "$out"; then
	tap_ok "C format of changed lines: clean"
elif [ "$rc" -ne 0 ] && ! grep -q '^diff --git' "$out"; then
	tap_not_ok "C format of changed lines: git clang-format ran (status $rc)"
	sed 's/^/#   /' "$out" | head -n 10
else
	while IFS= read -r f; do
		tap_not_ok "C format: $f (run: git clang-format $base -- $f)"
		awk -v f="$f" '/^diff --git/ { on = index($0, " a/" f " ") > 0 } on' "$out" |
			grep -E '^[-+][^-+]' | head -n 6 | sed 's/^/#   /'
	done < <(sed -n 's|^diff --git a/\(.*\) b/.*|\1|p' "$out")
fi
tap_done
