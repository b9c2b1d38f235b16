#!/usr/bin/env bash
# initramfs-tools/scripts/{local-top,init-bottom}/coco-unlock against the
# boot contract of initramfs-tools' init: scripts are run (not sourced)
# in the order of each directory's ORDER file, which mkinitramfs writes
# from their prereqs (cache_run_scripts); local-top before cryptroot
# opens the volumes, init-bottom last before run-init. Here they run
# under BusyBox in a fake image with initramfs-tools' real
# /scripts/functions, a coco-unlock stand-in that records its arguments
# and exits with a chosen status, and stand-ins for the other scripts.
# Shell code in single quotes runs in another shell, on purpose.
# shellcheck disable=SC2016
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/lib/tap.sh"
. "$TOP/tests/initramfs-tools/lib.sh"

TOPSCRIPT=$IT_DIR/scripts/local-top/coco-unlock
BOTTOM=$IT_DIR/scripts/init-bottom/coco-unlock
FAILCLOSED=$IT_DIR/scripts/coco-unlock/fail-closed
TAB=/etc/coco-unlock/crypttab
T=$(mktemp -d "${TMPDIR:-/tmp}/coco-it-boot.XXXXXX")
trap 'rm -rf "$T"' EXIT

for s in "$TOPSCRIPT" "$BOTTOM"; do
	tap_check "$(basename "$(dirname "$s")"): sh syntax" sh -n "$s"
	tap_check "$(basename "$(dirname "$s")"): executable (initramfs-tools skips others)" test -x "$s"
done

# --- prereqs, as mkinitramfs asks for them ---------------------------------
mkdir -p "$T/lt"
for s in cryptroot lvm2 mdadm ORDER; do : >"$T/lt/$s"; done
cp "$TOPSCRIPT" "$T/lt/coco-unlock"
tap_is "local-top prereqs: every other script but cryptroot (and ORDER)" \
	"lvm2 mdadm" "$(sh "$T/lt/coco-unlock" prereqs | sort | tr '\n' ' ' | sed 's/ $//')"
# A script from /etc/initramfs-tools (CONFDIR) sees its own directory;
# the image being built has the scripts of both.
mkdir -p "$T/alone" "$T/dest/scripts/local-top"
cp "$TOPSCRIPT" "$T/alone/coco-unlock"
for s in cryptroot cryptopensc lvm2 coco-unlock ORDER; do : >"$T/dest/scripts/local-top/$s"; done
tap_is "local-top prereqs: also the scripts in \$DESTDIR, from either source directory" \
	"cryptopensc lvm2" "$(DESTDIR=$T/dest sh "$T/alone/coco-unlock" prereqs | sort -u | tr '\n' ' ' | sed 's/ $//')"
tap_is "init-bottom prereqs: udev" "udev" "$(sh "$BOTTOM" prereqs)"

R=$T/root
if [ ! -f "$IT_SHARE/scripts/functions" ]; then
	tap_skip "boot runs" "initramfs-tools-core is not installed (scripts/install-deps.sh initramfs-tools)"
	tap_done
	exit
fi
if ! it_busybox_root "$R" || ! it_chroot_probe "$R"; then
	tap_skip "boot runs" "no static BusyBox or no chroot here (scripts/install-deps.sh test; root or user namespaces)"
	tap_done
	exit
fi
mkdir -p "$R/scripts/local-top" "$R/scripts/init-bottom" "$R/scripts/coco-unlock" \
	"$R/etc/coco-unlock" "$R/conf" "$R/proc"
cp "$IT_SHARE/scripts/functions" "$R/scripts/functions"
cp "$TOPSCRIPT" "$R/scripts/local-top/coco-unlock"
cp "$BOTTOM" "$R/scripts/init-bottom/coco-unlock"
# mkinitramfs copies the whole scripts/ tree, this helper too.
cp "$FAILCLOSED" "$R/scripts/coco-unlock/fail-closed"
it_stub "$R/usr/sbin/coco-unlock" coco-unlock
it_stub "$R/sbin/modprobe" modprobe
it_poweroff_stub "$R"
# No /proc is mounted in the fake image: this file is its command line.
echo "BOOT_IMAGE=/vmlinuz root=/dev/mapper/root ro quiet" >"$R/proc/cmdline"
echo "root UUID=11111111-1111-4111-8111-111111111111 none luks" >"$R$TAB"

