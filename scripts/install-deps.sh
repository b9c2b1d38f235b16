#!/bin/sh
# Installs the Debian 12 (or 13) packages a make target needs, and nothing when
# they are all there already. Not root and something missing: says what
# to install and fails.
#
#   install-deps.sh GROUP...   (build, test, boot, static, dracut, initramfs-tools,
#                              fuzz, lint, fresh, deb, system, kernel-deb, convert)
set -eu

# Debian 13 has no linux-source-6.1: its boots run on 6.12 alone.
codename=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")
kernel_sources="linux-source-6.1 linux-source-6.12"
# systemd 256 and later (Debian 13) ship systemd-cryptsetup (the binary and
# its generator, which the systemd images of dracut and mkinitcpio take
# from the machine, and libcryptsetup's token plugin directory, where the
# plugin tests put theirs) as a package of its own.
sd_cryptsetup=
if [ "$codename" != bookworm ] && [ -n "$codename" ]; then
	kernel_sources=linux-source-6.12
	sd_cryptsetup=systemd-cryptsetup
fi

pkgs=
for group in "$@"; do
	case $group in
	build) pkgs="$pkgs gcc make pkg-config libcryptsetup-dev libkmod-dev libjson-c-dev libssl-dev scdoc" ;;
	test) pkgs="$pkgs cryptsetup-bin valgrind e2fsprogs xxd busybox-static dash util-linux libdevmapper-dev man-db \
		python3 python3-cryptography openssl $sd_cryptsetup" ;;
	boot) pkgs="$pkgs qemu-system-x86 ovmf gnu-efi mtools dosfstools busybox-static \
		e2fsprogs cpio kmod $kernel_sources bc bison flex libelf-dev libssl-dev xz-utils \
		cryptsetup-bin python3 python3-cryptography $sd_cryptsetup" ;;
	static) pkgs="$pkgs musl-tools dpkg-dev autoconf automake libtool autopoint gettext \
		pkgconf gperf cmake debian-archive-keyring zstd" ;;
	dracut) pkgs="$pkgs dracut-core systemd $sd_cryptsetup cryptsetup-bin dmsetup util-linux" ;;
	initramfs-tools) pkgs="$pkgs initramfs-tools-core cryptsetup-initramfs busybox-static" ;;
	deb) pkgs="$pkgs build-essential debhelper dpkg-dev lintian git" ;;
	fuzz) pkgs="$pkgs clang libclang-rt-dev" ;;
	lint) pkgs="$pkgs clang-format shellcheck git" ;;
	fresh) pkgs="$pkgs debootstrap git util-linux debian-archive-keyring" ;;
	# The real-system boots (tests/system): Debian 12 roots made here;
	# zstd for lsinitramfs of their images (initramfs-tools only recommends it).
	system) pkgs="$pkgs debootstrap debian-archive-keyring util-linux zstd" ;;
	# make kernel-deb: the kernel's bindeb-pkg and its build dependencies.
	kernel-deb) pkgs="$pkgs build-essential dpkg-dev rsync bc bison flex libelf-dev libssl-dev cpio kmod \
		xz-utils debian-archive-keyring" ;;
	# coco-secret convert (qemu-img, sfdisk, fuse2fs, e2fsck, resize2fs,
	# dumpe2fs, cryptsetup) and its tests (cloud-style images: debootstrap,
	# mtools, mkfs.fat; lsinitramfs).
	convert) pkgs="$pkgs qemu-utils fdisk fuse2fs e2fsprogs cryptsetup-bin util-linux \
		debootstrap debian-archive-keyring mtools dosfstools zstd initramfs-tools-core" ;;
	*) echo "install-deps.sh: unknown group '$group'" >&2; exit 2 ;;
	esac
done

missing=
for p in $pkgs; do
	case " $missing " in *" $p "*) continue ;; esac
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "missing Debian packages:$missing" >&2
	echo "install them with: sudo apt-get install$missing" >&2
	exit 1
fi
echo "installing Debian packages:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
