#!/bin/bash
# coco-secret convert's edits inside the image (tools/coco-secret/convert.c
# runs it, before the root is encrypted): on the root file system's
# partition copied out to a file, mounted with fuse2fs (FUSE: no loop or
# device-mapper device), the image's own tools run in a chroot, in a
# private mount namespace that dies with this script:
#   - the release is checked (Debian 12, 13, Ubuntu 24.04);
#   - a kernel package given is installed; the kernel must have efi_secret
#     (Ubuntu: linux-modules-extra-RELEASE is installed for it);
#   - crypttab and fstab name the mapping; coco-unlock's package and
#     cryptsetup-initramfs are installed with the image's apt;
#   - the initramfs is made again (SOURCE_DATE_EPOCH: reproducible), and
#     the kernel, the initramfs and the release go to EXPORT.
#
#   convert-root.sh ROOT_FILE BOOT_FILE|- EXPORT NAME LUKS_UUID PIN DEB [KERNEL_DEB]
#
# Exit status: 0 done, 3 the image is refused (one line on stderr says
# why), 1 any other failure. Progress lines on stdout; the tools' own
# output goes to stderr.
set -euo pipefail

root_file=$1 boot_file=$2 export=$3 name=$4 uuid=$5 pin=$6 deb=$7 kernel_deb=${8:-}

if [ "${COCO_CONVERT_NS:-}" != 1 ]; then
	COCO_CONVERT_NS=1 exec unshare -m --propagation private "$0" "$@"
fi

refuse() {
	echo "coco-secret: $*" >&2
	exit 3
}
step() { echo "coco-secret: convert: $*"; }

# The kernel package's release, from its name (linux-image-RELEASE, as
# Debian's and the kernel's own bindeb-pkg name them), before any work.
release=
if [ -n "$kernel_deb" ]; then
	kpkg=$(dpkg-deb -f "$kernel_deb" Package 2>/dev/null) ||
		refuse "--kernel-deb: $(basename "$kernel_deb") is not a Debian package"
	case $kpkg in
	linux-image-[0-9]*) release=${kpkg#linux-image-} ;;
	*) refuse "--kernel-deb: $(basename "$kernel_deb") is '$kpkg', not a linux-image-RELEASE package" ;;
	esac
fi

mnt=$(mktemp -d "${TMPDIR:-/tmp}/coco-convert-mnt.XXXXXX")
fuse_pids=()
cleanup() {
	local m
	for m in run tmp dev sys proc boot ''; do
		mountpoint -q "$mnt/$m" 2>/dev/null && umount -l "$mnt/$m" 2>/dev/null
	done
	# fuse2fs writes its last blocks and exits after the unmount.
	for m in "${fuse_pids[@]}"; do wait "$m" 2>/dev/null || :; done
	rmdir "$mnt" 2>/dev/null || :
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# fuse_mount FILE DIR: fuse2fs in the foreground, in the background here,
# so that the unmount can wait for it.
fuse_mount() {
	# nonempty: the root's /boot may hold the mount point of the ESP.
	fuse2fs -f "$1" "$2" -o rw,nonempty >&2 &
	fuse_pids+=($!)
	for _ in $(seq 100); do
		mountpoint -q "$2" && return 0
		kill -0 "${fuse_pids[-1]}" 2>/dev/null || break
		sleep 0.1
	done
	echo "coco-secret: fuse2fs could not mount $1" >&2
	return 1
}

# INITRD=No: the kernel's postinst hooks make no initramfs while packages
# go in (one is made at the end); update_initramfs=no does the same for
# initramfs-tools' trigger.
in_root() {
	chroot "$mnt" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
		LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive INITRD=No "$@"
}

step "mounting the root file system (fuse2fs)"
fuse_mount "$root_file" "$mnt"
[ -f "$mnt/etc/os-release" ] || refuse "the root file system has no /etc/os-release: not a Debian or Ubuntu root"
if [ "$boot_file" != - ]; then
	fuse_mount "$boot_file" "$mnt/boot"
fi

# shellcheck disable=SC1091
id=$(. "$mnt/etc/os-release" && echo "${ID:-}") ver=$(. "$mnt/etc/os-release" && echo "${VERSION_ID:-}")
case "$id $ver" in
"debian 12" | "debian 13") distro=debian ;;
"ubuntu 24.04") distro=ubuntu ;;
*) refuse "the image is '$id $ver': convert supports Debian 12, Debian 13 and Ubuntu 24.04" ;;
esac
[ -e "$mnt/etc/crypttab" ] && grep -qE '^[[:space:]]*[^#[:space:]]' "$mnt/etc/crypttab" &&
	refuse "the image's /etc/crypttab already has volumes: convert wants an unencrypted system"