# boot SCRIPT [VAR=VALUE...]: runs SCRIPT (shell code) in the image as
# init would: BusyBox sh, init's exported variables; the calls go to
# $R/log, the output to $T/out, the status to $T/rc. In a session of its
# own: the poweroff stand-in ends it all.
boot() {
	local script=$1
	shift
	: >"$R/log"
	# shellcheck disable=SC2086 # IT_CHROOT is a command and its options
	# (The subshell keeps bash's "Killed" line about a powered-off run out
	# of the test's output.)
	(env -i PATH=/sbin:/usr/sbin:/bin:/usr/bin quiet=n panic= rootmnt=/root IT_SETSID=1 "$@" \
		setsid -w $IT_CHROOT "$R" /bin/sh -c "$script" >"$T/out" 2>&1
	echo $? >"$T/rc") 2>/dev/null
}

# --- local-top: unlock -----------------------------------------------------
boot '/scripts/local-top/coco-unlock; echo "status=$?"'
tap_is "local-top: modprobe dm_crypt (no AF_ALG module), then coco-unlock with the image crypttab" \
	"modprobe -a -q dm_crypt|coco-unlock --log-kmsg --crypttab $TAB" \
	"$(joined "$R/log")"
tap_is "local-top: exit 0 on success, silently" "status=0" "$(cat "$T/out")"
for rc in 1 2 3 4 139; do
	boot '/scripts/local-top/coco-unlock; echo "status=$?"' STUB_RC_COCO_UNLOCK=$rc
	tap_check "local-top: coco-unlock exit $rc: the script exits 0 (cryptroot goes on)" \
		grep -qx "status=0" "$T/out"
done
boot '/scripts/local-top/coco-unlock' STUB_RC_COCO_UNLOCK=3
tap_check "local-top: exit 3 is said as 'no injected secrets'" \
	grep -qx 'Warning: coco-unlock: no injected secrets; leaving the volumes to cryptroot' "$T/out"
boot '/scripts/local-top/coco-unlock' STUB_RC_COCO_UNLOCK=1
tap_check "local-top: exit 1 is said with its status" grep -q 'exit status 1; volumes it could not open' "$T/out"
boot '/scripts/local-top/coco-unlock' STUB_RC_COCO_UNLOCK=1 quiet=y
tap_empty "local-top: quiet=y: nothing printed" "$R/log" "$(cat "$T/out")"
boot '/scripts/local-top/coco-unlock; echo "status=$?"' STUB_RC_MODPROBE=1
tap_check "local-top: a failing modprobe does not stop coco-unlock" \
	grep -q '^coco-unlock ' "$R/log"
mv "$R$TAB" "$T/saved-tab"
boot '/scripts/local-top/coco-unlock'
tap_is "local-top: no image crypttab: coco-unlock without --crypttab (a missing one would be an error)" \
	"coco-unlock --log-kmsg" "$(grep '^coco-unlock' "$R/log")"
mv "$R/usr/sbin/coco-unlock" "$T/saved-stub"
boot '/scripts/local-top/coco-unlock; echo "status=$?"'
tap_check "local-top: coco-unlock missing: still exit 0" grep -qx "status=0" "$T/out"
mv "$T/saved-stub" "$R/usr/sbin/coco-unlock"
mv "$T/saved-tab" "$R$TAB"

