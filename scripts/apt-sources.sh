#!/bin/bash
# Prints the Debian 12 archives this machine's apt is configured with, one
# "URI SUITE" line each (suites bookworm, bookworm-updates,
# bookworm-security), read from /etc/apt/sources.list,
# sources.list.d/*.list (one-line format) and sources.list.d/*.sources
# (deb822). Mirrors, proxies (apt-cacher-ng's http://host:3142/...) and
# local copies (file:/...) are taken as they are: the suite names, not the
# addresses, say which archive an entry is; a machine with no bookworm
# entry (Debian 13) gets its trixie or forky entries' addresses, which
# serve bookworm too. Used by the static build (its
# private deb-src list) and the fresh-machine run (debootstrap).
#
#   apt-sources.sh            all of them
#   apt-sources.sh SUITE      only that suite's URIs, one per line
#
# DEBIAN_MIRROR=URI (and DEBIAN_SECURITY_MIRROR=URI) replace what apt is
# configured with. Exits 1 with an explanation on stderr when no entry
# serves bookworm. APT_SOURCES_ROOT (default /) reads another root's
# configuration (tests).
set -eu
set -o pipefail

root=${APT_SOURCES_ROOT:-}
etc=$root/etc/apt
want=${1:-}

# One-line format: deb [options] URI SUITE COMPONENT...
one_line() {
	sed -e 's/#.*//' -e 's/\[[^]]*\]//' "$@" 2>/dev/null |
		awk '($1 == "deb" || $1 == "deb-src") && NF >= 3 { print $2, $3 }'
}

# deb822: stanzas separated by blank lines with Types:, URIs:, Suites:
# (each may list several) and Enabled: no to skip one.
deb822() {
	awk '
	function flush(  i, j, nu, ns, u, s) {
		if (types ~ /(^| )deb(-src)?( |$)/ && enabled != "no") {
			nu = split(uris, u, " "); ns = split(suites, s, " ")
			for (i = 1; i <= nu; i++) for (j = 1; j <= ns; j++) print u[i], s[j]
		}
		types = uris = suites = ""; enabled = "yes"; field = ""
	}
	BEGIN { enabled = "yes" }
	/^[ \t]*#/ { next }
	/^[ \t]*$/ { flush(); next }
	/^[ \t]/ { if (field == "uris") uris = uris " " $0; else if (field == "suites") suites = suites " " $0; next }
	{
		name = tolower($0); sub(/:.*/, "", name); value = $0; sub(/^[^:]*:[ \t]*/, "", value)
		field = name
		if (name == "types") types = value
		else if (name == "uris") uris = value
		else if (name == "suites") suites = value
		else if (name == "enabled") enabled = tolower(value)
	}
	END { flush() }' "$@" 2>/dev/null
}

out=$(mktemp "${TMPDIR:-/tmp}/apt-sources.XXXXXX")
trap 'rm -f "$out" "$out.all"' EXIT
if [ -n "${DEBIAN_MIRROR:-}" ]; then
	printf '%s bookworm\n%s bookworm-updates\n' "$DEBIAN_MIRROR" "$DEBIAN_MIRROR"
	[ -n "${DEBIAN_SECURITY_MIRROR:-}" ] && echo "$DEBIAN_SECURITY_MIRROR bookworm-security"
else
	[ -r "$etc/sources.list" ] && one_line "$etc/sources.list"
	for f in "$etc"/sources.list.d/*.list; do [ -r "$f" ] && one_line "$f"; done
	for f in "$etc"/sources.list.d/*.sources; do [ -r "$f" ] && deb822 "$f"; done
fi | tr -s ' \t' '  ' | sed 's|/*  *| |; s|/*$||' >"$out.all" || true
awk '($2 == "bookworm" || $2 == "bookworm-updates" || $2 == "bookworm-security") && !seen[$0]++' \
	"$out.all" >"$out"
# A Debian 13 (or later) machine has no bookworm entry, but its archives
# serve bookworm too (the same addresses, one suite name apart).
if ! grep -q ' bookworm$' "$out"; then
	awk '{ rel = $2; sub(/-.*/, "", rel); rest = substr($2, length(rel) + 1) }
	(rel == "trixie" || rel == "forky") && (rest == "" || rest == "-updates" || rest == "-security") {
		line = $1 " bookworm" rest; if (!seen[line]++) print line }' "$out.all" >"$out"
fi

if ! grep -q ' bookworm$' "$out"; then
	cat >&2 <<-EOF
	apt-sources.sh: no apt source of this machine serves Debian 12 (suite bookworm);
	  looked in $etc/sources.list, $etc/sources.list.d/*.list and *.sources.
	  Add the archive you can reach (a mirror, a proxy or a local copy), e.g.
	    deb http://deb.debian.org/debian bookworm main
	    deb http://deb.debian.org/debian bookworm-updates main
	    deb http://deb.debian.org/debian-security bookworm-security main
	  to $etc/sources.list, run apt-get update, and try again; or set
	  DEBIAN_MIRROR=URI (and DEBIAN_SECURITY_MIRROR=URI) for this build only.
	EOF
	exit 1
fi
if [ -n "$want" ]; then
	awk -v s="$want" '$2 == s { print $1 }' "$out"
else
	cat "$out"
fi
