#!/usr/bin/env bash
# The man pages (man/*.scd, built by man/man.mk): each builds with scdoc
# and renders with man without a warning, and each says what the code does:
# every option `coco-unlock --help` lists has an entry in coco-unlock(8)'s
# OPTIONS; every parameter agent/cmdline.c parses (the rd.coco.* ones and
# the dracut and mkinitcpio ones) an entry in coco-unlock.cmdline(7), and
# every crypttab option agent/parse-util.c keeps is named in its CRYPTTAB
# OPTIONS; every command `coco-secret --help` lists a subsection of
# coco-secret(1)'s COMMANDS. The pages are built here from the sources, as
# make builds them, so a stale build/man proves nothing.
#
# Environment: TOP, COCO_UNLOCK, COCO_SECRET.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/lib/tap.sh"
: "${COCO_UNLOCK:?COCO_UNLOCK must name the coco-unlock binary}"
: "${COCO_SECRET:?COCO_SECRET must name the coco-secret binary}"

T=$(mktemp -d "${TMPDIR:-/tmp}/coco-man-test.XXXXXX")
trap 'rm -rf "$T"' EXIT

for tool in scdoc man; do
	if ! command -v "$tool" >/dev/null; then
		tap_not_ok "$tool is installed (scripts/install-deps.sh build test)"
		tap_done
		exit
	fi
done

VERSION=$(sed -n 's/^VERSION := //p' "$TOP/Makefile")
tap_check "the Makefile's VERSION is read ($VERSION)" test -n "$VERSION"

# --- every page builds and renders ------------------------------------------------------
pages=
for src in "$TOP"/man/*.scd; do
	name=$(basename "$src" .scd)
	pages="$pages $name"
	# As man/man.mk builds it.
	sed "s/@VERSION@/$VERSION/g" "$src" | scdoc >"$T/$name" 2>"$T/$name.scdoc-err"
	rc=$?
	tap_is "$name: scdoc builds it (exit status)" 0 "$rc"
	tap_empty "$name: scdoc says nothing" "$T/$name" "$(cat "$T/$name.scdoc-err")"
	# What a reader sees (UTF-8), and the plain text the checks below read.
	warnings=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$T/$name" 2>&1 >"$T/$name.utf8")
	tap_empty "$name: man --warnings renders it without a warning" "$T/$name.utf8" "$warnings"
	LC_ALL=C MANWIDTH=80 man -l "$T/$name" >"$T/$name.txt" 2>/dev/null
	tap_check "$name: its footer says coco-unlock $VERSION" grep -q "^coco-unlock $VERSION " "$T/$name.txt"
done
tap_is "man/ has the four pages" \
	" coco-secret.1 coco-unlock.8 coco-unlock.cmdline.7 libcryptsetup-token-coco-efi-secret.8" "$pages"

# section PAGE NAME: the lines of section NAME of a rendered page, up to
# the next section.
section() {
	awk -v name="$2" '/^[A-Z]/ { on = ($0 == name); next } on' "$T/$1.txt"
}
# entry PAGE SECTION TERM: SECTION has an entry (a term line) that is TERM,
# or starts with TERM followed by a space, =, [ or the line's end. TERM is
# an extended regular expression.
entry() {
	section "$1" "$2" | grep -qE "^ {7}$3([ =[]|\$)"
}
# subsection PAGE SECTION NAME: SECTION has a subsection NAME.
subsection() {
	section "$1" "$2" | grep -qxF "   $3"
}
# re TEXT: TEXT as an extended regular expression that matches only it.
re() { printf '%s' "$1" | sed 's/[].[*^$\\]/\\&/g'; }

# --- coco-unlock(8): every option of --help ---------------------------------------------
"$COCO_UNLOCK" --help >"$T/unlock-help" 2>&1
# "  --secrets-dir DIR ...", "  -h, --help ...": the option as --help writes it.
sed -nE 's/^  ((-[A-Za-z], )?--[a-z0-9-]+).*/\1/p' "$T/unlock-help" >"$T/unlock-options"
n=$(wc -l <"$T/unlock-options")
tap_check "coco-unlock --help lists its options ($n)" test "$n" -ge 10
while read -r opt; do
	tap_check "coco-unlock(8) OPTIONS has $opt" entry coco-unlock.8 OPTIONS "$(re "$opt")"
