#!/usr/bin/env bash
# The dracut boot-time figures (issues 5 and 14), not a test: in dracut's
# systemd mode (the default; the image tests/dracut/test-systemd.sh boots),
# the time from kernel start to switch_root with coco-unlock opening the
# root, against the same image options minus coco-unlock plus the root's
# key file, opened by systemd-cryptsetup through rd.luks.key. The images
# differ only by coco-unlock (its dracut module: binary, unit, hooks)
# and the key file; both boots get the same secret table and command line
# but for rd.luks.key.
#
# Both variants are booted ROUNDS times, interleaved (coco, keyfile, coco,
# ...). Printed: each boot's time and its events, the medians, the ratio
# coco/keyfile (target <= 1.05), both image sizes, and the median of each
# phase of the boot for both (where the time goes).
#
# The marker: the real root's /sbin/init (the dracut fixture's wrapper,
# tests/dracut/lib.sh) reads /proc/uptime as its first action and prints
# "ROOT-UPTIME <s>". The kernel's uptime starts at kernel start, and the
# figure is read inside the guest right after systemd's switch-root has
# exec'd the new init, so neither the serial console's latency nor the
# host's view of QEMU (firmware, injector, reading the ESP) is in it.
# systemd's "Switching root." is printed too (below), but it comes before
# switch-root's own work (moving the mounts, freeing the initramfs, the
# exec), which belongs to "to switch_root". Resolution: 10 ms.
#
# The clock: the host is shared (other guests and builds on 2 cores), and
# under plain TCG the guest's clock is the host's, so a busy spell of the
# host lengthens whichever boot it hits: boots of one image spread from 11
# to 20 s. By default the guest runs with QEMU's -icount shift=1,sleep=on:
# while the vCPU works, guest time is its instruction count (2 ns each),
# whatever else the host does; while it idles (I/O), host time. The same
# boot then repeats within 0.1 s, so 3 rounds are enough, at about 35 s of
# host time per boot instead of 15. DRACUT_BENCH_CLOCK=wall boots without
# -icount (host time; use more ROUNDS). sleep=off would be wrong here:
# an idle vCPU's clock jumps to the next timer, seconds at a time, during
# a disk read.
#
# Where the time goes: the boots also carry systemd.log_target=kmsg (both
# variants alike), so PID 1's "Starting/Finished <unit>" lines reach the
# console with printk times: /init, udev's coldplug, coco-unlock.service,
# systemd-cryptsetup@, /sysroot, dracut-pre-pivot.service, "Switching
# root.". Add rd.coco.debug loglevel=8 (BENCH_CMDLINE) for coco-unlock's
# own steps.
#
# Shell mode (--omit systemd), the figures of issue 5: SHELL_ROUNDS
# (default 0: another two boots a round).
#
#   TOP=... BUILD=... [CACHE=...] tests/dracut/bench-dracut.sh [ROUNDS]
# ROUNDS defaults to 3 (6 boots, about 4 minutes on a quiet host).
# The images get the static build ($BUILD/static/coco-unlock.stripped),
# as every initramfs does. Skips with one line when dracut, systemd's
# initrd pieces, the static build, the injector or the test kernel are
# missing (make static boot-prereqs; scripts/install-deps.sh dracut).
set -u
: "${TOP:?}" "${BUILD:?}"
ROUNDS=${1:-${ROUNDS:-3}}
SHELL_ROUNDS=${SHELL_ROUNDS:-0}
BENCH_CMDLINE=${BENCH_CMDLINE:-}
COCO_UNLOCK=$BUILD/static/coco-unlock.stripped

skip() {
	echo "bench-dracut: skipped: $*"
	exit 0
}
echo "== dracut boot time (QEMU TCG): coco-unlock against an rd.luks.key key file"
for f in /usr/lib/systemd/systemd /usr/lib/systemd/systemd-cryptsetup /usr/sbin/dmsetup /usr/sbin/cryptsetup; do
	[ -x "$f" ] || skip "no $f (scripts/install-deps.sh dracut)"
