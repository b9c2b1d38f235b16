#!/usr/bin/env bash
# The static build's libkmod reads zstd-compressed modules: Ubuntu ships
# efi_secret as efi_secret.ko.zst, and a libkmod built without zstd cannot
# load it (coco-unlock would then find no secrets unless udev loaded the
# module first). A module-shaped ELF object with a .modinfo section, plain
# and compressed with zstd, read by kmod-modinfo (libkmod from the static
# prefix, as coco-unlock links it); and the decompressor is in coco-unlock.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-$TOP/build}
. "$TOP/tests/lib/tap.sh"

MODINFO=$BUILD/static/tests/kmod-modinfo
STATIC=$BUILD/static/coco-unlock
T=$(mktemp -d "${TMPDIR:-/tmp}/coco-kmod-zstd.XXXXXX")
trap 'rm -rf "$T"' EXIT

if [ ! -x "$MODINFO" ] || [ ! -x "$STATIC" ]; then
	tap_not_ok "the static build and kmod-modinfo are built ($STATIC, $MODINFO; make static)"
	tap_done
	exit
fi

printf '%s\n' '__attribute__((section(".modinfo"), used)) static const char info[] =' \
	'	"license=GPL\0description=coco-unlock test module\0name=cocotest";' >"$T/mod.c"
gcc -c -o "$T/cocotest.ko" "$T/mod.c"
zstd -q -19 -o "$T/cocotest.ko.zst" "$T/cocotest.ko"
tap_check "the test module is compressed (zstd magic)" \
	sh -c '[ "$(head -c 4 "$1" | od -An -tx1 | tr -d " ")" = 28b52ffd ]' - "$T/cocotest.ko.zst"

"$MODINFO" "$T/cocotest.ko" >"$T/plain.out" 2>&1
tap_is "control: the plain module's description" "description=coco-unlock test module" \
	"$(grep '^description=' "$T/plain.out")"
"$MODINFO" "$T/cocotest.ko.zst" >"$T/zst.out" 2>&1
tap_is "the .ko.zst module's description, through libkmod's zstd" \
	"description=coco-unlock test module" "$(grep '^description=' "$T/zst.out")"
grep -q '^description=' "$T/zst.out" || sed 's/^/#   kmod-modinfo: /' "$T/zst.out"

# gc-sections keeps the decompressor only if libkmod's calls to it are linked in.
tap_check "coco-unlock (static) has zstd's decompressor linked in" \
	sh -c 'nm "$1" | grep -qw ZSTD_decompressStream' - "$STATIC"
tap_done