done <"$T/unlock-options"

# --- coco-unlock.cmdline(7): every parameter the agent parses -------------------------
# The rd.coco ones (rd.coco alone is rd.coco=0; "rd.coco." is the prefix of
# the unknown ones), then every key parse_param compares, dracut's and
# mkinitcpio's among them.
grep -oE '"rd\.coco(\.[a-z-]+)?"' "$TOP/agent/cmdline.c" | tr -d '"' | sort -u >"$T/rd-coco"
n=$(wc -l <"$T/rd-coco")
tap_check "agent/cmdline.c parses rd.coco parameters ($n)" test "$n" -ge 9
sed -nE 's/.*strcmp\(key, "([^"]+)"\).*/\1/p' "$TOP/agent/cmdline.c" | grep -v '^rd\.coco' |
	sort -u >"$T/other-params"
n=$(wc -l <"$T/other-params")
tap_check "agent/cmdline.c parses dracut's and mkinitcpio's parameters ($n)" test "$n" -ge 6
while read -r p; do
	tap_check "coco-unlock.cmdline(7) KERNEL PARAMETERS has $p" \
		entry coco-unlock.cmdline.7 "KERNEL PARAMETERS" "$(re "$p")"
done <"$T/rd-coco"
while read -r p; do
	tap_check "coco-unlock.cmdline(7) DRACUT, SYSTEMD AND MKINITCPIO PARAMETERS has $p" \
		entry coco-unlock.cmdline.7 "DRACUT, SYSTEMD AND MKINITCPIO PARAMETERS" "$(re "$p")"
done <"$T/other-params"

# Every crypttab (and cryptdevice) option volume_options_parse keeps: the
# flags it compares and the options with a value it looks for. Named
# anywhere in CRYPTTAB OPTIONS.
{
	grep -oE 'strcmp\(opt, "[^"]+"\)' "$TOP/agent/parse-util.c"
	grep -oE '[a-z_]+\[\] = "[^"]+"' "$TOP/agent/parse-util.c"
} | sed -E 's/.*"(.*)".*/\1/' | sort -u >"$T/crypttab-options"
n=$(wc -l <"$T/crypttab-options")
tap_check "agent/parse-util.c keeps crypttab options ($n)" test "$n" -ge 10
# The section's text, with a word broken after a hyphen at a line's end
# joined again twice: without the hyphen (groff's own) and with it (the
# name's).
for keep in '' '-'; do
	section coco-unlock.cmdline.7 "CRYPTTAB OPTIONS" |
		sed -e :a -e "/[a-z]-\$/{N;s/-\n */$keep/;ba" -e '}'
done >"$T/crypttab-section"
while read -r o; do
	# A name=: its value follows; a flag: a word of its own.
	end='([ ,):]|$)'
	case $o in *=) end= ;; esac
	tap_check "coco-unlock.cmdline(7) CRYPTTAB OPTIONS names $o" \
		grep -qE "(^|[ (])$(re "$o")$end" "$T/crypttab-section"
done <"$T/crypttab-options"

# --- coco-secret(1): every command of --help --------------------------------------------
"$COCO_SECRET" --help >"$T/secret-help" 2>&1
# The command lines come before "Options:": two spaces, then the command.
sed -n '/^Options:/q; p' "$T/secret-help" | sed -nE 's/^  ([a-z]+)( .*|$)/\1/p' | sort -u \
	>"$T/secret-commands"
n=$(wc -l <"$T/secret-commands")
tap_check "coco-secret --help lists its commands ($n)" test "$n" -ge 10
while read -r c; do
	tap_check "coco-secret(1) COMMANDS has a subsection $c" subsection coco-secret.1 COMMANDS "$c"
done <"$T/secret-commands"

tap_done