done
[ -x /usr/lib/dracut/dracut.sh ] || command -v dracut >/dev/null || skip "no dracut (scripts/install-deps.sh dracut)"
[ -x "$COCO_UNLOCK" ] || skip "no $COCO_UNLOCK (make static)"
[ -f "${INJECTOR:-$BUILD/coco-inject.efi}" ] || skip "no ${INJECTOR:-$BUILD/coco-inject.efi} (make boot-prereqs)"
ls "${CACHE:-$HOME/.cache/coco-unlock}"/kernel-*/done >/dev/null 2>&1 ||
	skip "no test kernel in ${CACHE:-$HOME/.cache/coco-unlock} (make boot-prereqs)"

. "$TOP/tests/lib/tap.sh"
. "$TOP/tests/dracut/lib.sh"
# A boot takes 15-70 s of host time; one that hangs (a prompt) is a failure.
BOOT_TIMEOUT=${BENCH_BOOT_TIMEOUT:-300}
case ${DRACUT_BENCH_CLOCK:-icount} in
icount)
	BOOT_QEMU_ARGS="${BOOT_QEMU_ARGS:+$BOOT_QEMU_ARGS }-icount shift=1,sleep=on"
	CLOCK="guest instructions (QEMU -icount shift=1,sleep=on)"
	;;
wall) CLOCK="host time (plain TCG)" ;;
*)
	echo "bench-dracut: DRACUT_BENCH_CLOCK is icount or wall"
	exit 2
	;;
esac

# dracut_test_start prints TAP on failure: not a test, so quietly.
dracut_test_start bench >/dev/null || { echo "bench-dracut: fixtures failed"; exit 1; }
TABLE=$DRACUT_RUNS/bench/table.bin
secret_table "$TABLE" "$GUID_DISK=$FIX/root.key" || exit 1
KEYFILE=/etc/coco-test-root.key

# The images. The coco one is test-systemd.sh's (same name and options:
# built once for both). In a no-hostonly build dracut takes every module
# whose check() says yes, coco-unlock included: the baseline omits it by
# name and carries the root's key file.
dracut_image systemd-coco --no-hostonly --add coco-unlock || exit 1
SD_COCO=$IMAGE
dracut_image systemd-keyfile --no-hostonly --omit coco-unlock --include "$FIX/root.key" "$KEYFILE" || exit 1
SD_KEY=$IMAGE
if lsinitrd "$SD_KEY" 2>/dev/null | grep -qE ' usr/sbin/coco-unlock$|/coco-unlock\.service$'; then
	echo "bench-dracut: the baseline image has coco-unlock in it"
	exit 1
fi
SHELL_MODE=(--no-hostonly --omit "systemd systemd-initrd dracut-systemd")
if [ "$SHELL_ROUNDS" -gt 0 ]; then
	dracut_image shell-coco "${SHELL_MODE[@]}" --add coco-unlock || exit 1
	SH_COCO=$IMAGE
	dracut_image shell-baseline "${SHELL_MODE[@]}" --omit coco-unlock --include "$FIX/root.key" "$KEYFILE" ||
		exit 1
	SH_KEY=$IMAGE
fi

ROOT_ARGS="root=/dev/mapper/$ROOT_MAPPER rd.luks.uuid=$ROOT_UUID"
# systemd-cryptsetup-generator's rd.luks.key: a path in the initrd (a
# ":DEV" would name a device to mount). dracut's shell-mode parser wants
# the ":/" of the root of the initrd.
SD_KEY_ARG="rd.luks.key=$KEYFILE"
SH_KEY_ARG="rd.luks.key=$KEYFILE:/"
SD_TRACE="systemd.log_target=kmsg${BENCH_CMDLINE:+ $BENCH_CMDLINE}"

