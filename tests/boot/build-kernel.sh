#!/usr/bin/env bash
# Builds the boot tests' kernel from Debian's linux-source-SERIES, once:
# the result is cached in $CACHE/kernel-<hash>/, keyed by the config
# fragment, this script, the series and the linux-source package version.
# Prints that directory.
#
#   [KERNEL_SERIES=6.1|6.12] build-kernel.sh [--check-config]
#
# Debian 12 ships two LTS lines as source: linux-source-6.1 (bookworm) and
# linux-source-6.12 (bookworm-security); the same fragment builds both.
#
# The cache directory holds: bzImage, config (the final .config), release
# (the kernel release string), modules/ (INSTALL_MOD_PATH tree, depmod run:
# modules/lib/modules/<release>/...) and build.log / build-seconds.
#
# --check-config only runs allnoconfig and checks the fragment (seconds),
# without building. Every option of the fragment must end up with the value
# asked for: allnoconfig silently drops options whose dependencies are off.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
fragment=$here/kernel.config
series=${KERNEL_SERIES:-6.1}
case $series in
6.1 | 6.12) ;;
*) echo "build-kernel.sh: KERNEL_SERIES must be 6.1 or 6.12, not '$series'" >&2; exit 2 ;;
esac
tarball=/usr/src/linux-source-$series.tar.xz
CACHE=${CACHE:-$HOME/.cache/coco-unlock}
JOBS=${JOBS:-$(nproc)}
check_only=0
[ "${1:-}" = --check-config ] && check_only=1

die() { echo "build-kernel.sh: $*" >&2; exit 1; }
log() { echo "build-kernel.sh: $*" >&2; }

[ -r "$tarball" ] || die "$tarball missing (apt-get install linux-source-$series)"
srcver=$(dpkg-query -W -f='${Version}' "linux-source-$series" 2>/dev/null) ||
	die "linux-source-$series is not installed"
key=$({ cat "$fragment" "$0"; echo "$series $srcver"; } | sha256sum | cut -c1-16)
out=$CACHE/kernel-$key

if [ "$check_only" = 0 ] && [ -f "$out/done" ]; then
	echo "$out"
	exit 0
fi

mkdir -p "$CACHE"
exec 9>"$CACHE/kernel-$key.lock"
flock 9
if [ "$check_only" = 0 ] && [ -f "$out/done" ]; then
	echo "$out"
	exit 0
fi

# check_config CONFIG: every CONFIG_X=v line of the fragment must be in it.
check_config() {
	local bad=0 line name
	while IFS= read -r line; do
		case $line in
		CONFIG_*=*)
			grep -qxF -- "$line" "$1" && continue
			name=${line%%=*}
			log "option lost or changed: wanted '$line', got '$(grep -E "^(# )?${name}[= ]" "$1" || echo "$name absent")'"
			bad=1 ;;
		"# CONFIG_"*" is not set")
			name=${line#\# }
			name=${name%% *}
			if grep -q "^$name=" "$1"; then
				log "option should be off: $name"
				bad=1
			fi ;;
		esac
	done <"$fragment"
	return $bad
}

work=$CACHE/kernel-$key.work
rm -rf "$work"
# A failed or interrupted run leaves nothing behind (KEEP_KERNEL_SRC=1 keeps
# the source tree, to look into a failure).
cleanup() { [ "${KEEP_KERNEL_SRC:-0}" = 1 ] || rm -rf "$work"; }
trap cleanup EXIT
mkdir -p "$work/src"
start=$(date +%s)
log "extracting $tarball ($srcver)"
tar -xJf "$tarball" -C "$work/src" --strip-components=1
src=$work/src
mk() { make -C "$src" ARCH=x86_64 "$@"; }

log "configuring (allnoconfig + $(basename "$fragment"))"
mk -s allnoconfig KCONFIG_ALLCONFIG="$fragment" >&2
check_config "$src/.config" || die "the config fragment did not survive allnoconfig (see above)"
log "config fragment checked: every option has the value asked for"
[ "$check_only" = 1 ] && exit 0

log "building bzImage and modules with -j$JOBS (log: $work/build.log)"
if ! mk -j"$JOBS" bzImage modules >"$work/build.log" 2>&1; then
	tail -n 40 "$work/build.log" >&2
	die "kernel build failed"
fi
release=$(mk -s kernelrelease)
mkdir -p "$work/out/modules"
mk -s modules_install INSTALL_MOD_PATH="$work/out/modules" DEPMOD=/sbin/depmod \
	>>"$work/build.log" 2>&1 || die "modules_install failed"
rm -f "$work/out/modules/lib/modules/$release/build" "$work/out/modules/lib/modules/$release/source"
/sbin/depmod -b "$work/out/modules" "$release" || die "depmod failed"
check_config "$src/.config" || die "final .config lost options"
for m in efi_secret dm-crypt dm-mod; do
	grep -q "/$m.ko:" "$work/out/modules/lib/modules/$release/modules.dep" ||
		die "module $m.ko missing from the modules tree"
done
cp "$src/arch/x86/boot/bzImage" "$work/out/bzImage"
cp "$src/.config" "$work/out/config"
echo "$release" >"$work/out/release"
cp "$work/build.log" "$work/out/build.log"
secs=$(( $(date +%s) - start ))
echo "$secs" >"$work/out/build-seconds"
touch "$work/out/done"
rm -rf "$out"
mv "$work/out" "$out"
log "kernel $release built in ${secs}s: $out"
echo "$out"