# --- local-top: rd.coco.on-failure=poweroff, whatever ends coco-unlock -------
# coco-unlock powers off itself after it applied on-failure (exit 0, 1, 3,
# 4); killed (OOM, SIGKILL, a crash) or stopped by a configuration error,
# it cannot, and the script must, instead of reaching cryptroot's prompt.
# "cryptroot" is what init would run next.
NEXT='/scripts/local-top/coco-unlock; echo "status=$?"; echo cryptroot >>/log'
UNLOCK="modprobe -a -q dm_crypt|coco-unlock --log-kmsg --crypttab $TAB"
POWEROFF_CMDLINE="BOOT_IMAGE=/vmlinuz root=/dev/mapper/root ro rd.coco.on-failure=poweroff quiet"
echo "$POWEROFF_CMDLINE" >"$R/proc/cmdline"
for sig in KILL SEGV; do
	boot "$NEXT" STUB_SIG_COCO_UNLOCK=$sig
	tap_is "poweroff asked: coco-unlock killed by SIG$sig: powered off, cryptroot never runs" \
		"$UNLOCK|poweroff -f" "$(joined "$R/log")"
done
tap_check "poweroff asked: killed: said, with the signal" \
	grep -q 'coco-unlock: killed by signal 11, before it could apply on-failure=poweroff: powering off' "$T/out"
for rc in 2 127 137; do
	boot "$NEXT" STUB_RC_COCO_UNLOCK=$rc
	tap_is "poweroff asked: coco-unlock exit $rc: powered off" "$UNLOCK|poweroff -f" "$(joined "$R/log")"
done
for rc in 0 1 3 4; do
	boot "$NEXT" STUB_RC_COCO_UNLOCK=$rc
	tap_is "poweroff asked: exit $rc is coco-unlock's own verdict: cryptroot runs" \
		"$UNLOCK|cryptroot" "$(joined "$R/log")"
done
mv "$R/usr/sbin/coco-unlock" "$T/saved-stub"
boot "$NEXT"
tap_is "poweroff asked: coco-unlock missing from the image: powered off" \
	"modprobe -a -q dm_crypt|poweroff -f" "$(joined "$R/log")"
mv "$T/saved-stub" "$R/usr/sbin/coco-unlock"
# The owner's word, read as coco-unlock reads it: the last one wins,
# quotes are dropped, and a quoted value is one word.
for c in "rd.coco.on-failure=poweroff rd.coco.on-failure=prompt" \
	'foo="bar rd.coco.on-failure=poweroff"' "rd.coco.on-failure=poweroffx" \
	"rd.coco.on-failure=prompt" "x.rd.coco.on-failure=poweroff"; do
	echo "root=/dev/mapper/root $c" >"$R/proc/cmdline"
	boot "$NEXT" STUB_SIG_COCO_UNLOCK=KILL
	tap_is "not asked ($c): killed coco-unlock: cryptroot runs, as before" \
		"$UNLOCK|cryptroot" "$(joined "$R/log")"
done
for c in '"rd.coco.on-failure=poweroff"' 'rd.coco.on-failure="poweroff"' \
	"rd.coco.on-failure=prompt rd.coco.on-failure=poweroff"; do
	echo "root=/dev/mapper/root $c" >"$R/proc/cmdline"
	boot "$NEXT" STUB_SIG_COCO_UNLOCK=KILL
	tap_is "asked ($c): killed coco-unlock: powered off" "$UNLOCK|poweroff -f" "$(joined "$R/log")"
done
# x-coco.on-failure=poweroff on one volume of the image crypttab is asking too.
echo "BOOT_IMAGE=/vmlinuz root=/dev/mapper/root ro quiet" >"$R/proc/cmdline"
cp "$R$TAB" "$T/saved-tab"
printf '%s\n' "# data none x-coco.on-failure=poweroff" \
	"data UUID=22222222-2222-4222-8222-222222222222 none luks,discard,x-coco.on-failure=poweroff" >>"$R$TAB"
boot "$NEXT" STUB_SIG_COCO_UNLOCK=KILL
tap_is "crypttab x-coco.on-failure=poweroff: killed coco-unlock: powered off" \
	"$UNLOCK|poweroff -f" "$(joined "$R/log")"
