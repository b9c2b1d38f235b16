#!/bin/bash
# Makes the tree of a cloud-style test image for coco-secret convert
# (tests/convert/lib.sh turns it into a GPT image): debootstrap's minbase
# with what a distribution's cloud image boots with (systemd as init,
# udev, initramfs-tools and the distribution's own kernel, without
# cryptsetup or anything of coco-unlock), the real-system test's report
# unit (tests/system/report) and marker files the tests look for.
#
#   make-cloud-root.sh DIR MIRROR SUITE [KEYRING]
#     SUITE: noble (Ubuntu 24.04 LTS: linux-image-virtual, which lacks
#            linux-modules-extra and so efi_secret), trixie (Debian 13:
#            linux-image-amd64, whose kernel has no efi_secret)
#
# tests/convert/lib.sh caches DIR keyed by this file, the report, the
# mirror, the suite and debootstrap's version.
set -euo pipefail

dir=$1 mirror=$2 suite=$3 keyring=${4:-}
here=$(cd "$(dirname "$0")" && pwd)

case $suite in
noble) distro=ubuntu kernel=linux-image-virtual components=main,universe ;;
*) distro=debian kernel=linux-image-amd64 components=main ;;
esac

rm -rf "$dir"
pkgs=systemd-sysv,udev,kmod,e2fsprogs,util-linux,initramfs-tools,zstd,gzip
opts=(--variant=minbase --components="$components" --include="$pkgs")
[ -n "$keyring" ] && opts+=(--keyring="$keyring")
script=()
[ "$distro" = ubuntu ] && script=(/usr/share/debootstrap/scripts/gutsy)
debootstrap "${opts[@]}" "$suite" "$dir" "$mirror" "${script[@]}"

in_root() {
	chroot "$dir" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
		LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"
}
comps=${components//,/ }
if [ "$distro" = ubuntu ]; then
	cat >"$dir/etc/apt/sources.list" <<-SRC
	deb $mirror $suite $comps
	deb $mirror $suite-updates $comps
	deb $mirror $suite-security $comps
	SRC
else
	echo "deb $mirror $suite $comps" >"$dir/etc/apt/sources.list"
fi
mount -t proc proc "$dir/proc"
trap 'umount "$dir/proc"' EXIT
in_root apt-get update
# The kernel's initramfs is made once at the end, as the image ships it.
in_root apt-get install -y --no-install-recommends "$kernel"
in_root apt-get clean
umount "$dir/proc"
trap - EXIT
rm -rf "$dir"/usr/share/doc/* "$dir"/usr/share/man/* "$dir"/usr/share/info/*

# The test's report (tests/system/lib.sh describes its lines).
install -D -m 0755 "$here/../system/report" "$dir/usr/local/sbin/coco-test-report"
cat >"$dir/etc/systemd/system/coco-test-report.service" <<-'EOF2'
[Unit]
Description=Real-system boot test report
After=multi-user.target

[Service]
Type=simple
ExecStartPre=/usr/local/sbin/coco-test-markers
ExecStart=/usr/local/sbin/coco-test-report

[Install]
WantedBy=multi-user.target
EOF2
# The marker files as the booted system sees them (MARKER lines).
cat >"$dir/usr/local/sbin/coco-test-markers" <<-'EOF2'
#!/bin/sh
exec >/dev/console 2>&1
echo "MARKER root $(cat /srv/coco-marker/root-marker)"
echo "MARKER one-mib $(sha256sum </srv/coco-marker/one-mib | cut -c1-16)"
echo "MARKER link $(readlink /srv/coco-marker/link)"
echo "MARKER boot $(cat /boot/boot-marker 2>/dev/null || echo none)"
echo "MARKER boot-source $(findmnt -n -o SOURCE /boot || echo none)"
EOF2
chmod 0755 "$dir/usr/local/sbin/coco-test-markers"
in_root systemctl enable coco-test-report.service
in_root systemctl mask serial-getty@ttyS0.service
# Marker files: every file must come through the conversion.
mkdir -p "$dir/srv/coco-marker"
echo "coco-convert marker $suite" >"$dir/srv/coco-marker/root-marker"
head -c 1048576 /dev/zero | tr '\0' 'm' >"$dir/srv/coco-marker/one-mib"
ln -s root-marker "$dir/srv/coco-marker/link"
: >"$dir/etc/machine-id"
echo coco-cloud >"$dir/etc/hostname"
touch "$dir/.complete"
