#!/usr/bin/env bash
# scripts/apt-sources.sh on fake /etc/apt trees: one-line and deb822 files,
# mirrors and proxies, disabled and foreign entries, and none at all.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/lib/tap.sh"

T=$(mktemp -d "${TMPDIR:-/tmp}/coco-apt-test.XXXXXX")
trap 'rm -rf "$T"' EXIT
HELPER=$TOP/scripts/apt-sources.sh

# tree NAME: an empty fake root; prints its path.
tree() {
	mkdir -p "$T/$1/etc/apt/sources.list.d"
	echo "$T/$1"
}

# sources ROOT [SUITE]: runs the helper; RC its status, $T/out its lines
# joined by ';', $T/err its stderr.
sources() {
	env -u DEBIAN_MIRROR -u DEBIAN_SECURITY_MIRROR APT_SOURCES_ROOT="$1" "$HELPER" ${2:+"$2"} \
		>"$T/lines" 2>"$T/err"
	RC=$?
	tr '\n' ';' <"$T/lines" >"$T/out"
}
got() { cat "$T/out"; }

# Debian 12's default: deb822 in debian.sources, with a comment and the
# security archive in a stanza of its own.
r=$(tree default)
cat >"$r/etc/apt/sources.list.d/debian.sources" <<'EOF'
Types: deb
# http://snapshot.debian.org/archive/debian/20250520T000000Z
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
sources "$r"
tap_is "deb822: every suite of every stanza" \
	"http://deb.debian.org/debian bookworm;http://deb.debian.org/debian bookworm-updates;http://deb.debian.org/debian-security bookworm-security;" \
	"$(got)"
tap_is "deb822: exit 0" 0 "$RC"
sources "$r" bookworm-security
tap_is "one suite: its URI alone" "http://deb.debian.org/debian-security;" "$(got)"

# The classic one-line format with options, a proxy and a local mirror;
# other distributions' and other suites' lines are not Debian 12.
r=$(tree oneline)
cat >"$r/etc/apt/sources.list" <<'EOF'
# a comment line
deb [arch=amd64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://apt-proxy.internal:3142/debian/ bookworm main contrib
deb-src http://apt-proxy.internal:3142/debian bookworm main
deb http://apt-proxy.internal:3142/debian bookworm-updates main # updates
deb https://packages.cloud.google.com/apt cloud-sdk-bookworm main
deb http://deb.debian.org/debian trixie main
EOF
echo 'deb file:/srv/mirror/debian-security bookworm-security main' >"$r/etc/apt/sources.list.d/local.list"
sources "$r"
tap_is "one-line: proxy with options, trailing slash dropped, duplicates once, foreign suites out" \
	"http://apt-proxy.internal:3142/debian bookworm;http://apt-proxy.internal:3142/debian bookworm-updates;file:/srv/mirror/debian-security bookworm-security;" \
	"$(got)"

# A disabled deb822 stanza, and a stanza with several URIs.
r=$(tree deb822-more)
cat >"$r/etc/apt/sources.list.d/mirrors.sources" <<'EOF'
Types: deb deb-src
URIs: http://mirror-a.example/debian http://mirror-b.example/debian
Suites: bookworm
Components: main

Enabled: no
Types: deb
URIs: http://disabled.example/debian
Suites: bookworm-updates
Components: main
EOF
sources "$r"
tap_is "deb822: several URIs; Enabled: no is skipped" \
	"http://mirror-a.example/debian bookworm;http://mirror-b.example/debian bookworm;" "$(got)"

# A Debian 13 machine (deb822, its default): no bookworm entry, but the
# same archives serve bookworm; Ubuntu's and sid's entries do not count.
r=$(tree trixie)
cat >"$r/etc/apt/sources.list.d/debian.sources" <<'EOF'
Types: deb
URIs: http://deb.debian.org/debian
Suites: trixie trixie-updates
Components: main

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: trixie-security
Components: main
EOF
echo 'deb http://archive.ubuntu.com/ubuntu noble main' >"$r/etc/apt/sources.list"
echo 'deb http://sid.example/debian sid main' >"$r/etc/apt/sources.list.d/sid.list"
sources "$r"
tap_is "Debian 13: its archives' addresses for bookworm" \
	"http://deb.debian.org/debian bookworm;http://deb.debian.org/debian bookworm-updates;http://deb.debian.org/debian-security bookworm-security;" \
	"$(got)"
tap_is "Debian 13: exit 0" 0 "$RC"

# Nothing that serves bookworm: a clear error that says what to do.
r=$(tree none)
echo 'deb https://deb.nodesource.com/node_20.x nodistro main' >"$r/etc/apt/sources.list"
sources "$r"
tap_is "no Debian 12 archive: exit 1" 1 "$RC"
tap_empty "no Debian 12 archive: nothing printed" "$T/err" "$(got)"
tap_check "no Debian 12 archive: the error says so" grep -q 'no apt source of this machine serves Debian 12' "$T/err"
tap_check "no Debian 12 archive: and what line to add" grep -q 'deb http://deb.debian.org/debian bookworm main' "$T/err"
tap_check "no Debian 12 archive: and the DEBIAN_MIRROR way out" grep -q 'DEBIAN_MIRROR=URI' "$T/err"

# DEBIAN_MIRROR replaces what apt has.
tap_is "DEBIAN_MIRROR: its bookworm and bookworm-updates" \
	"http://m.example/debian bookworm;http://m.example/debian bookworm-updates;" \
	"$(APT_SOURCES_ROOT="$r" DEBIAN_MIRROR=http://m.example/debian "$HELPER" | tr '\n' ';')"
tap_done
