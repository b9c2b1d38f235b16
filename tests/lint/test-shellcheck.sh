#!/usr/bin/env bash
# Runs shellcheck on every shell file the project ships or tests with: the
# hooks and boot scripts of each generator, the developer scripts, the
# tests. One check per file: no finding (with .shellcheckrc's settings,
# which say what is off and why).
set -u
. "$TOP/tests/lib/tap.sh"
cd "$TOP" || exit 1

if ! command -v shellcheck >/dev/null || ! git rev-parse --git-dir >/dev/null 2>&1; then
	tap_skip "shellcheck" "needs shellcheck (Debian: shellcheck) and a git checkout"
	tap_done
	exit
fi
# Shell files: *.sh, a shell's #!, or a `# shellcheck shell=` first line.
files=()
while IFS= read -r f; do
	[ -f "$f" ] || continue
	case $f in
	*.sh) files+=("$f") ;;
	*) head -n 1 "$f" | grep -qE '^(#!/(usr/)?bin/(env )?(ba|da|a)?sh\b|# shellcheck shell=)' &&
		files+=("$f") ;;
	esac
done < <(git ls-files)
tap_diag "shellcheck $(shellcheck --version | sed -n 's/^version: //p') on ${#files[@]} files"
if [ "${#files[@]}" -lt 50 ]; then
	tap_not_ok "shellcheck: the shell files are found (${#files[@]})"
	tap_done
	exit
fi
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for f in "${files[@]}"; do
	if shellcheck -f gcc "$f" >"$out" 2>&1; then
		tap_ok "shellcheck: $f"
	else
		tap_not_ok "shellcheck: $f"
		head -n 8 "$out" | sed 's/^/#   /'
	fi
done
tap_done
