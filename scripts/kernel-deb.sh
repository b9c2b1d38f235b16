#!/usr/bin/env bash
# Debian's own kernel with efi_secret, as installable packages: trixie's
# linux-source-6.12 with trixie's config for the cloud flavour
# (linux-config-6.12: config.amd64_none_cloud-amd64) plus the two options
# Debian leaves off (EFI_COCO_SECRET=y, EFI_SECRET=m), built with the
# kernel's own `make bindeb-pkg` into linux-image-RELEASE and
# linux-headers-RELEASE .debs. Debian's kernels have never enabled
# efi_secret (12, 13, forky, sid); this is the kernel a Debian guest of
# coco-unlock installs (docs/install-debian.md).
#
#   kernel-deb.sh [OUTDIR]
#
# The packages are cached in $CACHE/kernel-deb-KEY/ (KEY: this script and
# the two source packages' versions); OUTDIR gets copies. Prints the cache
# directory. Two changes to Debian's config besides the two options, both
# for a build that fits a small machine, neither seen by a guest's
# userspace: no debug info (Debian ships it in a separate -dbg package;
# without it BTF goes too), and no trusted keys of Debian's signing
# infrastructure (those files are not in the source package; modules are
# signed with a key made for this build, as any local build does).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
CACHE=${CACHE:-$HOME/.cache/coco-unlock}
JOBS=${JOBS:-$(nproc)}
suite=trixie series=6.12 flavour=cloud-amd64
outdir=${1:-}

die() { echo "kernel-deb.sh: $*" >&2; exit 1; }
log() { echo "kernel-deb.sh: $*" >&2; }

# The two packages of trixie, fetched with apt through a private list of
# the archive this machine's apt uses (nothing of the system's apt changes).
apt_dir=$CACHE/apt-$suite
mirror=$("$here/apt-sources.sh" bookworm | head -n 1) || die "no Debian archive in apt's sources"
mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/debs"
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $suite main" \
	>"$apt_dir/sources.list"
apt_opts=(-o "Dir::Etc::SourceList=$apt_dir/sources.list" -o Dir::Etc::SourceParts=-
	-o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache"
	-o Dir::State::status=/dev/null -o APT::Sandbox::User="$(id -un)" -o Debug::NoLocking=1)
log "$suite's linux-source-$series and linux-config-$series (apt, a private list)"
apt-get "${apt_opts[@]}" -q update >"$apt_dir/update.log" 2>&1 ||
	{ tail -n 5 "$apt_dir/update.log" >&2; die "apt-get update of $suite failed"; }
(cd "$apt_dir/debs" && apt-get "${apt_opts[@]}" -q download "linux-source-$series" \
	"linux-config-$series") >>"$apt_dir/update.log" 2>&1 ||
	{ tail -n 5 "$apt_dir/update.log" >&2; die "downloading the kernel source failed"; }
# The newest of each, should the list have moved on since a former run.
newest() { find "$apt_dir/debs" -name "$1_*.deb" -printf '%T@ %p\n' | sort -rn | head -n 1 | cut -d' ' -f2-; }
src_deb=$(newest "linux-source-$series")
cfg_deb=$(newest "linux-config-$series")
version=$(dpkg-deb -f "$src_deb" Version)

key=$({ cat "$0"; echo "$version $(basename "$cfg_deb") $flavour"; } | sha256sum | cut -c1-16)
out=$CACHE/kernel-deb-$key
copy_out() {
	[ -z "$outdir" ] && return 0
	mkdir -p "$outdir"
	cp "$out"/*.deb "$outdir/"
}
if [ -f "$out/done" ]; then
	copy_out
	echo "$out"
	exit 0
fi
exec 9>"$out.lock"
flock 9
if [ -f "$out/done" ]; then
	copy_out
	echo "$out"
	exit 0
fi

work=$out.work
rm -rf "$work" "$out"
mkdir -p "$work/pkg" "$out"
start=$SECONDS
log "unpacking Debian's linux-source $version"
dpkg-deb -x "$src_deb" "$work/pkg"
dpkg-deb -x "$cfg_deb" "$work/pkg"
tar -xaf "$work/pkg/usr/src/linux-source-$series.tar.xz" -C "$work"
src=$work/linux-source-$series
xz -dc "$work/pkg/usr/src/linux-config-$series/config.amd64_none_$flavour.xz" >"$src/.config"

# Debian's ABI name (6.12.N+debM-cloud-amd64 is Debian's release string);
# ours says it is not Debian's build.
localver=-coco-$flavour
cd "$src"
scripts/config --file .config \
	--enable EFI_COCO_SECRET --module EFI_SECRET \
	--disable DEBUG_INFO_DWARF_TOOLCHAIN_DEFAULT --disable DEBUG_INFO_DWARF4 \
	--disable DEBUG_INFO_DWARF5 --enable DEBUG_INFO_NONE --disable DEBUG_INFO_BTF \
	--set-str SYSTEM_TRUSTED_KEYS '' --set-str SYSTEM_REVOCATION_KEYS '' \
	--set-str MODULE_SIG_KEY certs/signing_key.pem \
	--set-str LOCALVERSION "$localver" --disable LOCALVERSION_AUTO \
	--set-str BUILD_SALT "$version$localver"
make olddefconfig >"$out/build.log" 2>&1
for want in CONFIG_EFI_COCO_SECRET=y CONFIG_EFI_SECRET=m; do
	grep -qx "$want" .config || die "$want did not survive olddefconfig (log: $out/build.log)"
done
log "building with $JOBS jobs (log: $out/build.log; about an hour on 2 cores)"
# KBUILD_BUILD_TIMESTAMP and the user/host: the same inputs, the same
# packages' contents, whoever builds them.
if ! make -j"$JOBS" bindeb-pkg KDEB_PKGVERSION="$version-coco1" \
	KBUILD_BUILD_TIMESTAMP="$(date -u -R -r "$work/pkg/usr/src/linux-source-$series.tar.xz")" \
	KBUILD_BUILD_USER=coco-unlock KBUILD_BUILD_HOST=kernel-deb >>"$out/build.log" 2>&1; then
	tail -n 30 "$out/build.log" >&2
	die "the kernel build failed (log: $out/build.log)"
fi
mv "$work"/linux-image-*.deb "$work"/linux-headers-*.deb "$out/"
rm -f "$out"/*-dbg_*.deb
make -s kernelrelease >"$out/release"
cp .config "$out/config"
cd /
echo $((SECONDS - start)) >"$out/build-seconds"
rm -rf "$work"
touch "$out/done"
log "built in $(cat "$out/build-seconds") s: $(find "$out" -name '*.deb' -printf '%f ')"
copy_out
echo "$out"
