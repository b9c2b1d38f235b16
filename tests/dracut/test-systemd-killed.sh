#!/usr/bin/env bash
# dracut systemd mode, coco-unlock killed by SIGKILL (as the OOM killer
# would, after the host inflates a balloon) before it decides anything:
#   poweroff: with rd.coco.on-failure=poweroff, coco-unlock.service's
#             ExecStopPost= (coco-unlock-fail-closed) powers the guest off
#             before any systemd-cryptsetup@ unit asks for a passphrase:
#             what systemd runs after a killed ExecStart=, and when, only a
#             boot shows (tests/dracut/test-scripts.sh runs the same
#             command line on the host);
#   prompt:   without it, systemd's own prompt comes, as before (and shows
#             that the kill landed before coco-unlock could decide).
# The killer is a unit of its own in the image (dracut --include), started
# before coco-unlock.service: it watches /proc without pause, stops
# (SIGSTOP) coco-unlock as soon as it appears, then sends it SIGKILL and
# says KILLED-MID on the console. The root's secret is wrong: should the
# killer miss, coco-unlock's own power-off (another line) or the prompt
# would show it.
set -u
. "$TOP/tests/lib/tap.sh"
. "$TOP/tests/dracut/lib.sh"

OTHER=e6f5a162-d67f-4750-a67c-5d065f2a9910
PROMPT='Please enter passphrase for disk'
ROOT_ARGS="root=/dev/mapper/$ROOT_MAPPER rd.luks.uuid=$ROOT_UUID cocotest.guids=$GUID_DISK,$OTHER systemd.journald.forward_to_console=1"
SAID='coco-unlock: ended by killed-KILL \(signal\), before it could apply on-failure=poweroff: powering off'

dracut_test_start systemd-killed

# The killer's files, in a directory named by their content (the image
# cache keys on dracut's arguments).
K=$DRACUT_WORK/cocokill.new
rm -rf "$K"
mkdir -p "$K/usr/bin" "$K/usr/lib/systemd/system/sysinit.target.wants"
cat >"$K/usr/bin/cocokill" <<'EOF'
#!/bin/sh
# Test only: stop coco-unlock as soon as it runs, then SIGKILL it (shell
# builtins and sleep only). Gives up after about 2 minutes.
start=$(read -r up _ </proc/uptime; echo "${up%.*}")
while :; do
	for p in /proc/[0-9]*; do
		comm=
		read -r comm <"$p/comm" 2>/dev/null
		[ "$comm" = coco-unlock ] || continue
		kill -STOP "${p#/proc/}" 2>/dev/null || continue
		sleep 2
		kill -KILL "${p#/proc/}" && echo "KILLED-MID" >/dev/console
		exit 0
	done
	read -r up _ </proc/uptime
	[ "${up%.*}" -lt $((start + 120)) ] || exit 1
done
EOF
chmod 0755 "$K/usr/bin/cocokill"
cat >"$K/usr/lib/systemd/system/cocokill.service" <<'EOF'
[Unit]
Description=Test: SIGKILL to coco-unlock mid-run
DefaultDependencies=no
ConditionPathExists=/etc/initrd-release
Before=coco-unlock.service

[Service]
Type=simple
ExecStart=/usr/bin/cocokill
EOF
ln -s ../cocokill.service "$K/usr/lib/systemd/system/sysinit.target.wants/cocokill.service"
khash=$(cat "$K/usr/bin/cocokill" "$K/usr/lib/systemd/system/cocokill.service" | sha256sum | cut -c1-16)
KD=$DRACUT_WORK/cocokill-$khash
if [ -d "$KD" ]; then rm -rf "$K"; else mv "$K" "$KD"; fi

dracut_image systemd-killed --no-hostonly --add coco-unlock --include "$KD" / ||
	tap_not_ok "dracut builds the systemd-mode image with the killer"
IMG=$IMAGE
lsinitrd "$IMG" >"$RUN/image.list" 2>/dev/null
tap_check "the image has the fail-closed helper" grep -q ' usr/sbin/coco-unlock-fail-closed$' "$RUN/image.list"
tap_check "the image has the killer" grep -q 'cocokill.service$' "$RUN/image.list"

# --- poweroff: the owner asked ------------------------------------------------------
RUN=$DRACUT_RUNS/systemd-killed-poweroff; rm -rf "$RUN"; mkdir -p "$RUN"
secret_table "$RUN/table.bin" "$GUID_DISK=$FIX/wrong.key" "$OTHER=$FIX/other.key"
# shellcheck disable=SC2034 # esp_image puts INITRD in the ESP
INITRD=$IMG
esp_image "$RUN/esp.img" "$BOOT_CMDLINE_BASE $DRACUT_CMDLINE_BASE $ROOT_ARGS rd.coco.on-failure=poweroff" \
	"$RUN/table.bin" && boot_vm "$RUN/serial.log" "$RUN/esp.img" "$DFIX/root.img"
rc=$?
cp "$RUN/serial.log.txt" "$RUN/serial.txt" 2>/dev/null || : >"$RUN/serial.txt"
boot_drop_serial poweroff
serial_show ''
tap_is "poweroff: the guest powered off by itself, before its timeout (${BOOT_SECONDS:-?}s)" 0 "$rc"
tap_serial "poweroff: the killer struck" '^KILLED-MID'
tap_serial "poweroff: ExecStopPost= said why it powers off" "$SAID"
# Its end marker is the helper's line: nothing after it runs.
tap_absent "poweroff: no passphrase prompt, no switch_root" "$RUN/serial.txt" \
	"$PROMPT|^(ROOT-OK|GUEST-DONE)" 'before it could apply on-failure=poweroff: powering off'
tap_absent_bytes "poweroff: no secret bytes on the console" "$RUN/serial.txt" \
	'before it could apply on-failure=poweroff: powering off' "$FIX/root.key" "$FIX/wrong.key" "$FIX/other.key"

# --- prompt: not asked, as before -------------------------------------------------------
RUN=$DRACUT_RUNS/systemd-killed-prompt; rm -rf "$RUN"; mkdir -p "$RUN"
secret_table "$RUN/table.bin" "$GUID_DISK=$FIX/wrong.key" "$OTHER=$FIX/other.key"
dracut_boot_typed systemd-killed-prompt "$IMG" "$ROOT_ARGS" "$RUN/table.bin" "$PROMPT" "$FIX/root.key" "$DFIX/root.img"
tap_serial "prompt: the killer struck" '^KILLED-MID'
tap_check "prompt: systemd's prompt appeared" test -n "$PROMPT_SECONDS"
tap_serial_not "prompt: no power-off by the helper" 'before it could apply on-failure=poweroff'
tap_serial "prompt: the typed passphrase opened the root: switch_root" '^ROOT-OK root$'
tap_no_secret_bytes "$FIX/root.key" "$FIX/wrong.key" "$FIX/other.key"

tap_done
