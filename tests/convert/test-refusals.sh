#!/usr/bin/env bash
# coco-secret convert's refusals (issue 26), each with one line saying why,
# on small GPT images made here in seconds: an existing --out, an image
# that is not GPT, one without an ESP, an LVM, a btrfs and an
# already-encrypted root, too little space, a format other than raw and
# qcow2, a missing package, a --kernel-deb that is no package or not a
# linux-image-RELEASE one (convert-root.sh, from the source tree). Each: exit status 1 (2 for usage), the line,
# no --out, no --secret-out, no export directory, no work directory left,
# and the input unchanged (its SHA-256 before and after).
set -u
. "$TOP/tests/lib/tap.sh"

W=$BUILD/convert/refusals
rm -rf "$W"
mkdir -p "$W"
cd "$W" || exit 1
export MTOOLS_SKIP_CHECK=1
ESP=C12A7328-F81F-11D2-BA4B-00A0C93EC93B
ROOT=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709
LVM=E6D6D379-F507-44C2-A23C-238F2A3DF928
: >fake.deb
export COCO_SECRET_CONVERT_HELPER=$TOP/tools/coco-secret/convert-root.sh
# A real package, but not a kernel's.
mkdir -p headers/DEBIAN
printf 'Package: linux-headers-6.12.1\nVersion: 1\nArchitecture: amd64\nMaintainer: t <t@t>\nDescription: t\n' \
	>headers/DEBIAN/control
dpkg-deb --root-owner-group -b headers headers.deb >/dev/null

# gpt_image IMG LABEL ROOT_TYPE ROOT_MIB ROOT_CONTENT [esp]: a disk with an
# ESP (unless LABEL is dos or the last word is noesp) and one root
# partition whose bytes are the file ROOT_CONTENT.
gpt_image() {
	local img=$1 label=$2 type=$3 mib=$4 content=$5 esp=${6:-esp}
	rm -f "$img"
	truncate -s $((mib + 12))M "$img"
	{
		echo "label: $label"
		if [ "$esp" = esp ]; then
			echo "start=1MiB, size=8MiB, type=$([ "$label" = gpt ] && echo $ESP || echo ef)"
		fi
		echo "start=9MiB, size=${mib}MiB, type=$([ "$label" = gpt ] && echo "$type" || echo 83)"
	} | sfdisk -q "$img" || return 1
	if [ "$esp" = esp ]; then
		truncate -s 8M esp.part && mkfs.fat -F 12 esp.part >/dev/null &&
			dd if=esp.part of="$img" bs=1M seek=1 conv=notrunc status=none || return 1
	fi
	dd if="$content" of="$img" bs=1M seek=9 conv=notrunc status=none
}

mkdir -p tree/etc
echo 'ID=debian' >tree/etc/os-release
echo 'VERSION_ID="13"' >>tree/etc/os-release
rm -f ext4.part small.part
mke2fs -q -t ext4 -d tree ext4.part 480M
mke2fs -q -t ext4 -d tree small.part 40M
truncate -s 64M lvm.part
printf 'LABELONE' | dd of=lvm.part bs=1 seek=512 conv=notrunc status=none
truncate -s 64M btrfs.part
printf '_BHRfS_M' | dd of=btrfs.part bs=1 seek=$((0x10040)) conv=notrunc status=none
truncate -s 64M luks.part
head -c 32 /dev/urandom >luks.key
cryptsetup luksFormat -q --type luks2 --pbkdf pbkdf2 --pbkdf-force-iterations 1000 \
	--key-file luks.key luks.part >/dev/null

gpt_image good.img gpt $ROOT 480 ext4.part
gpt_image dos.img dos $ROOT 480 ext4.part
gpt_image noesp.img gpt $ROOT 480 ext4.part noesp
gpt_image lvm.img gpt $LVM 64 lvm.part
gpt_image lvmmagic.img gpt $ROOT 64 lvm.part
gpt_image btrfs.img gpt $ROOT 64 btrfs.part
gpt_image luks.img gpt $ROOT 64 luks.part
gpt_image small.img gpt $ROOT 40 small.part
qemu-img create -q -f vdi vdi.img 64M
: >out-exists.img

# refused NAME IMAGE STATUS ERE [OPTION...]: convert IMAGE refused with
# STATUS, a line matching ERE, nothing written, the input unchanged.
refused() {
	local name=$1 img=$2 status=$3 ere=$4 out=out.img before after rc=0
	shift 4
	[ "$name" = "an existing --out" ] && out="out-exists.img"
	before=$(sha256sum <"$img")
	rm -rf "$out.boot" secret.out log
	"$COCO_SECRET" convert --in "$img" --out "$out" --secret-out secret.out --deb fake.deb "$@" \
		>log 2>&1 || rc=$?
	after=$(sha256sum <"$img")
	tap_is "$name: exit status $status" "$status" "$rc"
	tap_check "$name: says why ($ere)" grep -qE -- "$ere" log
	sed 's/^/#   /' log
	tap_is "$name: one line (besides progress)" 1 "$(grep -vc '^coco-secret: convert: ' log)"
	if [ "$out" = out.img ]; then
		tap_check "$name: no --out" test ! -e out.img
	fi
	tap_check "$name: no --secret-out, no export directory, no work directory" \
		test ! -e secret.out -a ! -e "$out.boot" -a -z "$(find . -maxdepth 1 -name '.coco-convert.*')"
	tap_is "$name: the input is unchanged" "$before" "$after"
}

refused "an existing --out" good.img 1 'out-exists.img exists; not overwriting it without --force'
refused "a DOS partition table" dos.img 1 'the partition table is dos; convert wants GPT'
refused "no ESP" noesp.img 1 'no EFI system partition'
refused "an LVM partition" lvm.img 1 'partition 2 is LVM'
refused "an LVM physical volume in a root-typed partition" lvmmagic.img 1 'partition 2 is LVM'
refused "btrfs" btrfs.img 1 'partition 2 is btrfs'
refused "a root already encrypted" luks.img 1 'partition 2 is already LUKS-encrypted'
refused "too little space" small.img 1 'too little space: the root file system has [0-9]+ MiB free, convert needs [0-9]+ MiB'
refused "a VDI image" vdi.img 1 'the format is vdi; convert takes raw and qcow2'
refused "no package" good.img 1 'cannot read missing.deb' --deb missing.deb
refused "a --kernel-deb that is no package" good.img 1 'kernel-deb: fake.deb is not a Debian package' \
	--kernel-deb fake.deb
refused "a --kernel-deb not linux-image-RELEASE" good.img 1 \
	"kernel-deb: headers.deb is 'linux-headers-6.12.1', not a linux-image-RELEASE package" --kernel-deb headers.deb
refused "--out the same as --in" good.img 2 'must not be --in' --out good.img
tap_done