step "$id $ver"

mount -t proc proc "$mnt/proc"
mount -t sysfs sysfs "$mnt/sys"
mount --rbind /dev "$mnt/dev"
mount -t tmpfs tmpfs "$mnt/tmp"
mount -t tmpfs tmpfs "$mnt/run"
# apt inside needs the host's resolver.
mkdir -p "$mnt/run/systemd/resolve"
cp /etc/resolv.conf "$mnt/run/systemd/resolve/stub-resolv.conf" 2>/dev/null || :
cp /etc/resolv.conf "$mnt/run/systemd/resolve/resolv.conf" 2>/dev/null || :

# No initramfs while packages go in: one is made at the end.
conf=$mnt/etc/initramfs-tools/update-initramfs.conf
[ -f "$conf" ] && cp -p "$conf" "$mnt/run/update-initramfs.conf.orig"
[ -f "$conf" ] && sed -i 's/^update_initramfs=.*/update_initramfs=no/' "$conf"

# The kernel: the given package's, else the newest one with its image in
# /boot and its modules.
if [ -n "$kernel_deb" ]; then
	step "installing the kernel package $(basename "$kernel_deb")"
	cp "$kernel_deb" "$mnt/tmp/kernel.deb"
	in_root apt-get install -y --no-install-recommends /tmp/kernel.deb >&2
	if [ ! -f "$mnt/boot/vmlinuz-$release" ] || [ ! -d "$mnt/lib/modules/$release" ]; then
		refuse "--kernel-deb: $kpkg put no /boot/vmlinuz-$release with /lib/modules/$release"
	fi
else
	release=$(for k in "$mnt"/boot/vmlinuz-*; do
		r=${k##*/vmlinuz-}
		[ -d "$mnt/lib/modules/$r" ] && echo "$r"
	done | sort -V | tail -n 1)
fi
[ -n "$release" ] || refuse "no kernel in the image (/boot/vmlinuz-* with /lib/modules)"

has_efi_secret() {
	grep -q 'efi_secret\.ko' "$mnt/lib/modules/$release/modules.builtin" 2>/dev/null ||
		find "$mnt/lib/modules/$release" -name 'efi_secret.ko*' | grep -q .
}
step "apt-get update (the image's own archives)"
in_root apt-get update >&2
if ! has_efi_secret && [ "$distro" = ubuntu ]; then
	step "installing linux-modules-extra-$release (efi_secret)"
	in_root apt-get install -y --no-install-recommends "linux-modules-extra-$release" >&2
fi
has_efi_secret || refuse "the image's kernel $release has no efi_secret module, which coco-unlock reads the secret through: pass --kernel-deb FILE, a kernel package with CONFIG_EFI_SECRET (make kernel-deb)"
step "kernel $release has efi_secret"

step "crypttab and fstab: / on /dev/mapper/$name"
# 'initramfs': cryptroot's hook takes the volume into the image even
# though / is not yet on it in this chroot.
printf '%s UUID=%s none luks,discard,initramfs,fixate-volume-key=%s\n' "$name" "$uuid" "$pin" \
	>"$mnt/etc/crypttab"
chmod 0600 "$mnt/etc/crypttab"
awk -v dev="/dev/mapper/$name" '
	!/^[[:space:]]*#/ && $2 == "/" { $1 = dev; done = 1 }
	{ print }
	END { if (!done) print dev " / ext4 errors=remount-ro 0 1" }' "$mnt/etc/fstab" >"$mnt/etc/fstab.coco"
mv "$mnt/etc/fstab.coco" "$mnt/etc/fstab"

step "installing coco-unlock ($(basename "$deb")) and cryptsetup-initramfs"
cp "$deb" "$mnt/tmp/coco-unlock.deb"
in_root apt-get install -y --no-install-recommends /tmp/coco-unlock.deb cryptsetup-initramfs >&2
in_root apt-get clean >&2

# Reproducible: every file of the initramfs dated by the kernel image.
epoch=$(stat -c %Y "$mnt/boot/vmlinuz-$release")
if [ -f "$mnt/run/update-initramfs.conf.orig" ]; then
	cp -p "$mnt/run/update-initramfs.conf.orig" "$conf"
fi
step "update-initramfs for $release"
rm -f "$mnt/boot/initrd.img-$release"
chroot "$mnt" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
	SOURCE_DATE_EPOCH="$epoch" update-initramfs -c -k "$release" >&2

install -m 0644 "$mnt/boot/vmlinuz-$release" "$export/vmlinuz"
install -m 0644 "$mnt/boot/initrd.img-$release" "$export/initrd.img"
echo "$release" >"$export/release"
echo "$id $ver" >"$export/os"
step "the kernel and the initramfs exported"
