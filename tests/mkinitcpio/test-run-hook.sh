#!/usr/bin/env bash
# mkinitcpio-hook/hooks/coco-unlock against mkinitcpio's run-time contract:
# init (busybox ash) sources /hooks/<name>, calls run_hook in HOOKS order,
# mounts root, then calls run_cleanuphook (reverse order), then
# switch_root. Here coco-unlock and modprobe are stubs on PATH that record
# their arguments and exit with a chosen status; the checks are the
# arguments, and that no failure stops the caller.
# Shell code in single quotes runs in another shell, on purpose.
# shellcheck disable=SC2016
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/lib/tap.sh"

RUNHOOK=$TOP/mkinitcpio-hook/hooks/coco-unlock
FAILCLOSED=$TOP/mkinitcpio-hook/coco-unlock/coco-unlock-fail-closed
T=$(mktemp -d "${TMPDIR:-/tmp}/coco-mkinitcpio-run.XXXXXX")
trap 'rm -rf "$T"' EXIT

# Stubs: each appends "NAME ARGS" to $STUB_LOG and exits with the status
# named by STUB_RC_<NAME>.
mkdir -p "$T/stub" "$T/nostub"
for name in coco-unlock modprobe coco-unlock-fail-closed; do
	var=STUB_RC_$(echo "$name" | tr a-z- A-Z_)
	cat >"$T/stub/$name" <<EOF
#!/bin/sh
echo "$name \$*" >>"\$STUB_LOG"
exit \${$var:-0}
EOF
	chmod 0755 "$T/stub/$name"
done
# Without coco-unlock (a broken image): modprobe and the helper alone.
cp "$T/stub/modprobe" "$T/stub/coco-unlock-fail-closed" "$T/nostub/"

# The shells: busybox ash is what mkinitcpio images run; dash is the other
# small POSIX shell at hand.
shells=()
if command -v busybox >/dev/null && busybox ash -c 'exit 0' 2>/dev/null; then
	shells+=("busybox ash")
else
	tap_skip "busybox ash" "busybox is not installed (scripts/install-deps.sh boot)"
fi
command -v dash >/dev/null && shells+=("dash")

# run SHELL STUBDIR SCRIPT [VAR=VALUE...]: runs SCRIPT (after sourcing the
# hook as mkinitcpio's init does, with its msg()) in SHELL; stdout+stderr
# to $T/out, the calls to $T/log, the status to $T/rc.
run() {
	local sh=$1 stubdir=$2 script=$3
	shift 3
	: >"$T/log"
	rm -f "$T/rc" "$T/out"
	# shellcheck disable=SC2086
	env -i PATH="$stubdir:/usr/bin:/bin" STUB_LOG="$T/log" HOOKFILE="$RUNHOOK" \
		STUB_MODPROBE="$stubdir/modprobe" "$@" \
		$sh -c '
			# busybox ash prefers its own modprobe applet to PATH: a
			# function wins over both, so nothing is loaded on this host.
			modprobe() { "$STUB_MODPROBE" "$@"; }
			msg() { [ "${quiet:-}" != y ] && echo "$@"; }
			err() { echo "ERROR: $*"; }
			. "$HOOKFILE"
			'"$script" >"$T/out" 2>&1
	echo $? >"$T/rc"
}

