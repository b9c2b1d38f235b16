#!/bin/bash
# Makes the Debian 12 root of a real-system boot test: debootstrap's
# minbase with systemd as init, udev, and the initramfs generator of the
# VARIANT, plus the libraries coco-unlock's package depends on (so that
# `apt install ./coco-unlock.deb` inside needs no network). Nothing of
# coco-unlock is in it: tests/system/lib.sh installs the package, the
# kernel and the test's configuration into a copy.
#
#   make-root.sh VARIANT DIR MIRROR     VARIANT: initramfs-tools | dracut
#
# tests/system/lib.sh caches DIR keyed by this file's content, the
# mirror and debootstrap's version: a change here makes a new root.
set -euo pipefail

variant=$1 dir=$2 mirror=$3

# What a Debian 12 guest with an encrypted root has; minbase lacks the
# init and the device manager. e2fsprogs: systemd-fsck for the root.
common=systemd-sysv,udev,kmod,e2fsprogs,util-linux,libcryptsetup12,libjson-c5,libkmod2
case $variant in
# cryptsetup-initramfs pulls initramfs-tools, cryptsetup and busybox;
# zstd is initramfs-tools' default compressor (a Recommends debootstrap
# does not follow).
initramfs-tools) pkgs=$common,cryptsetup-initramfs,zstd ;;
# dracut takes systemd-cryptsetup from systemd; cryptsetup for the
# crypttab tools a user has next to it.
dracut) pkgs=$common,dracut,cryptsetup ;;
*) echo "make-root.sh: unknown variant '$variant'" >&2; exit 2 ;;
esac

rm -rf "$dir"
debootstrap --variant=minbase --include="$pkgs" bookworm "$dir" "$mirror"

# Smaller image, same system: no downloaded packages, docs or man pages.
rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/usr/share/doc/* \
	"$dir"/usr/share/man/* "$dir"/usr/share/info/*
# No machine-id: systemd makes one at first boot, as on a new image.
: >"$dir/etc/machine-id"
echo coco-test >"$dir/etc/hostname"
touch "$dir/.complete"
