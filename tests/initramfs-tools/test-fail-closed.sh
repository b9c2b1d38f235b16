#!/usr/bin/env bash
# coco-unlock-fail-closed, the helper every generator's scripts run after
# coco-unlock (initramfs-tools/scripts/coco-unlock/fail-closed, and its
# copies for dracut and mkinitcpio): with rd.coco.on-failure=poweroff (or
# crypttab x-coco.on-failure=poweroff) it powers off when coco-unlock
# ended without applying that itself (a signal, exit 2, not run at all),
# and nowhere else. It runs under BusyBox in a fake image (chroot): a
# recording poweroff, no /proc (a file plays /proc/cmdline), no real
# poweroff, halt or reboot anywhere in it.
# Shell code in single quotes runs in another shell, on purpose.
# shellcheck disable=SC2016
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/lib/tap.sh"
. "$TOP/tests/initramfs-tools/lib.sh"

FC=$IT_DIR/scripts/coco-unlock/fail-closed
T=$(mktemp -d "${TMPDIR:-/tmp}/coco-fail-closed.XXXXXX")
BG=
trap '[ -z "$BG" ] || kill -KILL -- "-$BG" 2>/dev/null; rm -rf "$T"' EXIT

tap_check "sh syntax" sh -n "$FC"
tap_check "executable" test -x "$FC"
for copy in dracut-module/91coco-unlock/coco-unlock-fail-closed.sh \
	mkinitcpio-hook/coco-unlock/coco-unlock-fail-closed; do
	tap_check "$copy is the same file" cmp -s "$FC" "$TOP/$copy"
done

R=$T/root
if ! it_busybox_root "$R" || ! it_chroot_probe "$R"; then
	tap_skip "helper runs" "no static BusyBox or no chroot here (scripts/install-deps.sh test; root or user namespaces)"
	tap_done
	exit
fi
mkdir -p "$R/proc" "$R/etc"
cp "$FC" "$R/fail-closed"
it_poweroff_stub "$R"
ASK="root=/dev/mapper/root rd.coco.on-failure=poweroff quiet"
NOASK="root=/dev/mapper/root quiet"

# run CMDLINE SCRIPT [VAR=VALUE...]: SCRIPT in the fake image, with
# CMDLINE as /proc/cmdline, in a session of its own (the poweroff
# stand-in ends it); calls to $R/log, output to $T/out.
run() {
	local cmdline=$1 script=$2
	shift 2
	echo "$cmdline" >"$R/proc/cmdline"
	: >"$R/log"
	rm -f "$R/dev/kmsg" "$R/proc/sysrq-trigger"
	# A helper that never powers off must fail the check, not hang it.
	# shellcheck disable=SC2086 # IT_CHROOT is a command and its options
	(env -i PATH=/sbin:/usr/sbin:/bin:/usr/bin IT_SETSID=1 "$@" \
		timeout -s KILL 20 setsid -w $IT_CHROOT "$R" /bin/sh -c "$script" >"$T/out" 2>&1
	:) 2>/dev/null # bash's "Killed" line about a powered-off run: not ours to show
}
AFTER='; echo "returned=$?" >>/log'

# --- the status ----------------------------------------------------------------
for st in 0 1 3 4; do
	run "$ASK" "/fail-closed $st /etc/crypttab$AFTER"
	tap_is "asked, status $st (coco-unlock's own verdict): returns 0" "returned=0" "$(joined "$R/log")"
done
for st in 2 126 127 128 134 137 139 143 255 5; do
	run "$ASK" "/fail-closed $st /etc/crypttab$AFTER"
	tap_is "asked, status $st: powers off" "poweroff -f" "$(joined "$R/log")"
done
tap_check "asked: said on the console" grep -q '^coco-unlock: exit status 5, before it could apply on-failure=poweroff: powering off' "$T/out"
run "$ASK" "/fail-closed 137 /etc/crypttab$AFTER"
tap_check "asked, 137: said as signal 9, in the kernel log too" \
	grep -qx '<2>coco-unlock: killed by signal 9, before it could apply on-failure=poweroff: powering off' "$R/dev/kmsg"
for st in 2 137; do
	run "$NOASK" "/fail-closed $st /etc/crypttab$AFTER"
	tap_is "not asked, status $st: returns 0 (the prompt, as before)" "returned=0" "$(joined "$R/log")"
	tap_empty "not asked, status $st: nothing said" "$R/log" "$(cat "$T/out")"
done

# --- never on the build host ----------------------------------------------------
# mkinitramfs runs each file of a scripts/ subdirectory with "prereqs"
# (cache_run_scripts) on the build host, whose own command line may well
# ask for poweroff.
run "$ASK" "/fail-closed prereqs$AFTER"
tap_is "prereqs: returns 0" "returned=0" "$(joined "$R/log")"
tap_empty "prereqs: lists nothing" "$R/log" "$(cat "$T/out")"
for a in "" "foo /etc/crypttab" "-1 /etc/crypttab" "--wipe-only"; do
	run "$ASK" "/fail-closed $a$AFTER"
	tap_is "not a status ('$a'): returns 0" "returned=0" "$(joined "$R/log")"
done

# --- the owner's word --------------------------------------------------------------
echo "$ASK" >"$R/etc/ask"
echo "$NOASK rd.coco.on-failure=prompt" >"$R/etc/prompt"
run "$NOASK" "/fail-closed 137 /etc/crypttab /etc/ask /etc/prompt$AFTER"
tap_is "several command lines: the last word wins (prompt)" "returned=0" "$(joined "$R/log")"
run "$NOASK" "/fail-closed 137 /etc/crypttab /etc/prompt /etc/missing /etc/ask$AFTER"
tap_is "several command lines: the last word wins (poweroff), a missing file skipped" \
	"poweroff -f" "$(joined "$R/log")"
