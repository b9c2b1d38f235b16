#!/usr/bin/env bash
# Figures from QEMU guest boots (not pass/fail): how soon coco-unlock
# opens a disk hot-plugged while it waits. Each boot is the hot-plug
# case of tests/boot/test-faults.sh (boot_hotplug in tests/boot/lib.sh:
# the root disk plugged with QMP device_add into a PCIe root port 2 s
# into the wait); from the kernel's timestamps on the console it takes
# the time from virtio_blk's line for the new disk to coco-unlock's first
# line after it (the pick-up) and to its "unlocked" line, in ms.
#
# The binary is the static build (what the boot tests put into the
# initramfs), or BENCH_COCO_UNLOCK. With BENCH_BASELINE=another binary
# (a build of an older tree, say), both run, alternating, and the ratio
# is printed. BENCH_HOTPLUG_RUNS boots each (default 3). The guest runs
# under TCG (no KVM here): the times are emulated, good for comparing
# builds with each other. Environment as for the boot tests (TOP, BUILD,
# CACHE); skips with a message when something it needs is missing.
set -u
: "${TOP:?}" "${BUILD:?}"
THIS=${BENCH_COCO_UNLOCK:-$BUILD/static/coco-unlock.stripped}
BASELINE=${BENCH_BASELINE:-}
RUNS=${BENCH_HOTPLUG_RUNS:-3}
COCO_UNLOCK=$THIS
. "$TOP/tests/boot/lib.sh"

echo "== a disk hot-plugged while coco-unlock waits (QEMU TCG, kernel time)"
bench_ready bench-hotplug "$THIS" ${BASELINE:+"$BASELINE"} "$INJECTOR" || exit 0
boot_kernel && boot_disks || exit 1

ms() { # T0 T1 (s): T1 - T0 in ms, or "?"
	if [ -n "$1" ] && [ -n "$2" ]; then
		awk -v a="$1" -v b="$2" 'BEGIN { printf "%d", (b - a) * 1000 }'
	else
		echo "?"
	fi
}

# one LABEL BINARY N: boot N with BINARY in the initramfs; appends the
# figures to $BENCH_DIR/LABEL.
one() {
	local label=$1 n=$3
	COCO_UNLOCK=$2
	boot_initramfs || return 1
	RUN=$BENCH_DIR/$label-$n
	rm -rf "$RUN"
	mkdir -p "$RUN"
	secret_table "$RUN/table.bin" "$GUID_DISK=$FIX/root.key" || return 1
	cp --sparse=always "$FIX/root.img" "$RUN/hotplug.img"
	boot_hotplug "$RUN/hotplug.img" "rd.luks.uuid=$ROOT_UUID cocotest.root=luks-$ROOT_UUID cocotest.guids=$GUID_DISK rd.coco.timeout=40 ${BENCH_HOTPLUG_CMDLINE:-}" \
		"$RUN/table.bin" 2
	rm -f "$RUN/hotplug.img"
	if grep -aqF -- "$(cat "$FIX/root.key")" "$RUN/serial.txt"; then
		echo "bench-hotplug: the secret appeared on the console!"
		exit 1
	fi
	hotplug_times
	if [ "$HOTPLUG_PLUGGED" != 1 ] || [ -z "$HOTPLUG_UNLOCKED_AT" ]; then
		echo "bench-hotplug: $label run $n: not plugged or not unlocked (status $HOTPLUG_RC, log $RUN/serial.txt)"
		return 0
	fi
	echo "$(ms "$HOTPLUG_SEEN_AT" "$HOTPLUG_PICKED_AT") $(ms "$HOTPLUG_SEEN_AT" "$HOTPLUG_UNLOCKED_AT")" \
		>>"$BENCH_DIR/$label"
}

BENCH_DIR=$BOOT_WORK/runs/bench-hotplug
rm -rf "$BENCH_DIR"
mkdir -p "$BENCH_DIR"
labels=(this)
[ -n "$BASELINE" ] && labels+=(baseline)
for n in $(seq "$RUNS"); do
	one this "$THIS" "$n" || exit 1
	[ -n "$BASELINE" ] && { one baseline "$BASELINE" "$n" || exit 1; }
done

# column FILE K: the K-th figure of each run, and their mean.
column() {
	awk -v k="$2" '{ v = v sep $k; sep = " "; if ($k != "?") { s += $k; n++ } }
		END { printf "%s|%s", v, n ? sprintf("%.0f", s / n) : "?" }' "$1" 2>/dev/null
}
printf '%-10s %-44s %-24s %s\n' build binary "runs, ms" "mean"
for label in "${labels[@]}"; do
	bin=$THIS
	[ "$label" = baseline ] && bin=$BASELINE
	for k in 1 2; do
		what="virtio_blk -> picked up"
		[ "$k" = 2 ] && what="virtio_blk -> unlocked"
		c=$(column "$BENCH_DIR/$label" "$k")
		printf '%-10s %-44s %-24s %s\n' "$label" "$what" "${c%|*}" "${c#*|}"
		eval "mean_${label}_$k=\${c#*|}"
	done
	echo "           ($bin, $(sha256sum <"$bin" | cut -c1-12))"
done
if [ -n "$BASELINE" ]; then
	# shellcheck disable=SC2154 # set by the eval above
	awk -v a="$mean_this_2" -v b="$mean_baseline_2" 'BEGIN {
		if (a + 0 > 0 && b + 0 > 0) printf "virtio_blk -> unlocked, this / baseline: %.2fx (%+d ms)\n", a / b, a - b }'
	# shellcheck disable=SC2154
	awk -v a="$mean_this_1" -v b="$mean_baseline_1" 'BEGIN {
		if (a != "?" && b != "?") printf "virtio_blk -> picked up, this - baseline: %+d ms\n", a - b }'
fi
echo "(pick-up: coco-unlock's first console line after virtio_blk's; kernel printk times)"
