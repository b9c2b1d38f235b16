#!/usr/bin/env bash
# dracut systemd mode (the default): coco-unlock.service opens the root
# before cryptsetup-pre.target; systemd-cryptsetup@ then finds the volume
# active and succeeds ("already active", no failed unit); switch_root,
# the used secret is gone. A wrong secret: systemd's own passphrase
# prompt on the serial console, typed there, boot completes, the secret
# is wiped all the same.
set -u
. "$TOP/tests/lib/tap.sh"
. "$TOP/tests/dracut/lib.sh"

OTHER=e6f5a162-d67f-4750-a67c-5d065f2a9910
PROMPT='Please enter passphrase for disk'
# journald forwards systemd-cryptsetup's messages to the serial console.
ROOT_ARGS="root=/dev/mapper/$ROOT_MAPPER rd.luks.uuid=$ROOT_UUID cocotest.guids=$GUID_DISK,$OTHER systemd.journald.forward_to_console=1"

dracut_test_start systemd
dracut_image systemd-coco --no-hostonly --add coco-unlock || tap_not_ok "dracut builds the systemd-mode image"
COCO_IMG=$IMAGE
lsinitrd "$COCO_IMG" >"$RUN/../systemd-coco.list" 2>/dev/null
tap_check "the image has coco-unlock.service" grep -q 'systemd/system/coco-unlock.service$' "$RUN/../systemd-coco.list"
# Debian 13's is a link to /usr/bin/systemd-cryptsetup (lsinitrd: "-> ...").
tap_check "the image has systemd-cryptsetup" grep -qE 'systemd/systemd-cryptsetup( -> .*)?$' "$RUN/../systemd-coco.list"

# 1. The injected secret opens the root.
RUN=$DRACUT_RUNS/systemd-happy; rm -rf "$RUN"; mkdir -p "$RUN"
secret_table "$RUN/table.bin" "$GUID_DISK=$FIX/root.key" "$OTHER=$FIX/other.key"
dracut_boot systemd-happy "$COCO_IMG" "$ROOT_ARGS" "$RUN/table.bin" "$DFIX/root.img"
tap_serial "coco-unlock.service ran and finished" 'Finished coco-unlock.service'
tap_serial "coco-unlock opened the root" "coco-unlock: $ROOT_MAPPER: unlocked "
tap_serial "systemd-cryptsetup found it already active" "systemd-cryptsetup.*: Volume $ROOT_MAPPER already active"
tap_serial "systemd-cryptsetup@ succeeded" "Finished systemd-cryptsetup@"
dracut_no_failed_unit
tap_serial_not "no passphrase prompt" "$PROMPT"
tap_serial "switch_root reached the encrypted root" '^ROOT-OK root$'
tap_serial "the root is the mapped volume" "^VOLUME-ROOT $ROOT_MAPPER\$"
tap_serial "the used secret is gone, seen from the root" "^root: SECRET-GONE $GUID_DISK\$"
tap_serial "the unused secret is still there" "^root: SECRET-PRESENT $OTHER\$"
tap_no_secret_bytes "$FIX/root.key" "$FIX/other.key"
T_SD=$(grep -aoE '^ROOT-UPTIME [0-9.]+' "$RUN/serial.txt" | cut -d' ' -f2)

# 2. A wrong secret: systemd's prompt, typed passphrase, wipe anyway.
RUN=$DRACUT_RUNS/systemd-wrong; rm -rf "$RUN"; mkdir -p "$RUN"
secret_table "$RUN/table.bin" "$GUID_DISK=$FIX/wrong.key" "$OTHER=$FIX/other.key"
# A long rd.coco.timeout: a prompt before it shows coco-unlock did not wait
# it out, and a loaded machine's slow TCG boot cannot reach it.
dracut_boot_typed systemd-wrong "$COCO_IMG" "$ROOT_ARGS rd.coco.timeout=45" "$RUN/table.bin" "$PROMPT" "$FIX/root.key" "$DFIX/root.img"
tap_serial "coco-unlock left the root closed" "coco-unlock: $ROOT_MAPPER: .*left closed"
tap_serial_not "coco-unlock.service did not fail (status 1 is the fallback)" 'Failed to start coco-unlock|coco-unlock.service: Failed'
tap_check "the standard prompt appeared" test -n "$PROMPT_SECONDS"
tap_less_than "the prompt came before rd.coco.timeout (45 s of uptime)" 45 "$(kmsg_time_before "$PROMPT")"
tap_serial "the typed passphrase opened the root: switch_root" '^ROOT-OK root$'
tap_serial "the wrong secret is wiped all the same" "^root: SECRET-GONE $GUID_DISK\$"
tap_no_secret_bytes "$FIX/root.key" "$FIX/wrong.key" "$FIX/other.key"

echo "systemd mode: image $(stat -c %s "$COCO_IMG") bytes; kernel start to the real root's init ${T_SD:-?} s" |
	tee "$DRACUT_WORK/figures-systemd.txt" | sed 's/^/# FIGURE: /'
tap_done
