#!/bin/bash
# Makes the root of a real-system boot test: debootstrap's minbase with
# systemd as init, udev, and the initramfs generator of the VARIANT, plus
# the libraries coco-unlock's package depends on (so that
# `apt install ./coco-unlock.deb` inside needs no network). Nothing of
# coco-unlock is in it: tests/system/lib.sh installs the package, the
# kernel and the test's configuration into a copy.
#
#   make-root.sh VARIANT DIR MIRROR [SUITE [KEYRING]]
#     VARIANT: initramfs-tools | dracut | build
#     SUITE:   bookworm (default), trixie, noble (Ubuntu 24.04 LTS),
#              resolute (Ubuntu 26.04 LTS)
#     KEYRING: the archive's keyring (Ubuntu's: tests/system/lib.sh)
#
# On Ubuntu the root also gets Ubuntu's own kernel: linux-image-virtual
# and, on 24.04, the linux-modules-extra package of the same release,
# which holds efi_secret there (linux-image-virtual does not pull it in). VARIANT build is
# a root to build the package in (make deb there: dpkg-shlibdeps then
# names that release's libraries).
#
# tests/system/lib.sh caches DIR keyed by this file's content, the
# mirror, the suite and debootstrap's version: a change here makes a new root.
set -euo pipefail

variant=$1 dir=$2 mirror=$3 suite=${4:-bookworm} keyring=${5:-}

case $suite in
noble | resolute) distro=ubuntu ssl=libssl3t64 ;;
trixie) distro=debian ssl=libssl3t64 ;;
*) distro=debian ssl=libssl3 ;;
esac

# What a guest with an encrypted root has; minbase lacks the init and the
# device manager. e2fsprogs: systemd-fsck for the root.
common=systemd-sysv,udev,kmod,e2fsprogs,util-linux,libcryptsetup12,libjson-c5,libkmod2,$ssl
case $variant in
# cryptsetup-initramfs pulls initramfs-tools, cryptsetup and busybox;
# zstd is initramfs-tools' default compressor (a Recommends debootstrap
# does not follow).
initramfs-tools) pkgs=$common,cryptsetup-initramfs,zstd ;;
# dracut takes systemd-cryptsetup from systemd; cryptsetup for the
# crypttab tools a user has next to it.
dracut) pkgs=$common,dracut,cryptsetup ;;
# The rest comes from tools/install-deps.sh inside (make deb).
build) pkgs=git,make,ca-certificates ;;
*) echo "make-root.sh: unknown variant '$variant'" >&2; exit 2 ;;
esac
# systemd 256 and later ship systemd-cryptsetup as a package of its own:
# dracut's systemd mode needs it, and the token plugin's check in the
# running system (tests/system/report) runs it.
case $variant-$suite in
dracut-trixie | initramfs-tools-trixie | initramfs-tools-resolute) pkgs=$pkgs,systemd-cryptsetup ;;
esac
components=main
# Ubuntu: musl-tools and debian-archive-keyring (the static build) are in universe.
[ "$distro" = ubuntu ] && components=main,universe

rm -rf "$dir"
opts=(--variant=minbase --components="$components" --include="$pkgs")
[ -n "$keyring" ] && opts+=(--keyring="$keyring")
script=()
# Ubuntu's suites all use debootstrap's gutsy script (older debootstraps
# do not know noble by name).
[ "$distro" = ubuntu ] && script=(/usr/share/debootstrap/scripts/gutsy)
debootstrap "${opts[@]}" "$suite" "$dir" "$mirror" "${script[@]}"

in_root() {
	chroot "$dir" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
		LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"
}
if [ "$distro" = ubuntu ]; then
	# The release's updates too: the kernel a user installs today.
	comps=${components//,/ }
	cat >"$dir/etc/apt/sources.list" <<-SRC
	deb $mirror $suite $comps
	deb $mirror $suite-updates $comps
	deb $mirror $suite-security $comps
	SRC
fi
if [ "$distro" = ubuntu ] && [ "$variant" != build ]; then
	mount -t proc proc "$dir/proc"
	trap 'umount "$dir/proc"' EXIT
	in_root apt-get update
	# No initramfs yet (the test makes it): the kernel's postinst would
	# make one, for nothing, with the chroot's view of the host.
	echo 'update_initramfs=no' >"$dir/etc/initramfs-tools/update-initramfs.conf"
	in_root apt-get install -y --no-install-recommends linux-image-virtual
	release=$(ls "$dir/lib/modules")
	# 24.04 keeps efi_secret in linux-modules-extra; 26.04 has it in
	# linux-modules, which linux-image-virtual pulls in.
	if ! find "$dir/lib/modules/$release" -name 'efi_secret.ko*' | grep -q .; then
		in_root apt-get install -y --no-install-recommends "linux-modules-extra-$release"
	fi
	echo 'update_initramfs=yes' >"$dir/etc/initramfs-tools/update-initramfs.conf"
	rm -f "$dir"/boot/initrd.img*
	in_root apt-get clean
	umount "$dir/proc"
	trap - EXIT
fi

if [ "$variant" != build ]; then
	# Smaller image, same system: no downloaded packages, docs or man pages.
	rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/usr/share/doc/* \
		"$dir"/usr/share/man/* "$dir"/usr/share/info/*
fi
# No machine-id: systemd makes one at first boot, as on a new image.
: >"$dir/etc/machine-id"
echo coco-test >"$dir/etc/hostname"
touch "$dir/.complete"
