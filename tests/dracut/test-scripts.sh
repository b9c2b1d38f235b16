#!/usr/bin/env bash
# The dracut module's boot-time scripts on this machine, without dracut or
# a boot (those are tests/dracut/test-*.sh, booted in QEMU): what
# install() puts in the image (module-setup.sh sourced with recording
# stand-ins for dracut's inst_* functions), and rd.coco.on-failure=poweroff
# whatever ends coco-unlock, in both modes: the initqueue/settled hook
# (shell mode) sourced as dracut's init sources it, and coco-unlock.service's
# ExecStopPost= command run as systemd would run it after a SIGKILL. Those
# run under BusyBox in a fake image (chroot: a recording poweroff, no real
# one; tests/initramfs-tools/lib.sh).
# Shell code in single quotes runs in another shell, on purpose.
# shellcheck disable=SC2016
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/lib/tap.sh"
. "$TOP/tests/initramfs-tools/lib.sh"

MOD=$TOP/dracut-module/91coco-unlock
T=$(mktemp -d "${TMPDIR:-/tmp}/coco-dracut-scripts.XXXXXX")
trap 'rm -rf "$T"' EXIT

for f in coco-unlock-dracut.sh coco-unlock-settled.sh coco-unlock-wipe.sh coco-unlock-fail-closed.sh; do
	tap_check "$f: sh syntax" sh -n "$MOD/$f"
done

