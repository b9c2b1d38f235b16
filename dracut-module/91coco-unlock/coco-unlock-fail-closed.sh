#!/bin/sh
# coco-unlock-fail-closed STATUS CRYPTTAB [CMDLINE...]
# coco-unlock-fail-closed --systemd CRYPTTAB [CMDLINE...]
#
# Run after coco-unlock in the initramfs. When the guest owner asked to
# fail closed (rd.coco.on-failure=poweroff on the kernel command line, or
# x-coco.on-failure=poweroff in CRYPTTAB) and coco-unlock ended without a
# verdict of its own, power the guest off instead of letting the
# passphrase prompt come on a console the host sees. Otherwise exit 0 and
# the boot goes on as before.
#
# coco-unlock applies on-failure itself, and powers off, before it exits
# with 0, 1, 3 or 4. What never got that far: a signal (the OOM killer
# after the host inflates a balloon, SIGKILL, a crash), 2 (a configuration
# error: nothing opened, nothing decided), a program that could not run.
# A killed process cannot answer, hence this separate script, in POSIX sh
# for every initramfs shell. STATUS is coco-unlock's $? (128+N: signal
# N); with --systemd (ExecStopPost=) it is read from $SERVICE_RESULT,
# $EXIT_CODE and $EXIT_STATUS. The CMDLINE files (default /proc/cmdline)
# are read as coco-unlock reads them: quotes group and are dropped, the
# last rd.coco.on-failure= wins.
#
# The same file is in each generator's directory of the source tree
# (initramfs-tools, dracut, mkinitcpio); the hooks tests check that.

# say MESSAGE: on the console and in the kernel log, hence the journal.
say() {
	echo "coco-unlock: $*" >&2
	[ -n "$systemd" ] || { echo "<2>coco-unlock: $*" >/dev/kmsg; } 2>/dev/null
}

# poweroff_asked CRYPTTAB CMDLINE...: the guest owner asked to fail closed.
poweroff_asked() {
	tab=$1
	shift
	[ $# -gt 0 ] || set -- /proc/cmdline
	want=
	set -f
	for f in "$@"; do
		[ -r "$f" ] || continue
		inq=
		while read -r line || [ -n "$line" ]; do
			for w in $line; do
				# A word that starts inside quotes belongs to the
				# parameter before it ("a b" is one value).
				skip=$inq
				t=$w
				while :; do
					case $t in *\"*) ;; *) break ;; esac
					t=${t#*\"}
					if [ -n "$inq" ]; then inq=; else inq=1; fi
				done
				[ -z "$skip" ] || continue
				while :; do
					case $w in *\"*) ;; *) break ;; esac
					w=${w%%\"*}${w#*\"}
				done
				case $w in
				rd.coco.on-failure=*) want=${w#rd.coco.on-failure=} ;;
				esac
			done
		done <"$f"
	done
	set +f
	[ "$want" = poweroff ] && return 0
	[ -r "$tab" ] || return 1
	while read -r name _ _ opts _ || [ -n "$name" ]; do
		case $name in '' | \#*) continue ;; esac
		case ",$opts," in *,x-coco.on-failure=poweroff,*) return 0 ;; esac
	done <"$tab"
	return 1
}

# The same as coco-unlock: reboot(RB_POWER_OFF) after a sync, which is
# what -f asks of BusyBox's and klibc's poweroff (without -f BusyBox's
# would signal PID 1, which initramfs-tools' /init dies of) and -f -f of
# systemd's (one -f still goes through PID 1's shutdown, which a boot
# under load showed never coming). Absolute paths: BusyBox sh would run
# its own applet for a bare name.
power_off() {
	for p in /usr/sbin/poweroff /sbin/poweroff /usr/bin/poweroff /bin/poweroff; do
		[ -x "$p" ] || continue
		if [ -n "$systemd" ]; then
			"$p" -f -f
		else
			"$p" -f
		fi
	done
	# A systemd image built on a root without systemd-sysv has no
	# poweroff link (CI's minimal Debian root: the helper said "powering
	# off" and the guest then sat in the loop below): systemctl itself,
	# which every systemd image has.
	if [ -n "$systemd" ]; then
		for p in /usr/bin/systemctl /bin/systemctl; do
			[ -x "$p" ] && "$p" poweroff --force --force
		done
	fi
	# No poweroff program (dracut's shell mode may have none), or it
	# failed: the kernel's own.
	{ echo o >/proc/sysrq-trigger; } 2>/dev/null
	# Never on to the prompt.
	while :; do
		sleep 60
	done
}

systemd=
case ${1-} in
prereqs)
	# mkinitramfs runs every file of a scripts/ subdirectory so, on the
	# build host, to order them (cache_run_scripts): none to list.
	exit 0
	;;
'' | *[!0-9]*)
	# Only coco-unlock's status, a number, ever powers off: a stray call
	# on a running system must not.
	[ "${1-}" = --systemd ] || {
		echo "usage: ${0##*/} STATUS|--systemd CRYPTTAB [CMDLINE...]" >&2
		exit 0
	}
	;;
esac
if [ "${1-}" = --systemd ]; then
	systemd=1
	shift
	# ExecStopPost= also runs when a successful run is stopped (on the
	# way to switch_root): nothing to decide then.
	[ "${SERVICE_RESULT-}" != success ] || exit 0
	case ${EXIT_CODE-} in
	exited) status=${EXIT_STATUS-} ;;
	'') status="never-ran" ;;
	*) status="$EXIT_CODE-${EXIT_STATUS-}" ;; # killed-KILL, dumped-SEGV
	esac
else
	status=${1-}
	[ $# -eq 0 ] || shift
fi

case $status in
0 | 1 | 3 | 4) exit 0 ;;
esac
poweroff_asked "$@" || exit 0

case $status in
2) why="a configuration error (exit status 2)" ;;
12[6-7]) why="coco-unlock could not run (exit status $status)" ;;
129 | 1[3-9][0-9] | 2[0-5][0-9]) why="killed by signal $((status - 128))" ;;
*[!0-9]* | '') why="ended by ${status:-an unknown cause}${SERVICE_RESULT:+ ($SERVICE_RESULT)}" ;;
*) why="exit status $status" ;;
esac
say "$why, before it could apply on-failure=poweroff: powering off"
power_off