run "$ASK" "/fail-closed 137 /etc/crypttab /etc/prompt$AFTER"
tap_is "command line files given: /proc/cmdline is not read" "returned=0" "$(joined "$R/log")"
printf 'data /dev/vdb none luks,x-coco.on-failure=poweroff' >"$R/etc/crypttab"
run "$NOASK" "/fail-closed 137 /etc/crypttab$AFTER"
tap_is "crypttab (no final newline): x-coco.on-failure=poweroff asks" "poweroff -f" "$(joined "$R/log")"
printf 'data /dev/vdb none x-coco.on-failure=poweroff\n' >"$R/etc/crypttab"
run "$NOASK" "/fail-closed 137 /etc/crypttab$AFTER"
tap_is "crypttab: the option alone asks" "poweroff -f" "$(joined "$R/log")"
printf 'data /dev/vdb none luks,x-coco.on-failure=prompt\n' >"$R/etc/crypttab"
run "$ASK" "/fail-closed 137 /etc/crypttab$AFTER"
tap_is "crypttab prompt for one volume: the command line still asks" "poweroff -f" "$(joined "$R/log")"
run "$NOASK" "/fail-closed 137 /etc/crypttab$AFTER"
tap_is "crypttab prompt and nothing else: returns 0" "returned=0" "$(joined "$R/log")"
rm -f "$R/etc/crypttab"

# --- ExecStopPost= (systemd) -------------------------------------------------------
# systemd passes the main process's end in SERVICE_RESULT, EXIT_CODE and
# EXIT_STATUS (systemd.exec(5)), also when a run that succeeded is stopped.
S="/fail-closed --systemd /etc/crypttab /proc/cmdline$AFTER"
for env in "SERVICE_RESULT=signal EXIT_CODE=killed EXIT_STATUS=KILL" \
	"SERVICE_RESULT=core-dump EXIT_CODE=dumped EXIT_STATUS=SEGV" \
	"SERVICE_RESULT=timeout EXIT_CODE=killed EXIT_STATUS=TERM" \
	"SERVICE_RESULT=oom-kill EXIT_CODE=killed EXIT_STATUS=KILL" \
	"SERVICE_RESULT=exit-code EXIT_CODE=exited EXIT_STATUS=2" \
	"SERVICE_RESULT=exit-code EXIT_CODE=exited EXIT_STATUS=203" \
	"SERVICE_RESULT=resources"; do
	# shellcheck disable=SC2086 # the words are VAR=VALUE arguments
	run "$ASK" "$S" $env
	tap_is "systemd, asked, $env: powers off" "poweroff -f -f" "$(joined "$R/log")"
done
tap_check "systemd: said, with systemd's words" \
	grep -q '^coco-unlock: ended by never-ran (resources), before it could apply on-failure=poweroff: powering off' "$T/out"
tap_check "systemd: not to /dev/kmsg (the journal has stderr)" test ! -e "$R/dev/kmsg"
for env in "SERVICE_RESULT=success EXIT_CODE=exited EXIT_STATUS=0" "SERVICE_RESULT=success" \
	"SERVICE_RESULT=success EXIT_CODE=exited EXIT_STATUS=3" \
	"SERVICE_RESULT=exit-code EXIT_CODE=exited EXIT_STATUS=4"; do
	# shellcheck disable=SC2086
	run "$ASK" "$S" $env
	tap_is "systemd, asked, $env: returns 0" "returned=0" "$(joined "$R/log")"
done
run "$NOASK" "$S" SERVICE_RESULT=signal EXIT_CODE=killed EXIT_STATUS=KILL
tap_is "systemd, not asked, killed: returns 0" "returned=0" "$(joined "$R/log")"

# A systemd image without systemd-sysv's poweroff links (an image built on
# a minimal root, as CI's): systemctl's own forced power-off.
mv "$R/sbin/poweroff" "$T/poweroff.stub"
mkdir -p "$R/usr/bin"
cat >"$R/usr/bin/systemctl" <<'STUB'
#!/bin/sh
echo "systemctl $*" >>/log
kill -KILL 0
STUB
chmod 0755 "$R/usr/bin/systemctl"
run "$ASK" "$S" SERVICE_RESULT=signal EXIT_CODE=killed EXIT_STATUS=KILL
tap_is "systemd, no poweroff link: systemctl poweroff --force --force" \
	"systemctl poweroff --force --force" "$(joined "$R/log")"
rm "$R/usr/bin/systemctl"
mv "$T/poweroff.stub" "$R/sbin/poweroff"

# --- no poweroff program, or one that fails: the kernel's, then never on ---------
rm "$R/sbin/poweroff"
echo "$ASK" >"$R/proc/cmdline"
: >"$R/log"
# shellcheck disable=SC2086
env -i PATH=/sbin:/usr/sbin:/bin:/usr/bin setsid $IT_CHROOT "$R" /bin/sh -c "/fail-closed 137 /etc/crypttab$AFTER" \
	>"$T/out" 2>&1 &
BG=$!
for _ in $(seq 50); do
	[ -s "$R/proc/sysrq-trigger" ] && break
	sleep 0.1
done
tap_is "no poweroff program: sysrq o" "o" "$(cat "$R/proc/sysrq-trigger" 2>/dev/null)"
sleep 1
tap_check "no poweroff program: then waits forever" kill -0 "$BG"
kill -KILL -- "-$BG" 2>/dev/null
wait "$BG" 2>/dev/null
BG=
tap_empty "no poweroff program: never returns" "$R/proc/sysrq-trigger" "$(cat "$R/log")"

tap_done
