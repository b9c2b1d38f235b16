#!/usr/bin/env bash
# Makes (or finds made) what a real-system boot test of another release
# boots, before the boot phase: the roots, the package built for that
# release and the system with its LUKS2 images (tests/system/lib.sh,
# sys_system). On a cold cache that is 15-20 minutes for Ubuntu 24.04
# (debootstrap twice, the build dependencies, the static libraries); a
# test's own time limit is for its boots.
#
#   prepare.sh SUITE VARIANT      e.g. prepare.sh noble initramfs-tools
#
# Environment as for the tests (TOP, BUILD, CACHE).
set -u
export SYS_SUITE=$1
. "$TOP/tests/system/lib.sh"
[ "$(id -u)" = 0 ] || { echo "prepare.sh: root only (debootstrap, chroot): nothing made"; exit 0; }
start=$SECONDS
sys_system "$2" || exit 1
echo "system: $SYS_SUITE $2 ready in $((SECONDS - start)) s ($SYS_DIR)"
