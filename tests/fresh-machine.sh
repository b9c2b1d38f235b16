#!/bin/bash
# Runs a command (default: the README's test command, `make check`) the way
# a newcomer's fresh Debian 12 machine would: in a minimal Debian 12 root
# made with debootstrap, on a clone of the committed tree, with nothing of
# this machine's /etc, /root or installed packages visible. A step that
# only works because this machine has something installed or configured
# fails there. `make check-fresh` and .ci/run use it.
#
#   tests/fresh-machine.sh [--suite SUITE] ['COMMAND']   as root, from the project
#
# - The root: debootstrap --variant=minbase SUITE (bookworm, the default:
#   Debian 12; trixie: Debian 13) with git, make and ca-certificates (what
#   a newcomer needs to clone and type `make`), from the Debian archive
#   this machine's apt uses (scripts/apt-sources.sh: its bookworm entries,
#   whose addresses serve the other suites too).
#   Cached in $CACHE/fresh-root-KEY, keyed by the suite, the archives, the
#   package list and debootstrap's version; made once (2-3 minutes).
# - Each run: a throw-away overlay on that root (in $FRESH_TMP, default
#   /var/tmp), /proc, /sys and /dev, a private /tmp, a `git clone` of HEAD
#   (uncommitted changes are not in it, as in CI). All of it happens in a
#   private mount namespace, so nothing is mounted on this machine and a
#   killed run leaves no mount behind.
# - Shared, read-only: the slow build artifacts cached here and keyed by
#   their inputs (the test kernel, kernel-KEY/, the static libraries,
#   static-KEY/, and the real-system boots' roots,
#   debian-root-*-KEY/ and ubuntu-root-*-KEY/ but the package build roots,
#   which each build writes to), each bind-mounted read-only at the same
#   path inside. The root computes its own keys from its own packages: an
#   artifact whose inputs differ there is not found and is built inside.
#   Artifacts the root built are copied back into this machine's cache
#   after the run, by this script (the root never writes here), so the
#   next run is warm.
# - Output: the whole log in build/fresh/last.log, the root's test logs in
#   build/fresh/test-logs/ (for trixie: last-trixie.log, test-logs-trixie/),
#   the last lines on stdout; the command's status.
#
# Environment: CACHE (default ~/.cache/coco-unlock), FRESH_TMP, KEEP=1
# (keep the run's overlay for a look after a failure).
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
SUITE=bookworm
if [ "${1:-}" = --suite ]; then
	SUITE=${2:?--suite needs bookworm or trixie}
	shift 2
fi
case $SUITE in
bookworm) RELEASE="Debian 12" ;;
trixie) RELEASE="Debian 13" ;;
*) echo "fresh-machine.sh: suite '$SUITE': bookworm or trixie" >&2; exit 2 ;;
esac
CMD=${1:-make check}
CACHE=${CACHE:-$HOME/.cache/coco-unlock}
FRESH_TMP=${FRESH_TMP:-/var/tmp}
INCLUDE=git,make,ca-certificates
me=fresh-machine.sh

die() { echo "$me: $*" >&2; exit 2; }
say() { echo "$me: $*" >&2; }

[ "$(id -u)" = 0 ] || die "run as root (it debootstraps, mounts and chroots)"
"$TOP/scripts/install-deps.sh" fresh

# Everything below runs in a private mount namespace of its own.
if [ "${FRESH_IN_NAMESPACE:-}" != 1 ]; then
	FRESH_IN_NAMESPACE=1 exec unshare -m --propagation private "$0" --suite "$SUITE" "$CMD"
fi

