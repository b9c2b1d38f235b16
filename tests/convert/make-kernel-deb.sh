#!/bin/bash
# The boot tests' own kernel (tests/boot/build-kernel.sh: a minimal
# config with efi_secret as a module) as an installable linux-image
# package, for coco-secret convert --kernel-deb in the Debian 13 test
# when make kernel-deb's package (Debian's source and cloud config,
# hours to build here) is not there. It holds what a kernel package
# holds for initramfs-tools and convert: /boot/vmlinuz-R, /boot/config-R,
# /lib/modules/R; its postinst runs depmod, as Debian's do.
#
#   make-kernel-deb.sh KERNEL_DIR OUT.deb
set -euo pipefail

kdir=$1 out=$2
release=$(cat "$kdir/release")
tree=$(mktemp -d)
trap 'rm -rf "$tree"' EXIT

install -D -m 0644 "$kdir/bzImage" "$tree/boot/vmlinuz-$release"
install -D -m 0644 "$kdir/config" "$tree/boot/config-$release"
mkdir -p "$tree/lib/modules"
cp -a "$kdir/modules/lib/modules/$release" "$tree/lib/modules/"
# depmod's files are made by the postinst, on the system.
rm -f "$tree/lib/modules/$release"/modules.*.bin "$tree/lib/modules/$release"/modules.{dep,alias,symbols,devname,softdep}
mkdir -p "$tree/DEBIAN"
cat >"$tree/DEBIAN/control" <<EOF
Package: linux-image-$release
Version: $release-1
Architecture: amd64
Maintainer: coco-unlock tests <root@localhost>
Section: kernel
Priority: optional
Provides: linux-image
Description: coco-unlock's boot-test kernel $release (efi_secret as a module)
 The minimal kernel of coco-unlock's QEMU boot tests, packaged for
 coco-secret convert's Debian 13 test.
EOF
cat >"$tree/DEBIAN/postinst" <<EOF
#!/bin/sh
set -e
[ "\$1" = configure ] && depmod -a "$release"
exit 0
EOF
chmod 0755 "$tree/DEBIAN/postinst"
dpkg-deb --root-owner-group -Zxz -b "$tree" "$out" >/dev/null
echo "$out"