for sh in "${shells[@]}"; do
	# shellcheck disable=SC2086 # "busybox ash" is two words
	tap_check "$sh: hook syntax" $sh -n "$RUNHOOK"

	# --- run_hook: unlocks ----------------------------------------------------------
	run "$sh" "$T/stub" 'run_hook; echo "run_hook=$?"'
	tap_is "$sh: run_hook runs coco-unlock without arguments" "coco-unlock " "$(grep '^coco-unlock' "$T/log")"
	tap_is "$sh: run_hook loads dm-crypt first, and no AF_ALG module" \
		"modprobe -a -q dm-crypt|coco-unlock " \
		"$(tr '\n' '|' <"$T/log" | sed 's/|$//')"
	tap_is "$sh: run_hook returns 0 on success, silently" "run_hook=0" "$(cat "$T/out")"

	for rc in 1 2 3 139; do
		run "$sh" "$T/stub" 'run_hook; echo "run_hook=$?"; echo continued' STUB_RC_COCO_UNLOCK=$rc
		tap_check "$sh: coco-unlock exit $rc: the fail-closed helper decides on poweroff first" \
			grep -qx "coco-unlock-fail-closed $rc /etc/crypttab /proc/cmdline" "$T/log"
		tap_check "$sh: coco-unlock exit $rc: run_hook returns 0 and the init goes on" \
			grep -qx continued "$T/out"
		tap_check "$sh: coco-unlock exit $rc: run_hook status 0" grep -qx "run_hook=0" "$T/out"
	done
	run "$sh" "$T/stub" 'run_hook' STUB_RC_COCO_UNLOCK=3
	tap_check "$sh: exit 3 is reported as 'no injected secrets'" grep -q 'no injected secrets' "$T/out"
	run "$sh" "$T/stub" 'run_hook' STUB_RC_COCO_UNLOCK=1
	tap_check "$sh: exit 1 is reported with its status" grep -q 'exit status 1' "$T/out"
	run "$sh" "$T/stub" 'run_hook' STUB_RC_COCO_UNLOCK=1 quiet=y
	tap_empty "$sh: quiet=y: nothing printed" "$T/log" "$(cat "$T/out")"

	run "$sh" "$T/stub" 'set -e; run_hook; echo continued' STUB_RC_COCO_UNLOCK=1 STUB_RC_MODPROBE=1
	tap_check "$sh: failing modprobe and coco-unlock do not stop a 'set -e' caller" \
		grep -qx continued "$T/out"
	run "$sh" "$T/nostub" 'run_hook; echo "run_hook=$?"'
	tap_check "$sh: coco-unlock missing: run_hook still returns 0" grep -qx "run_hook=0" "$T/out"

	run "$sh" "$T/stub" 'rc=keep; run_hook; echo "rc=$rc"' STUB_RC_COCO_UNLOCK=1
	tap_check "$sh: run_hook leaves the caller's variables alone" grep -qx "rc=keep" "$T/out"

	# --- run_cleanuphook: wipes --------------------------------------------------------
	run "$sh" "$T/stub" 'run_cleanuphook; echo "cleanup=$?"'
	tap_is "$sh: run_cleanuphook runs coco-unlock --wipe-only" "coco-unlock --wipe-only" "$(cat "$T/log")"
	tap_is "$sh: run_cleanuphook returns 0, silently" "cleanup=0" "$(cat "$T/out")"
	run "$sh" "$T/stub" 'set -e; run_cleanuphook; echo "cleanup=$?"' STUB_RC_COCO_UNLOCK=1
	tap_check "$sh: failing --wipe-only: returns 0 and the init goes on" grep -qx "cleanup=0" "$T/out"
	tap_check "$sh: failing --wipe-only is reported" grep -q 'wipe-only failed (exit status 1)' "$T/out"

	# --- mkinitcpio's order, as its init runs the hooks -----------------------------
	run "$sh" "$T/stub" '
		for fn in run_earlyhook run_hook run_latehook run_cleanuphook; do
			type "$fn" >/dev/null 2>&1 || continue
			"$fn"
		done
		echo switch_root' STUB_RC_COCO_UNLOCK=1
	tap_is "$sh: init order: unlock, then wipe, then switch_root" \
		"modprobe -a -q dm-crypt|coco-unlock |coco-unlock-fail-closed 1 /etc/crypttab /proc/cmdline|coco-unlock --wipe-only" \
		"$(tr '\n' '|' <"$T/log" | sed 's/|$//')"
	tap_check "$sh: init order: switch_root reached" grep -qx switch_root "$T/out"
	run "$sh" "$T/stub" 'type run_earlyhook >/dev/null 2>&1 && echo early; type run_latehook >/dev/null 2>&1 && echo late; :'
	tap_empty "$sh: no early or late hook" "$T/rc" "$(cat "$T/out")"
