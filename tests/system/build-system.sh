#!/bin/bash
# Turns a copy of a debootstrapped root (tests/system/make-root.sh) into the
# system a real-system boot test boots, as its admin would: the test
# kernel installed, /etc/fstab and /etc/crypttab for an encrypted root,
# the initramfs made once without coco-unlock (the size to compare), then
# coco-unlock's package installed with apt and the initramfs made again
# with the distribution's own command. Runs in a private mount namespace
# of its own (its /proc, /sys and /dev mounts in TREE die with it).
#
#   build-system.sh VARIANT TREE OUT KERNEL_DIR DEB ROOT_UUID [remove]
#
# OUT gets initrd.img, initrd-without.img, and the logs of each step.
# With "remove", on a TREE this script built: only `apt-get remove
# coco-unlock`, whose trigger makes the initramfs again (initrd-removed.img).
set -euo pipefail

variant=$1 tree=$2 out=$3 kdir=$4 deb=$5 uuid=$6
here=$(cd "$(dirname "$0")" && pwd)
release=$(cat "$kdir/release")

if [ "${SYS_IN_NAMESPACE:-}" != 1 ]; then
	SYS_IN_NAMESPACE=1 exec unshare -m --propagation private "$0" "$@"
fi

step() { echo "== $*"; }
in_root() {
	chroot "$tree" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
		LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"
}

mount -t proc proc "$tree/proc"
mount -t sysfs sysfs "$tree/sys"
mount --rbind /dev "$tree/dev"
mount -t tmpfs tmpfs "$tree/tmp"
mount -t tmpfs tmpfs "$tree/run"

if [ "${7:-}" = remove ]; then
	# No update-initramfs or dracut of ours: the package's trigger alone
	# must leave an image that boots.
	step "apt-get remove coco-unlock"
	in_root apt-get remove -y coco-unlock
	[ ! -e "$tree/usr/sbin/coco-unlock" ]
	cp "$tree/boot/initrd.img-$release" "$out/initrd-removed.img"
	step "done"
	exit 0
fi

if [ -d "$kdir/modules" ]; then
	step "the test kernel $release: modules, config, image"
	mkdir -p "$tree/lib/modules"
	cp -a "$kdir/modules/lib/modules/$release" "$tree/lib/modules/"
	install -m 0644 "$kdir/config" "$tree/boot/config-$release"
	install -m 0644 "$kdir/bzImage" "$tree/boot/vmlinuz-$release"
	in_root depmod "$release"
else
	# The distribution's kernel, installed in the root by its packages.
	step "the distribution's kernel $release"
fi

# The names each generator gives the root's mapping by default:
# cryptroot the crypttab's, dracut (rd.luks.uuid=) luks-UUID.
case $variant in
initramfs-tools) name=root ;;
dracut) name=luks-$uuid ;;
esac
step "crypttab and fstab: / on /dev/mapper/$name"
# 'none': the disk-passphrase GUID (or a token) for coco-unlock, the
# prompt for cryptroot. 'initramfs': cryptroot's hook finds the root
# volume by what / is mounted from, which in this chroot is the host's
# disk, so it is told. dracut ignores the option.
printf '%s UUID=%s none luks,initramfs\n' "$name" "$uuid" >"$tree/etc/crypttab"
chmod 0600 "$tree/etc/crypttab"
printf '/dev/mapper/%s / ext4 errors=remount-ro 0 1\n' "$name" >"$tree/etc/fstab"

step "the test's report unit"
install -D -m 0755 "$here/report" "$tree/usr/local/sbin/coco-test-report"
cat >"$tree/etc/systemd/system/coco-test-report.service" <<-'EOF'
[Unit]
Description=Real-system boot test report
After=multi-user.target

[Service]
Type=simple
ExecStart=/usr/local/sbin/coco-test-report

[Install]
WantedBy=multi-user.target
EOF
in_root systemctl enable coco-test-report.service
# The report owns the serial console: a getty there would hang it up.
in_root systemctl mask serial-getty@ttyS0.service

make_initrd() {
	case $variant in
	initramfs-tools) in_root update-initramfs -c -k "$release" ;;
	# In a chroot, dracut's host-only mode would describe the build host:
	# a generic image, as for an image built once and deployed to VMs.
	dracut) in_root dracut --force --no-hostonly --kver "$release" ;;
	esac
}
initrd=$tree/boot/initrd.img-$release

step "the initramfs without coco-unlock"
make_initrd
cp "$initrd" "$out/initrd-without.img"

step "apt install ./$(basename "$deb")"
cp "$deb" "$tree/tmp/"
# Without recommends: the root has its kernel's efi_secret already
# (linux-modules-extra, make-root.sh), and on Ubuntu the package's
# recommends would pull linux-image-generic, a second kernel flavour with
# 800 MB of linux-firmware (debian/coco-unlock.README.Debian).
in_root apt-get install -y --no-install-recommends "/tmp/$(basename "$deb")"

step "the initramfs with coco-unlock"
make_initrd
cp "$initrd" "$out/initrd.img"

# The image inside the root was made again by this step; nothing else of
# the build should remain in the image the guest boots.
rm -rf "$tree"/var/cache/apt/archives/*.deb
step "done"
