#!/bin/bash
# Builds coco-unlock's package inside ROOT, a debootstrapped root of the
# release the package is for (make-root.sh build): the build dependencies
# from that release's archive (scripts/install-deps.sh inside), the static
# libraries from Debian 12's pinned sources as everywhere (the source
# cache is the caller's, bind-mounted), then dpkg-buildpackage, so that
# dpkg-shlibdeps names that release's libraries (libssl3t64 on Ubuntu
# 24.04 and Debian 13), and lintian of that release on the result. Runs
# in a private mount namespace of its own.
#
#   build-deb.sh ROOT OUT
#
# Environment: TOP (the tree: its tracked files are built), CACHE.
# OUT gets the .deb, .changes, .buildinfo and lintian.log.
set -euo pipefail

root=$1 out=$2
: "${TOP:?}" "${CACHE:?}"

if [ "${SYS_IN_NAMESPACE:-}" != 1 ]; then
	SYS_IN_NAMESPACE=1 exec unshare -m --propagation private "$0" "$@"
fi

in_root() {
	chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
		LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"
}
mount -t proc proc "$root/proc"
mount --rbind /dev "$root/dev"
mount -t tmpfs tmpfs "$root/tmp"
mkdir -p "$root/root/.cache/coco-unlock"
# Recursive: in a fresh-machine root the complete caches are read-only
# mounts below $CACHE, which a plain bind would hide (and the static build
# would then try to make the library cache again on top of its mount).
mount --rbind "$CACHE" "$root/root/.cache/coco-unlock"

version=$(sed -n 's/^VERSION := //p' "$TOP/Makefile")
src=/tmp/coco-unlock-$version
mkdir -p "$root$src"
(cd "$TOP" && git ls-files -z -co --exclude-standard | xargs -0 cp -a --parents -t "$root$src")

echo "== the build dependencies ($(. "$root/etc/os-release" && echo "$PRETTY_NAME"))"
in_root sh -c "cd $src && scripts/install-deps.sh build static deb"
echo "== the static libraries"
# The pinned Debian 12 sources come from the cache, or through the
# archive this machine's apt names (the root's apt knows its own only).
mirror=$("$TOP/scripts/apt-sources.sh" bookworm | head -n 1)
in_root env DEBIAN_MIRROR="$mirror" sh -c "cd $src && scripts/static/build-static-deps.sh"
echo "== dpkg-buildpackage"
in_root sh -c "cd $src && dpkg-buildpackage -us -uc -b"
rm -rf "$out"
mkdir -p "$out"
cp "$root"/tmp/coco-unlock_"$version"_* "$out/"
# On the .deb, not the .changes: the changelog's distribution (unstable)
# is an upload target, which Ubuntu's lintian profile does not know and
# which says nothing of the package (make deb-lintian on Debian 12 checks
# the .changes).
echo "== lintian $(in_root dpkg-query -W -f='${Version}' lintian)"
in_root lintian --info --display-info --pedantic /tmp/coco-unlock_"${version}"_amd64.deb >"$out/lintian.log" 2>&1 &&
	echo "lintian-status 0" >>"$out/lintian.log" || echo "lintian-status $?" >>"$out/lintian.log"
cat "$out/lintian.log"