# bench_boot NAME IMAGE CMDLINE OK_ERE: one boot; sets T to its ROOT-UPTIME
# figure (empty when the boot failed or OK_ERE is not in its log).
bench_boot() {
	local name=$1 ok=$4
	T=
	RUN=$DRACUT_RUNS/bench-$name
	rm -rf "$RUN"
	mkdir -p "$RUN"
	INITRD=$2
	boot_scenario "$name" "$DRACUT_CMDLINE_BASE $3" "$TABLE" "$DFIX/root.img" >/dev/null 2>&1 || return 0
	if grep -aqF -- "$(cat "$FIX/root.key")" "$RUN/serial.txt"; then
		echo "bench-dracut: $name: the key appeared on the console!" >&2
		exit 1
	fi
	grep -aqE -- "$ok" "$RUN/serial.txt" || return 0
	grep -aqE '^ROOT-OK root$' "$RUN/serial.txt" || return 0
	T=$(grep -aoE '^ROOT-UPTIME [0-9.]+' "$RUN/serial.txt" | head -n 1 | cut -d' ' -f2)
}

# events: from the last boot's console (systemd.log_target=kmsg), the
# printk times of the steps that matter, as NAME=SECONDS words: /init
# runs, udev's coldplug done, coco-unlock.service and systemd-cryptsetup@
# start and end, /sysroot mounted, dracut-pre-pivot.service start and end
# (absent: skipped, no pre-pivot hook), "Switching root.", and the root's
# ROOT-UPTIME.
events() {
	awk '
	function t() { if (match($0, /^\[ *[0-9]+\.[0-9]+\]/)) { s = substr($0, 2, RLENGTH - 2); gsub(/ /, "", s); return s } return "" }
	function ev(k) { if (!(k in seen)) { seen[k] = 1; printf "%s=%.2f ", k, t() } }
	/Run \/init as init process/ { ev("init") }
	/systemd\[1\]: Finished systemd-udev-trigger\.service/ { ev("coldplug") }
	/systemd\[1\]: Starting coco-unlock\.service/ { ev("coco_s") }
	/systemd\[1\]: Finished coco-unlock\.service/ { ev("coco_e") }
	/systemd\[1\]: Starting systemd-cryptsetup@/ { ev("crypt_s") }
	/systemd\[1\]: Finished systemd-cryptsetup@/ { ev("crypt_e") }
	/systemd\[1\]: Mounted sysroot\.mount/ { ev("sysroot") }
	/systemd\[1\]: Starting dracut-pre-pivot\.service/ { ev("pivot_s") }
	/systemd\[1\]: Finished dracut-pre-pivot\.service/ { ev("pivot_e") }
	/systemd\[1\]: Switching root\./ { ev("switch") }
	/^ROOT-UPTIME / && !("root" in seen) { seen["root"] = 1; printf "root=%s ", $2 }
	' "$RUN/serial.txt"
}

# The phases of a boot, as NAME=FROM-TO over the events (FROM 0: kernel
# start). A missing event leaves its phase out.
PHASES="kernel-to-/init=0-init /init-to-coldplug-done=init-coldplug coldplug-to-root-opened=coldplug-crypt_e
root-opened-to-sysroot-mounted=crypt_e-sysroot sysroot-to-switching-root=sysroot-switch
switching-root-to-root-init=switch-root coco-unlock.service=coco_s-coco_e systemd-cryptsetup@=crypt_s-crypt_e
dracut-pre-pivot.service=pivot_s-pivot_e"

# phase_values EVENTS-FILE NAME=FROM-TO: the phase's length in each boot.
phase_values() {
	local spec=${2#*=}
	awk -v from="${spec%-*}" -v to="${spec#*-}" '{
		delete e; e["0"] = 0
		for (i = 1; i <= NF; i++) { split($i, kv, "="); e[kv[1]] = kv[2] }
		if ((from in e) && (to in e)) printf "%.3f\n", e[to] - e[from]
		else if (to ~ /^pivot/) print 0
	}' "$1"
}

# breakdown MODE: the median of each phase for both variants, and the
# difference coco - keyfile.
breakdown() {
	local p name c k
	echo "$1: where the time goes (median seconds per phase; printk times, systemd.log_target=kmsg):"
	printf '  %-32s %9s %9s %9s\n' phase coco keyfile coco-key
	for p in $PHASES; do
		name=${p%%=*}
		# shellcheck disable=SC2046 # one word per boot
		c=$(median $(phase_values "$DRACUT_RUNS/bench-$1-coco.events" "$p"))
		# shellcheck disable=SC2046
		k=$(median $(phase_values "$DRACUT_RUNS/bench-$1-keyfile.events" "$p"))
		printf '  %-32s %9s %9s %9s\n' "$name" "$c" "$k" \
			"$(awk -v a="$c" -v b="$k" 'BEGIN { if (a == "?" || b == "?") print "?"; else printf "%+.2f", a - b }')"
	done
	echo "  (dracut-pre-pivot.service 0: skipped, no pre-pivot hook; the phases overlap, they do not add up)"
}

