#!/usr/bin/env bash
# The initramfs the owner measures must be the one the guest boots, so
# the owner must be able to rebuild it bit for bit: dracut and
# initramfs-tools images built twice with the README's settings
# (SOURCE_DATE_EPOCH, and dracut --reproducible) are byte-identical. The
# same builds without those settings differ: the comparison can fail, and
# the settings are what makes the difference.
#
# The images are built by this host's dracut and mkinitramfs with the
# project's dracut module and initramfs-tools hook and scripts, for the
# test kernel. mkinitramfs reads its modules and config from
# /lib/modules/VERSION and /boot: a private mount namespace lends it the
# test kernel's (nothing on the host changes). Root only.
set -u
. "$TOP/tests/lib/tap.sh"
. "$TOP/tests/dracut/lib.sh"

EPOCH=1700000000
if [ "$(id -u)" != 0 ]; then
	tap_skip "reproducible initramfs images" "needs root (mount namespaces)"
	tap_done
	exit 0
fi
for tool in dracut mkinitramfs lsinitrd lsinitramfs; do
	if ! command -v "$tool" >/dev/null; then
		tap_skip "reproducible initramfs images" "no $tool (scripts/install-deps.sh dracut initramfs-tools)"
		tap_done
		exit 0
	fi
done
if ! boot_kernel; then
	tap_not_ok "the test kernel"
	tap_done
	exit 1
fi
W=$BOOT_WORK/runs/reproducible
rm -rf "$W"
mkdir -p "$W"

# same NAME A B: A and B are the same bytes (and not empty).
same() {
	if [ -s "$2" ] && cmp -s "$2" "$3"; then
		tap_ok "$1 ($(stat -c %s "$2") bytes, sha256 $(sha256sum <"$2" | cut -c1-16))"
	else
		tap_not_ok "$1"
		echo "#   $(cmp "$2" "$3" 2>&1 | head -n 1)"
	fi
}

# differ NAME A B: both built, and not the same bytes.
differ() {
	if [ -s "$2" ] && [ -s "$3" ] && ! cmp -s "$2" "$3"; then
		tap_ok "$1"
	else
		tap_not_ok "$1"
	fi
}

# dracut_build OUT [ENV...] -- [DRACUT-ARG...]: a generic image with the
# coco-unlock module, as the README's dracut steps make it.
dracut_build() {
	local out=$1 envs=()
	shift
	while [ "$1" != -- ]; do envs+=("$1"); shift; done
	shift
	mkdir -p "$DRACUT_WORK/empty-confdir"
	: >"$DRACUT_WORK/empty.conf"
	dracut_common_opts
	[ -n "${DRACUT_BASE:-}" ] || dracut_base || return 1
	local bin=$DRACUT_BASE/dracut.sh
	[ -x "$bin" ] || bin=$(command -v dracut)
	env "${envs[@]}" dracutbasedir="$DRACUT_BASE" COCO_UNLOCK_BINARY="$COCO_UNLOCK" \
		"$bin" "${DRACUT_OPTS[@]}" --no-hostonly --add coco-unlock "$@" \
		"$out" >"$out.log" 2>&1
}

tap_check "dracut: first build (SOURCE_DATE_EPOCH, --reproducible)" \
	dracut_build "$W/dracut-1.img" SOURCE_DATE_EPOCH=$EPOCH -- --reproducible
sleep 1.1
tap_check "dracut: second build" \
	dracut_build "$W/dracut-2.img" SOURCE_DATE_EPOCH=$EPOCH -- --reproducible
tap_check "dracut: the image has coco-unlock" sh -c "lsinitrd '$W/dracut-1.img' | grep -q 'usr/sbin/coco-unlock\$'"
same "dracut: the two images are byte-identical" "$W/dracut-1.img" "$W/dracut-2.img"
tap_check "dracut: a build without the settings" dracut_build "$W/dracut-plain.img" -- --no-reproducible
differ "dracut: without them the image differs" "$W/dracut-1.img" "$W/dracut-plain.img"

# The initramfs-tools configuration: the project's hook and scripts, the
# modules coco-unlock needs.
conf=$W/it-conf
mkdir -p "$conf/hooks" "$conf/scripts"
cp "$TOP/initramfs-tools/hooks/coco-unlock" "$conf/hooks/"
cp -r "$TOP/initramfs-tools/scripts/." "$conf/scripts/"
printf 'MODULES=list\nBUSYBOX=auto\nCOMPRESS=gzip\n' >"$conf/initramfs.conf"
printf 'efi_secret\ndm_crypt\n' >"$conf/modules"

# mkinitramfs_build OUT [ENV...]: mkinitramfs for the test kernel, its
# modules and config lent at /lib/modules and /boot in a private mount
# namespace.
mkinitramfs_build() {
	local out=$1
	shift
	# shellcheck disable=SC2016 # expanded by the inner shell
	unshare -m --propagation private bash -c '
		set -e
		t=$(mktemp -d)
		mount -t tmpfs tmpfs "$t"
		mkdir -p "$t/upper/modules/$2" "$t/work" "$t/boot"
		mount -t overlay overlay -o "lowerdir=/usr/lib,upperdir=$t/upper,workdir=$t/work" /usr/lib
		mount --bind "$1/modules/lib/modules/$2" "/usr/lib/modules/$2"
		cp "$1/config" "$t/boot/config-$2"
		mount --bind "$t/boot" /boot
		shift 2
		exec "$@"' _ "$KERNEL_DIR" "$KERNEL_RELEASE" \
		env COCO_UNLOCK_BINARY="$COCO_UNLOCK" "$@" \
		mkinitramfs -d "$conf" -o "$out" "$KERNEL_RELEASE" >"$out.log" 2>&1
}

tap_check "initramfs-tools: first build (SOURCE_DATE_EPOCH)" \
	mkinitramfs_build "$W/it-1.img" SOURCE_DATE_EPOCH=$EPOCH
sleep 1.1
tap_check "initramfs-tools: second build" mkinitramfs_build "$W/it-2.img" SOURCE_DATE_EPOCH=$EPOCH
tap_check "initramfs-tools: the image has coco-unlock" \
	sh -c "lsinitramfs '$W/it-1.img' | grep -q '^usr/sbin/coco-unlock\$'"
same "initramfs-tools: the two images are byte-identical" "$W/it-1.img" "$W/it-2.img"
tap_check "initramfs-tools: a build without the setting" mkinitramfs_build "$W/it-plain.img"
differ "initramfs-tools: without it the image differs" "$W/it-1.img" "$W/it-plain.img"

# What the owner measures is the image's bytes: the same digest both times.
if [ -x "${COCO_SECRET:-}" ] && [ -f "$TOP/../shared/vectors/sev/ovmf_AmdSev_suffix.bin" ]; then
	d1=$("$COCO_SECRET" measure --mode sev --ovmf "$TOP/../shared/vectors/sev/ovmf_AmdSev_suffix.bin" \
		--kernel "$KERNEL_DIR/bzImage" --initrd "$W/it-1.img" --append "root=/dev/vda2 ro")
	d2=$("$COCO_SECRET" measure --mode sev --ovmf "$TOP/../shared/vectors/sev/ovmf_AmdSev_suffix.bin" \
		--kernel "$KERNEL_DIR/bzImage" --initrd "$W/it-2.img" --append "root=/dev/vda2 ro")
	tap_check "the two initramfs-tools images measure the same ($d1)" test -n "$d1" -a "$d1" = "$d2"
fi
tap_done
