# shellcheck shell=bash
# coco-secret convert's tests (issue 26): cloud-style images made here
# (make-cloud-root.sh, then a GPT image as the distributions ship them:
# an ESP, an ext4 root, on Ubuntu a separate /boot), converted, and the
# converted image launched from its exported kernel, initrd, command line
# and secret table through coco-secret launch and the stand-in host
# (tests/boot/launch-lib.sh), in the harness of tests/system/lib.sh.
#
# Environment as for tests/system: TOP, BUILD, CACHE, COCO_SECRET.
#
# Made here:
#   $CACHE/DISTRO-cloud-SUITE-KEY/   the debootstrapped tree, keyed by
#                                    make-cloud-root.sh, the report, the
#                                    mirror and debootstrap's version
#   $CONV_WORK/SUITE/cloud.img       the cloud-style image made from it
#                                    (remade when the tree changes)

CONV_SRC=$TOP/tests/convert
CONV_WORK=${CONV_WORK:-$BUILD/convert}
. "$TOP/tests/system/lib.sh"

conv_log() { echo "# convert: $*" >&2; }

# conv_cloud_root: sets CLOUD_ROOT to the cached tree of SYS_SUITE, made
# when the cache has none (3-6 minutes, downloads).
conv_cloud_root() {
	local mirror key
	mirror=$(sys_mirror) && sys_keyring || return 1
	key=$({
		echo "$SYS_SUITE $mirror"
		sha256sum <"$CONV_SRC/make-cloud-root.sh"
		sha256sum <"$SYS_SRC/report"
		dpkg-query -W -f='${Version}\n' debootstrap
	} | sha256sum | cut -c1-16)
	CLOUD_ROOT=$CACHE/$SYS_DISTRO-cloud-$SYS_SUITE-$key
	mkdir -p "$CACHE"
	(
		flock 9
		[ -e "$CLOUD_ROOT/.complete" ] && exit 0
		conv_log "debootstrap $SYS_SUITE (cloud-style) into $CLOUD_ROOT (once)"
		local start=$SECONDS
		if ! unshare -m --propagation private "$CONV_SRC/make-cloud-root.sh" "$CLOUD_ROOT" "$mirror" \
			"$SYS_SUITE" ${SYS_KEYRING:+"$SYS_KEYRING"} >"$CLOUD_ROOT.log" 2>&1; then
			tail -n 20 "$CLOUD_ROOT.log" >&2
			boot_die "the cloud root failed (log: $CLOUD_ROOT.log)"
			exit 1
		fi
		conv_log "cloud root made in $((SECONDS - start)) s: $(du -sm "$CLOUD_ROOT" | cut -f1) MiB"
	) 9>"$CLOUD_ROOT.lock"
}

# GPT partition types (the Discoverable Partitions Specification).
CONV_TYPE_ESP=C12A7328-F81F-11D2-BA4B-00A0C93EC93B
CONV_TYPE_ROOT=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709
CONV_TYPE_XBOOTLDR=BC13C2FF-59E6-4262-A352-B275FD6F7172
CONV_ROOT_FS_UUID=0c0c0010-0000-4000-8000-000000000010
CONV_BOOT_FS_UUID=0c0c0011-0000-4000-8000-000000000011

# conv_cloud_image: sets CLOUD_IMG to SYS_SUITE's cloud-style raw image,
# built from CLOUD_ROOT without loop devices (mke2fs -d, mtools, sfdisk on
# the file, dd): partition 1 the ESP (64 MiB), 2 the root (ext4, the tree
# plus CONV_FREE_MIB, default 700), on Ubuntu 3 /boot (ext4, 256 MiB,
# XBOOTLDR, as Ubuntu's cloud images have it).
conv_cloud_image() {
	conv_cloud_root || return 1
	local dir=$CONV_WORK/$SYS_SUITE inputs
	CLOUD_IMG=$dir/cloud.img
	mkdir -p "$dir"
	inputs=("$CLOUD_ROOT" "$CONV_SRC/lib.sh" "${CONV_FREE_MIB:-700}")
	[ -f "$dir/cloud.stamp" ] && [ "$(cat "$dir/cloud.stamp")" = "$(fixture_hash "${inputs[@]}")" ] &&
		[ -f "$CLOUD_IMG" ] && return 0
	conv_log "$SYS_SUITE: building the cloud-style image $CLOUD_IMG"
	rm -f "$dir/cloud.stamp"
	# Not in a condition: set -e holds inside the subshell.
	local rc=0
	(conv_make_image "$dir") >"$dir/cloud.log" 2>&1
	rc=$?
	if [ "$rc" != 0 ] || [ ! -f "$CLOUD_IMG" ]; then
		tail -n 20 "$dir/cloud.log" >&2
		boot_die "the cloud image failed (log: $dir/cloud.log)"
		return 1
	fi
	fixture_hash "${inputs[@]}" >"$dir/cloud.stamp"
}