# median VALUE...: the median (the mean of the middle two for an even count).
median() {
	[ $# -gt 0 ] || { echo "?"; return; }
	printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END {
		if (NR == 0) { print "?"; exit }
		if (NR % 2) printf "%.2f\n", v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "?" || b == "?" || b == 0) print "?"; else printf "%.3f\n", a / b }'; }

# record MODE VARIANT ROUND: prints the last boot's figure (and, in systemd
# mode, its events), adds it to COCO_T or KEY_T.
record() {
	local ev=
	[ -n "$T" ] && [ "$1" = systemd ] && ev=$(events)
	printf '%s round %s: %-8s %6s s  %s\n' "$1" "$3" "$2" "${T:-FAILED}" "$ev"
	if [ -z "$T" ]; then
		FAILED=$((FAILED + 1))
		return
	fi
	[ -n "$ev" ] && echo "$ev" >>"$DRACUT_RUNS/bench-$1-$2.events"
	if [ "$2" = coco ]; then COCO_T+=("$T"); else KEY_T+=("$T"); fi
}

# rounds MODE N COCO_IMG KEY_IMG COCO_EXTRA KEY_EXTRA: N interleaved pairs;
# sets COCO_T and KEY_T (arrays of figures) and FAILED.
rounds() {
	local mode=$1 n=$2 i
	COCO_T=() KEY_T=() FAILED=0
	: >"$DRACUT_RUNS/bench-$mode-coco.events"
	: >"$DRACUT_RUNS/bench-$mode-keyfile.events"
	for i in $(seq "$n"); do
		bench_boot "$mode-coco-$i" "$3" "$ROOT_ARGS $5" "coco-unlock: $ROOT_MAPPER: unlocked "
		record "$mode" coco "$i"
		bench_boot "$mode-keyfile-$i" "$4" "$ROOT_ARGS $6" '^ROOT-OK root$'
		record "$mode" keyfile "$i"
	done
}

report() {
	local mode=$1 mc mk
	mc=$(median "${COCO_T[@]}")
	mk=$(median "${KEY_T[@]}")
	echo "$mode: kernel start to switch_root, median of ${#COCO_T[@]} and ${#KEY_T[@]} boots:" \
		"coco-unlock $mc s, rd.luks.key $mk s, ratio coco/keyfile $(ratio "$mc" "$mk") (target <= 1.05)"
	[ "$FAILED" = 0 ] || echo "$mode: $FAILED boot(s) failed (logs: $DRACUT_RUNS/bench-$mode-*)"
}

echo "clock: $CLOCK; rounds: $ROUNDS"
echo "images (gzip): systemd mode with coco-unlock $(stat -c %s "$SD_COCO") bytes," \
	"with the key file instead $(stat -c %s "$SD_KEY") bytes; coco-unlock (static, stripped) $(stat -c %s "$COCO_UNLOCK") bytes"
rounds systemd "$ROUNDS" "$SD_COCO" "$SD_KEY" "$SD_TRACE" "$SD_TRACE $SD_KEY_ARG"
report systemd
breakdown systemd
fail=$FAILED
[ "${#COCO_T[@]}" -gt 0 ] && [ "${#KEY_T[@]}" -gt 0 ] || fail=all
if [ "$SHELL_ROUNDS" -gt 0 ]; then
	echo "images (gzip): shell mode with coco-unlock $(stat -c %s "$SH_COCO") bytes," \
		"with the key file instead $(stat -c %s "$SH_KEY") bytes"
	rounds shell "$SHELL_ROUNDS" "$SH_COCO" "$SH_KEY" "" "$SH_KEY_ARG"
	report shell
fi
[ "$fail" != all ] || { echo "bench-dracut: no figure for one of the systemd variants"; exit 1; }
exit 0