done

# --- rd.coco.on-failure=poweroff, whatever ends coco-unlock ----------------------
# With the real helper, in a fake image (chroot: BusyBox, a recording
# poweroff, no real one; tests/initramfs-tools/lib.sh): killed (the OOM
# killer, SIGKILL, a crash) or stopped by a configuration error,
# coco-unlock cannot power off itself, and run_hook must, before
# `encrypt` asks for a passphrase.
. "$TOP/tests/initramfs-tools/lib.sh"
R=$T/root
if ! it_busybox_root "$R" || ! it_chroot_probe "$R"; then
	tap_skip "poweroff runs" "no static BusyBox or no chroot here (scripts/install-deps.sh test; root or user namespaces)"
	tap_done
	exit
fi
mkdir -p "$R/hooks" "$R/usr/bin" "$R/proc"
cp "$RUNHOOK" "$R/hooks/coco-unlock"
cp "$FAILCLOSED" "$R/usr/bin/coco-unlock-fail-closed"
it_stub "$R/usr/bin/coco-unlock" coco-unlock
it_poweroff_stub "$R"
# chroot_init CMDLINE [VAR=VALUE...]: mkinitcpio's init, in short: run_hook,
# then `encrypt` (which would ask for the passphrase); /log has the calls.
chroot_init() {
	echo "$1" >"$R/proc/cmdline"
	shift
	: >"$R/log"
	# shellcheck disable=SC2086 # IT_CHROOT is a command and its options
	(env -i PATH=/usr/bin:/bin:/usr/sbin:/sbin IT_SETSID=1 "$@" setsid -w $IT_CHROOT "$R" /bin/ash -c '
		modprobe() { :; }
		msg() { echo "$@"; }
		. /hooks/coco-unlock
		run_hook
		echo encrypt >>/log' >"$T/out" 2>&1
	:) 2>/dev/null # bash's "Killed" line about a powered-off run: not ours to show
}
ASK="cryptdevice=/dev/vda2:root root=/dev/mapper/root rd.coco.on-failure=poweroff"
for sig in KILL SEGV; do
	chroot_init "$ASK" STUB_SIG_COCO_UNLOCK=$sig
	tap_is "poweroff asked: coco-unlock killed by SIG$sig: powered off, encrypt never runs" \
		"coco-unlock |poweroff -f" "$(joined "$R/log")"
done
chroot_init "$ASK" STUB_RC_COCO_UNLOCK=2
tap_is "poweroff asked: a configuration error (2): powered off" "coco-unlock |poweroff -f" "$(joined "$R/log")"
for rc in 1 3; do
	chroot_init "$ASK" STUB_RC_COCO_UNLOCK=$rc
	tap_is "poweroff asked: exit $rc (coco-unlock's own verdict): encrypt runs" \
		"coco-unlock |encrypt" "$(joined "$R/log")"
done
chroot_init "cryptdevice=/dev/vda2:root root=/dev/mapper/root" STUB_SIG_COCO_UNLOCK=KILL
tap_is "not asked: killed coco-unlock: encrypt runs, as before" "coco-unlock |encrypt" "$(joined "$R/log")"
printf 'root /dev/vda2 none luks,x-coco.on-failure=poweroff\n' >"$R/etc/crypttab"
chroot_init "cryptdevice=/dev/vda2:root root=/dev/mapper/root" STUB_SIG_COCO_UNLOCK=KILL
tap_is "crypttab x-coco.on-failure=poweroff: killed coco-unlock: powered off" \
	"coco-unlock |poweroff -f" "$(joined "$R/log")"

tap_done
