#!/usr/bin/env bash
# The dracut figures (issue 5), not a test: boots the shell-mode image with
# coco-unlock and the baseline (same options, --omit coco-unlock, the same
# root opened by dracut's rd.luks.key) ROUNDS times each, interleaved, and
# prints the kernel-start-to-real-root time (the root's /proc/uptime when
# its init starts) of each boot, and the image sizes.
#   TOP=... BUILD=... COCO_UNLOCK=... tests/dracut/bench-dracut.sh [ROUNDS]
set -u
. "$TOP/tests/lib/tap.sh"
. "$TOP/tests/dracut/lib.sh"

ROUNDS=${1:-3}
SHELL_MODE=(--no-hostonly --omit "systemd systemd-initrd dracut-systemd")
dracut_test_start bench
dracut_image shell-coco "${SHELL_MODE[@]}" --add coco-unlock || exit 1
COCO_IMG=$IMAGE
dracut_image shell-baseline "${SHELL_MODE[@]}" --omit coco-unlock --include "$FIX/root.key" /etc/coco-test-root.key || exit 1
BASE_IMG=$IMAGE
secret_table "$RUN/table.bin" "$GUID_DISK=$FIX/root.key"
uptime_of() { grep -aoE '^ROOT-UPTIME [0-9.]+' "$RUN/serial.txt" | cut -d' ' -f2; }
coco=() base=()
for i in $(seq "$ROUNDS"); do
	INITRD=$COCO_IMG
	boot_scenario "coco-$i" "$DRACUT_CMDLINE_BASE root=/dev/mapper/$ROOT_MAPPER rd.luks.uuid=$ROOT_UUID" \
		"$RUN/table.bin" "$DFIX/root.img" >/dev/null 2>&1 || true
	coco+=("$(uptime_of)")
	INITRD=$BASE_IMG
	boot_scenario "base-$i" "$DRACUT_CMDLINE_BASE root=/dev/mapper/$ROOT_MAPPER rd.luks.uuid=$ROOT_UUID rd.luks.key=/etc/coco-test-root.key:/" \
		- "$DFIX/root.img" >/dev/null 2>&1 || true
	base+=("$(uptime_of)")
done
echo "image bytes (shell mode, gzip): with coco-unlock $(stat -c %s "$COCO_IMG"), without $(stat -c %s "$BASE_IMG")"
echo "kernel start to the real root's init, s: coco-unlock ${coco[*]}; rd.luks.key ${base[*]}"