printf '%s\n' "# data none x-coco.on-failure=poweroff" >"$R$TAB.2"
cat "$T/saved-tab" "$R$TAB.2" >"$R$TAB"
rm -f "$R$TAB.2"
boot "$NEXT" STUB_SIG_COCO_UNLOCK=KILL
tap_is "crypttab: a comment does not ask: cryptroot runs" "$UNLOCK|cryptroot" "$(joined "$R/log")"
mv "$T/saved-tab" "$R$TAB"

# --- init-bottom: wipe -----------------------------------------------------
boot '/scripts/init-bottom/coco-unlock; echo "status=$?"'
tap_is "init-bottom: coco-unlock --wipe-only with the same crypttab" \
	"coco-unlock --wipe-only --log-kmsg --crypttab $TAB" "$(joined "$R/log")"
tap_is "init-bottom: exit 0, silently" "status=0" "$(cat "$T/out")"
boot '/scripts/init-bottom/coco-unlock; echo "status=$?"' STUB_RC_COCO_UNLOCK=4
tap_check "init-bottom: failing --wipe-only: exit 0 (run-init goes on)" grep -qx "status=0" "$T/out"
tap_check "init-bottom: failing --wipe-only is said with its status" \
	grep -q '^Failure: coco-unlock --wipe-only failed (exit status 4)' "$T/out"

# --- the order: ORDER files from mkinitramfs's own cache_run_scripts --------
# Stand-ins for the neighbours, with their prereqs; cryptroot's is
# cryptsetup-initramfs's own script when installed (its prereqs() puts it
# after every other local-top script), run as a recording stand-in.
C=$T/conf
mkdir -p "$C/scripts/local-top" "$C/scripts/init-bottom"
neighbour() { # DIR NAME PREREQ
	cat >"$R/scripts/$1/$2" <<N
#!/bin/sh
case \$1 in prereqs) echo "$3"; exit 0 ;; esac
echo "$2" >>/log
N
	chmod 0755 "$R/scripts/$1/$2"
	cp "$R/scripts/$1/$2" "$C/scripts/$1/$2"
}
neighbour local-top mdadm ""
neighbour local-top lvm2 "mdadm"
neighbour local-top cryptroot ""
neighbour init-bottom udev ""
neighbour init-bottom zz-other ""
real_cryptroot=$IT_SHARE/scripts/local-top/cryptroot
if [ -f "$real_cryptroot" ]; then
	cp "$real_cryptroot" "$C/scripts/local-top/cryptroot"
else
	tap_skip "order: cryptsetup-initramfs's cryptroot prereqs" "cryptsetup-initramfs is not installed"
fi
cp "$TOPSCRIPT" "$C/scripts/local-top/coco-unlock"
cp "$BOTTOM" "$C/scripts/init-bottom/coco-unlock"
# DESTDIR exported, as mkinitramfs does: cryptsetup 2.7's cryptroot lists
# $DESTDIR/scripts/local-top for its prereqs (2.6's listed its own
# directory), and without it would run first.
order_out=$(env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin CONFDIR="$C" verbose=n IT_SHARE="$IT_SHARE" R="$R" DESTDIR="$R" sh -c '
	. "$IT_SHARE/hook-functions"
	cache_run_scripts "$R" /scripts/local-top
	cache_run_scripts "$R" /scripts/init-bottom' 2>&1)
tap_empty "order: cache_run_scripts: no loop, nothing said" "$R/scripts/local-top/ORDER" "$order_out"
boot '. /scripts/functions
	run_scripts /scripts/local-top
	echo mountroot >>/log
	run_scripts /scripts/init-bottom
	echo run-init >>/log'
tap_is "order: devices, unlock, cryptroot, root mounted, udev, wipe, run-init" \
	"mdadm|lvm2|modprobe -a -q dm_crypt|coco-unlock --log-kmsg --crypttab $TAB|cryptroot|mountroot|udev|coco-unlock --wipe-only --log-kmsg --crypttab $TAB|run-init" \
	"$(grep -v '^zz-other' "$R/log" | joined /dev/stdin)"

tap_done
