#!/usr/bin/env bash
# Figures, not a test: coco-secret convert of a 2 GiB cloud-style Ubuntu
# 24.04 image (tests/convert/lib.sh's, its root grown to make the image
# 2 GiB) against what no conversion can avoid, cryptsetup reencrypt
# --encrypt of a 2 GiB file with the same options (LUKS2, aes-xts-plain64
# 512, 16 MiB header, PBKDF2 at its minimum), one after the other on
# the same machine. Convert also copies the image in and out, edits the
# root (apt-get from the archive: the network's speed counts), makes the
# initramfs again and shrinks the file system; the ratio says what all
# that costs over the encryption. One run each (minutes), root only.
# BENCH_CONVERT_MIB: the image's size (default 2048); CONV_DEB=FILE: the
# package to install (default: built for noble, as the tests do).
set -u
: "${TOP:?}" "${BUILD:?}"
export SYS_SUITE=noble
export CONV_WORK=$BUILD/convert-bench
. "$TOP/tests/convert/lib.sh"
export COCO_SECRET_CONVERT_HELPER=$TOP/tools/coco-secret/convert-root.sh
export MTOOLS_SKIP_CHECK=1
mib=${BENCH_CONVERT_MIB:-2048}

echo "== coco-secret convert of a $mib MiB image against cryptsetup reencrypt --encrypt of a $mib MiB file"
if [ "$(id -u)" != 0 ]; then
	echo "bench-convert: skipped: needs root (debootstrap, chroot, fuse2fs)"
	exit 0
fi
for tool in "$COCO_SECRET" cryptsetup qemu-img fuse2fs debootstrap; do
	if ! command -v "$tool" >/dev/null; then
		echo "bench-convert: skipped: no $tool (scripts/install-deps.sh convert system)"
		exit 0
	fi
done
# The tree's size fixes the root's free space: the image is $mib MiB
# (ESP 64, /boot 256, 2 MiB of GPT and alignment).
conv_cloud_root || exit 1
CONV_FREE_MIB=$((mib - 64 - 256 - 2 - $(du -sm "$CLOUD_ROOT" | cut -f1)))
export CONV_FREE_MIB
conv_cloud_image || exit 1
if [ -n "${CONV_DEB:-}" ]; then DEB=$CONV_DEB; else sys_deb || exit 1; fi
D=$CONV_WORK/bench
rm -rf "$D"
mkdir -p "$D"
image_mib=$(du -m --apparent-size "$CLOUD_IMG" | cut -f1)

# timed CMD...: its wall time in seconds (one decimal) in $secs, its
# status in $rc, its output in $D/last.log, each line after the time it
# came (convert's progress lines: where the time goes).
timed() {
	local t0 line
	t0=$EPOCHREALTIME
	"$@" 2>&1 | while IFS= read -r line; do printf '%s %s\n' "$EPOCHREALTIME" "$line"; done >"$D/last.log"
	rc=${PIPESTATUS[0]}
	T1=$EPOCHREALTIME
	secs=$(awk -v a="$t0" -v b="$T1" 'BEGIN { printf "%.1f", b - a }')
}

timed "$COCO_SECRET" convert --in "$CLOUD_IMG" --out "$D/out.img" --secret-out "$D/disk.secret" --deb "$DEB"
convert_s=$secs
if [ "$rc" != 0 ]; then
	tail -n 5 "$D/last.log"
	echo "bench-convert: convert failed (status $rc)"
	exit 1
fi
# The time of each of convert's six steps, from its progress lines.
steps=$(awk -v end="$T1" '
	$3 == "convert:" && $4 ~ /^\[[1-6]\/6\]$/ { t[++n] = $1; name[n] = $4 }
	END {
		t[n + 1] = end
		for (i = 1; i <= n; i++) printf "%s %.1f s%s", name[i], t[i + 1] - t[i], i < n ? ", " : ""
	}' "$D/last.log")
rm -rf "$D/out.img" "$D/out.img.boot" "$D/disk.secret"

head -c $((mib << 20)) /dev/urandom >"$D/plain.img"
head -c 32 /dev/urandom >"$D/key"
timed cryptsetup reencrypt --encrypt --type luks2 --reduce-device-size 16M \
	--force-offline-reencrypt --disable-locks --batch-mode --cipher aes-xts-plain64 --key-size 512 \
	--pbkdf pbkdf2 --pbkdf-force-iterations 1000 --key-file "$D/key" "$D/plain.img"
reencrypt_s=$secs
if [ "$rc" != 0 ]; then
	tail -n 5 "$D/last.log"
	echo "bench-convert: cryptsetup reencrypt failed (status $rc)"
	exit 1
fi
rm -rf "$D"
awk -v c="$convert_s" -v r="$reencrypt_s" -v mib="$image_mib" -v want="$mib" 'BEGIN {
	printf "convert, %d MiB noble image:           coco-secret convert            %7.1f s (%5.1f MiB/s)\n", mib, c, mib / c
	printf "                                         cryptsetup reencrypt --encrypt %7.1f s (%5.1f MiB/s, a %d MiB file)  ratio %.2f\n", r, want / r, want, c / r
	printf "                                         (ratio: convert / reencrypt; one run each)\n"
}'
echo "                                         convert's steps: $steps"
echo "                                         ([1/6] copy in, [2/6] root out, [3/6] apt and initramfs inside, [4/6] shrink and encrypt, [5/6] boot files, [6/6] out)"