conv_make_image() {
	set -e
	local dir=$1 tree=$1/tree sep_boot=0 root_mib boot_mib=256 esp_mib=64
	[ "$SYS_DISTRO" = ubuntu ] && sep_boot=1
	rm -rf "$tree"
	cp -a "$CLOUD_ROOT" "$tree"
	rm -f "$tree/.complete"
	{
		echo "UUID=$CONV_ROOT_FS_UUID / ext4 errors=remount-ro 0 1"
		[ "$sep_boot" = 1 ] && echo "UUID=$CONV_BOOT_FS_UUID /boot ext4 defaults 0 2"
		echo "LABEL=UEFI /boot/efi vfat umask=0077,nofail 0 1"
	} >"$tree/etc/fstab"
	mkdir -p "$tree/boot/efi"
	if [ "$sep_boot" = 1 ]; then
		mkdir -p "$dir/boot-tree"
		rm -rf "$dir/boot-tree"/*
		mv "$tree"/boot/* "$dir/boot-tree/"
		echo "coco-convert boot marker" >"$dir/boot-tree/boot-marker"
		mkdir -p "$tree/boot/efi"
		rm -rf "$dir/boot-tree/efi"
		rm -f "$dir/boot.part"
		mke2fs -q -t ext4 -L BOOT -U "$CONV_BOOT_FS_UUID" -d "$dir/boot-tree" "$dir/boot.part" "${boot_mib}M"
	fi
	root_mib=$(($(du -sm "$tree" | cut -f1) + ${CONV_FREE_MIB:-700}))
	rm -f "$dir/root.part" "$dir/esp.part"
	mke2fs -q -t ext4 -L cloudimg-rootfs -U "$CONV_ROOT_FS_UUID" -d "$tree" "$dir/root.part" "${root_mib}M"
	truncate -s "${esp_mib}M" "$dir/esp.part"
	mkfs.fat -F 32 -n UEFI "$dir/esp.part" >/dev/null
	MTOOLS_SKIP_CHECK=1 mmd -i "$dir/esp.part" ::/EFI ::/EFI/BOOT
	local total=$((1 + esp_mib + root_mib + 1))
	[ "$sep_boot" = 1 ] && total=$((total + boot_mib))
	rm -f "$CLOUD_IMG.tmp"
	truncate -s "${total}M" "$CLOUD_IMG.tmp"
	{
		echo "label: gpt"
		echo "start=1MiB, size=${esp_mib}MiB, type=$CONV_TYPE_ESP, name=ESP"
		echo "size=${root_mib}MiB, type=$CONV_TYPE_ROOT, name=root"
		[ "$sep_boot" = 1 ] && echo "size=${boot_mib}MiB, type=$CONV_TYPE_XBOOTLDR, name=boot"
	} | sfdisk -q "$CLOUD_IMG.tmp"
	dd if="$dir/esp.part" of="$CLOUD_IMG.tmp" bs=1M seek=1 conv=notrunc,sparse status=none
	dd if="$dir/root.part" of="$CLOUD_IMG.tmp" bs=1M seek=$((1 + esp_mib)) conv=notrunc,sparse status=none
	[ "$sep_boot" = 1 ] && dd if="$dir/boot.part" of="$CLOUD_IMG.tmp" bs=1M \
		seek=$((1 + esp_mib + root_mib)) conv=notrunc,sparse status=none
	rm -rf "$tree" "$dir/boot-tree" "$dir"/*.part
	mv "$CLOUD_IMG.tmp" "$CLOUD_IMG"
}