# --- install(): what goes into the image --------------------------------------
# install_calls MODE: install() with recording stand-ins, MODE systemd or
# shell; one line per call in $T/MODE.calls, the image in $T/MODE.init.
install_calls() {
	local mode=$1
	rm -rf "$T/$mode.init"
	mkdir -p "$T/$mode.init"
	env -i PATH="$PATH" MOD="$MOD" MODE="$mode" OUT="$T/$mode.calls" initdir="$T/$mode.init" \
		COCO_UNLOCK_BINARY=/bin/true bash -c '
		moddir=$MOD systemdsystemunitdir=/usr/lib/systemd/system
		rec() { printf "%s\n" "$*" >>"$OUT"; }
		inst_binary() { rec inst_binary "$@"; }
		inst_simple() { rec inst_simple "$@"; }
		inst_hook() { rec inst_hook "$@"; }
		ln_r() { rec ln_r "$@"; }
		inst_libdir_file() { rec inst_libdir_file "$@"; return 1; }
		dinfo() { :; }
		# A copy, as dracut-install makes, with the source mode.
		inst_script() { rec inst_script "$@"; mkdir -p "$initdir${2%/*}"; cp -p "$1" "$initdir$2"; }
		dracut_module_included() { [ "$1" = systemd ] && [ "$MODE" = systemd ]; }
		: >"$OUT"
		. "$MOD/module-setup.sh"
		install' >"$T/$mode.out" 2>&1
	echo $? >"$T/$mode.rc"
}
# A copy of the module whose scripts lost their x bits (an unpacked
# tarball, a package manager's umask).
cp -r "$MOD" "$T/mod"
chmod 0644 "$T/mod"/*.sh
for mode in systemd shell; do
	MOD=$T/mod install_calls $mode
	tap_is "$mode mode: install() succeeds" 0 "$(cat "$T/$mode.rc")"
	tap_check "$mode mode: the fail-closed helper as /usr/sbin/coco-unlock-fail-closed" \
		grep -qxF "inst_script $T/mod/coco-unlock-fail-closed.sh /usr/sbin/coco-unlock-fail-closed" "$T/$mode.calls"
	tap_is "$mode mode: the helper is executable in the image, whatever the source's mode" \
		755 "$(stat -c %a "$T/$mode.init/usr/sbin/coco-unlock-fail-closed" 2>/dev/null)"
done
tap_check "the helper is the same file as initramfs-tools'" \
	cmp -s "$MOD/coco-unlock-fail-closed.sh" "$TOP/initramfs-tools/scripts/coco-unlock/fail-closed"

# --- installkernel(): the kernel has efi_secret, or it is said (issue 25) ---------
# kernel_calls NAME KERNEL SRCMODS [OS_RELEASE]: installkernel() with recording
# stand-ins; instmods' calls and dwarn's lines in $T/k-NAME.calls.
kernel_calls() {
	env -i PATH="$PATH" MOD="$MOD" OUT="$T/k-$1.calls" kernel="$2" srcmods="$3" \
		COCO_UNLOCK_OS_RELEASE="${4:-/nonexistent}" bash -c '
		rec() { printf "%s\n" "$*" >>"$OUT"; }
		instmods() { rec instmods "$@"; }
		dwarn() { rec dwarn "$@"; }
		dinfo() { :; }
		: >"$OUT"
		. "$MOD/module-setup.sh"
		installkernel' >"$T/k-$1.out" 2>&1
	echo $? >"$T/k-$1.rc"
}
for k in stock module builtin; do mkdir -p "$T/modules/$k"; done
echo 'kernel/drivers/md/dm-crypt.ko.zst: kernel/drivers/md/dm-mod.ko.zst' >"$T/modules/stock/modules.dep"
echo 'kernel/drivers/md/dm-mod.ko' >"$T/modules/stock/modules.builtin"
echo 'kernel/drivers/virt/coco/efi_secret/efi_secret.ko.zst:' >"$T/modules/module/modules.dep"
echo 'kernel/drivers/virt/coco/efi_secret/efi_secret.ko' >"$T/modules/builtin/modules.builtin"
printf 'NAME="Ubuntu"\nID=ubuntu\nID_LIKE=debian\n' >"$T/os-release.ubuntu"
kernel_calls stock 6.12.0-stock "$T/modules/stock"
kernel_calls ubuntu 6.8.0-stock-generic "$T/modules/stock" "$T/os-release.ubuntu"
kernel_calls module 6.1.0-test "$T/modules/module"
kernel_calls builtin 6.8.0-builtin "$T/modules/builtin"
tap_check "installkernel(): efi_secret and dm_crypt asked for" \
	grep -qx 'instmods efi_secret dm_crypt' "$T/k-stock.calls"
tap_is "kernel without efi_secret: one dwarn names the kernel and what to do" 1 \
	"$(grep -c '^dwarn coco-unlock: kernel 6.12.0-stock has no efi_secret, .*CONFIG_EFI_SECRET' "$T/k-stock.calls")"
grep '^dwarn' "$T/k-stock.calls" | sed 's/^/#   /'
tap_check "kernel without efi_secret, on Ubuntu: install linux-modules-extra-VERSION" \
	grep -q '^dwarn coco-unlock: kernel 6.8.0-stock-generic has no efi_secret, .*install linux-modules-extra-6.8.0-stock-generic$' "$T/k-ubuntu.calls"
tap_absent "efi_secret a module: nothing said" "$T/k-module.calls" '^dwarn' '^instmods '
tap_absent "efi_secret built in: nothing said" "$T/k-builtin.calls" '^dwarn' '^instmods '

# --- the fake image ----------------------------------------------------------------
R=$T/root
if ! it_busybox_root "$R" || ! it_chroot_probe "$R"; then
	tap_skip "boot runs" "no static BusyBox or no chroot here (scripts/install-deps.sh test; root or user namespaces)"
	tap_done
	exit
fi
mkdir -p "$R/proc" "$R/run" "$R/etc/cmdline.d" "$R/usr/sbin"
cp "$MOD/coco-unlock-dracut.sh" "$R/usr/sbin/coco-unlock-dracut"
cp "$MOD/coco-unlock-fail-closed.sh" "$R/usr/sbin/coco-unlock-fail-closed" 2>/dev/null
cp "$MOD/coco-unlock-settled.sh" "$R/settled.sh"
it_stub "$R/usr/sbin/coco-unlock" coco-unlock
it_poweroff_stub "$R"
ASK="root=/dev/mapper/root rd.luks.uuid=11111111-1111-4111-8111-111111111111 rd.coco.on-failure=poweroff"
NOASK="root=/dev/mapper/root rd.luks.uuid=11111111-1111-4111-8111-111111111111"
CMDLINE_ARG="--cmdline /run/coco-unlock.cmdline"

# boot CMDLINE SCRIPT [VAR=VALUE...]: SCRIPT in the fake image, in a session of
# its own (the poweroff stand-in ends it); calls in $R/log.
boot() {
	echo "$1" >"$R/proc/cmdline"
	local script=$2
	shift 2
	: >"$R/log"
	rm -f "$R/run/coco-unlock.done"
	# shellcheck disable=SC2086 # IT_CHROOT is a command and its options
	(env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin IT_SETSID=1 "$@" setsid -w $IT_CHROOT "$R" /bin/sh -c "$script" \
		>"$T/out" 2>&1
	:) 2>/dev/null # bash's "Killed" line about a powered-off run: not ours to show
}

# --- shell mode: the settled hook, then the crypt module's cryptroot-ask --------
# dracut's init sources each initqueue/settled hook (job=$job . $job).
SETTLED='job=/settled.sh . /settled.sh; echo cryptroot-ask >>/log'
for sig in KILL SEGV; do
	boot "$ASK" "$SETTLED" STUB_SIG_COCO_UNLOCK=$sig
	tap_is "shell mode, poweroff asked: coco-unlock killed by SIG$sig: powered off, no cryptroot-ask" \
		"coco-unlock $CMDLINE_ARG|poweroff -f" "$(joined "$R/log")"
done
boot "$ASK" "$SETTLED" STUB_RC_COCO_UNLOCK=2
tap_is "shell mode, poweroff asked: a configuration error (2): powered off" \
	"coco-unlock $CMDLINE_ARG|poweroff -f" "$(joined "$R/log")"
for rc in 0 1 3; do
	boot "$ASK" "$SETTLED" STUB_RC_COCO_UNLOCK=$rc
	tap_is "shell mode, poweroff asked: exit $rc (coco-unlock's own verdict): cryptroot-ask runs" \
		"coco-unlock $CMDLINE_ARG|cryptroot-ask" "$(joined "$R/log")"
	tap_is "shell mode: exit $rc: the status file, as before" "coco-unlock: exit status $rc" \
		"$(cat "$R/run/coco-unlock.status" 2>/dev/null)"
done
boot "$NOASK" "$SETTLED" STUB_SIG_COCO_UNLOCK=KILL
tap_is "shell mode, not asked: killed: cryptroot-ask runs, as before" \
	"coco-unlock $CMDLINE_ARG|cryptroot-ask" "$(joined "$R/log")"
# A host-only image keeps the command line dracut was given in
# /etc/cmdline.d (measured with the image); coco-unlock reads it too.
echo "rd.coco.on-failure=poweroff" >"$R/etc/cmdline.d/90-coco.conf"
boot "$NOASK" "$SETTLED" STUB_SIG_COCO_UNLOCK=KILL
tap_is "shell mode, poweroff in /etc/cmdline.d: killed: powered off" \
	"coco-unlock $CMDLINE_ARG|poweroff -f" "$(joined "$R/log")"
boot "$NOASK rd.coco.on-failure=prompt" "$SETTLED" STUB_SIG_COCO_UNLOCK=KILL
tap_is "shell mode: /proc/cmdline comes last and wins, as for coco-unlock" \
	"coco-unlock $CMDLINE_ARG|cryptroot-ask" "$(joined "$R/log")"
rm "$R/etc/cmdline.d/90-coco.conf"
printf 'root UUID=11111111-1111-4111-8111-111111111111 none luks,x-coco.on-failure=poweroff\n' >"$R/etc/crypttab"
boot "$NOASK" "$SETTLED" STUB_SIG_COCO_UNLOCK=KILL
tap_is "shell mode, crypttab x-coco.on-failure=poweroff: killed: powered off" \
	"coco-unlock $CMDLINE_ARG|poweroff -f" "$(joined "$R/log")"
rm "$R/etc/crypttab"
boot "$ASK" "$SETTLED; $SETTLED" STUB_RC_COCO_UNLOCK=1
tap_is "shell mode: the settled hook runs coco-unlock once per boot" \
	"coco-unlock $CMDLINE_ARG|cryptroot-ask|cryptroot-ask" "$(joined "$R/log")"

# --- systemd mode: coco-unlock.service's ExecStopPost= ----------------------------------
U=$MOD/coco-unlock.service
stoppost=$(sed -n 's/^ExecStopPost=//p' "$U")
tap_check "coco-unlock.service: no FailureAction= or OnFailure= (they would not ask the owner)" \
	bash -c '! grep -qE "^(FailureAction|OnFailure)=" "$1"' _ "$U"
# systemd's own quoting of that line is the shell's for what it holds: no
# $, %, or backslash.
tap_check "coco-unlock.service: ExecStopPost= holds no \$, % or backslash" \
	bash -c '[ -n "$1" ] && case $1 in *[\$%\\]*) false ;; esac' _ "$stoppost"
# stoppost CMDLINE [VAR=VALUE...]: that command, then "returned".
stoppost() {
	local c=$1
	shift
	boot "$c" "$stoppost; echo returned >>/log" "$@"
}
stoppost "$ASK" SERVICE_RESULT=signal EXIT_CODE=killed EXIT_STATUS=KILL
tap_is "systemd mode, poweroff asked: killed: ExecStopPost= powers off" "poweroff -f -f" "$(joined "$R/log")"
stoppost "$ASK" SERVICE_RESULT=timeout EXIT_CODE=killed EXIT_STATUS=TERM
tap_is "systemd mode, poweroff asked: timed out: ExecStopPost= powers off" "poweroff -f -f" "$(joined "$R/log")"
stoppost "$ASK" SERVICE_RESULT=exit-code EXIT_CODE=exited EXIT_STATUS=2
tap_is "systemd mode, poweroff asked: exit 2: ExecStopPost= powers off" "poweroff -f -f" "$(joined "$R/log")"
stoppost "$ASK" SERVICE_RESULT=success EXIT_CODE=exited EXIT_STATUS=1
tap_is "systemd mode, poweroff asked: a success stopped on the way to switch_root: returns" \
	"returned" "$(joined "$R/log")"
stoppost "$NOASK" SERVICE_RESULT=signal EXIT_CODE=killed EXIT_STATUS=KILL
tap_is "systemd mode, not asked: killed: returns (the prompt, as before)" "returned" "$(joined "$R/log")"
echo "rd.coco.on-failure=poweroff" >"$R/etc/cmdline.d/90-coco.conf"
stoppost "$NOASK" SERVICE_RESULT=signal EXIT_CODE=killed EXIT_STATUS=KILL
tap_is "systemd mode, poweroff in /etc/cmdline.d: killed: powers off" "poweroff -f -f" "$(joined "$R/log")"
rm "$R/etc/cmdline.d/90-coco.conf"

tap_done