archives=$("$TOP/scripts/apt-sources.sh") || die "no Debian archive for debootstrap (see above)"
# The same archives, for SUITE (bookworm-updates -> trixie-updates, ...).
archives=${archives// bookworm/ $SUITE}
mirror=$(awk -v s="$SUITE" '$2 == s { print $1; exit }' <<<"$archives")

# --- the base root, cached -----------------------------------------------------
key=$({
	echo "$SUITE $INCLUDE minbase"
	echo "$archives"
	dpkg-query -W -f='${Version}\n' debootstrap
} | sha256sum | cut -c1-16)
BASE=$CACHE/fresh-root-$key
mkdir -p "$CACHE"
exec 9>"$BASE.lock"
flock 9
if [ ! -e "$BASE/.complete" ]; then
	say "debootstrap $SUITE from $mirror into $BASE (once, 2-3 minutes)"
	rm -rf "$BASE" "$BASE.log"
	if ! debootstrap --variant=minbase --include="$INCLUDE" "$SUITE" "$BASE" "$mirror" \
		>"$BASE.log" 2>&1; then
		tail -n 20 "$BASE.log" >&2
		die "debootstrap failed (log: $BASE.log)"
	fi
	# apt inside: the same Debian archives as this machine, nothing else.
	: >"$BASE/etc/apt/sources.list"
	awk '{ print "deb " $1 " " $2 " main" }' <<<"$archives" >"$BASE/etc/apt/sources.list.d/debian.list"
	rm -rf "$BASE"/var/cache/apt/archives/*.deb "$BASE"/var/lib/apt/lists/*_Packages
	touch "$BASE/.complete"
fi
flock -u 9

# --- this run's root -------------------------------------------------------------
RUNDIR=$(mktemp -d "$FRESH_TMP/coco-fresh.XXXXXX")
ROOT=$RUNDIR/root
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	umount -R "$ROOT" 2>/dev/null || umount -lR "$ROOT" 2>/dev/null || true
	if mountpoint -q "$ROOT"; then
		# Never remove through a mount (the root has /dev and /sys in it).
		say "$ROOT is still mounted: $RUNDIR left as it is"
	elif [ "${KEEP:-0}" = 1 ]; then
		say "kept $RUNDIR/upper"
	else
		rm -rf --one-file-system "$RUNDIR"
	fi
}
trap cleanup EXIT
mkdir -p "$RUNDIR/upper" "$RUNDIR/work" "$ROOT"
mount -t overlay coco-fresh -o "lowerdir=$BASE,upperdir=$RUNDIR/upper,workdir=$RUNDIR/work" "$ROOT"
mount -t proc proc "$ROOT/proc"
mount --rbind /sys "$ROOT/sys"
mount --rbind /dev "$ROOT/dev"
mount -t tmpfs -o mode=1777 tmpfs "$ROOT/tmp"
mount -t tmpfs -o mode=0755 tmpfs "$ROOT/run"
# Name resolution, for apt inside: the network itself, not configuration.
cp -L /etc/resolv.conf "$ROOT/etc/resolv.conf" 2>/dev/null || true
git clone -q "$TOP" "$ROOT/root/coco-unlock"

# The cached artifacts, read-only, at the same paths (their .pc files and
# stamps name them). Only complete ones.
mkdir -p "$ROOT$CACHE"
shared=()
for d in "$CACHE"/kernel-* "$CACHE"/static-* "$CACHE"/debian-root-* "$CACHE"/ubuntu-root-*; do
	# shellcheck disable=SC2015 # skip what is not a complete cache
	[ -d "$d" ] && { [ -e "$d/done" ] || [ -e "$d/.complete" ]; } || continue
	case $d in *-root-*-build-*) continue ;; esac
	mkdir -p "$ROOT$d"
	mount --bind "$d" "$ROOT$d"
	mount -o remount,bind,ro "$ROOT$d"
	shared+=("$(basename "$d")")
done
say "shared read-only: ${shared[*]:-nothing}"

# The project's shared directory (test vectors) beside the clone, read-only,
# as it lies beside the checkout on a developer's machine and in CI.
if [ -d "$TOP/../shared" ]; then
	mkdir -p "$ROOT/root/shared"
	mount --bind "$TOP/../shared" "$ROOT/root/shared"
	mount -o remount,bind,ro "$ROOT/root/shared"
	say "../shared beside the clone, read-only"
fi

# --- the command -------------------------------------------------------------------
mkdir -p "$TOP/build/fresh"
suffix=
[ "$SUITE" = bookworm ] || suffix=-$SUITE
LOG=$TOP/build/fresh/last$suffix.log
say "running '$CMD' in a fresh $RELEASE root (log: $LOG)"
start=$SECONDS
set +e
chroot "$ROOT" /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 CI="${CI:-}" CACHE="$CACHE" \
	PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	bash -c "cd /root/coco-unlock && $CMD" >"$LOG" 2>&1
rc=$?
set -e
secs=$((SECONDS - start))

# The root's test logs, and the artifacts it built, for this machine.
rm -rf "$TOP/build/fresh/test-logs$suffix"
[ -d "$ROOT/root/coco-unlock/build/test-logs" ] &&
	cp -a "$ROOT/root/coco-unlock/build/test-logs" "$TOP/build/fresh/test-logs$suffix"
for d in "$ROOT$CACHE"/kernel-* "$ROOT$CACHE"/static-* "$ROOT$CACHE"/debian-root-* "$ROOT$CACHE"/ubuntu-root-*; do
	# shellcheck disable=SC2015 # skip what is not a complete cache
	[ -d "$d" ] && { [ -e "$d/done" ] || [ -e "$d/.complete" ]; } || continue
	[ -e "$CACHE/$(basename "$d")" ] && continue
	cp -a "$d" "$CACHE/" && say "kept the root's $(basename "$d") in $CACHE"
done

tail -n 30 "$LOG"
say "'$CMD' exited with $rc after ${secs} s in the fresh $RELEASE root"
exit $rc
