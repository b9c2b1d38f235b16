#!/usr/bin/env bash
# dracut shell mode (--omit systemd): coco-unlock's initqueue/settled hook
# opens the encrypted root before the crypt module would ask; the root is
# mounted, switch_root, the used secret is gone. With a wrong secret, or
# with rd.coco=0, the crypt module's own prompt appears on the serial
# console, the passphrase typed there opens the root. Baseline for the
# figures: the same volume opened by dracut's own rd.luks.key, no module.
set -u
. "$TOP/tests/lib/tap.sh"
. "$TOP/tests/dracut/lib.sh"

OTHER=e6f5a162-d67f-4750-a67c-5d065f2a9910
PROMPT='Enter passphrase for /dev/'
SHELL_MODE=(--no-hostonly --omit "systemd systemd-initrd dracut-systemd")
ROOT_ARGS="root=/dev/mapper/$ROOT_MAPPER rd.luks.uuid=$ROOT_UUID cocotest.guids=$GUID_DISK,$OTHER"

dracut_test_start shell
dracut_image shell-coco "${SHELL_MODE[@]}" --add coco-unlock || tap_not_ok "dracut builds the shell-mode image"
COCO_IMG=$IMAGE
# The baseline: no coco-unlock, the root's key file inside the image.
# In a no-hostonly build dracut takes every module whose check() says
# yes, coco-unlock included: the baseline omits it by name.
dracut_image shell-baseline "${SHELL_MODE[@]}" --omit coco-unlock --include "$FIX/root.key" /etc/coco-test-root.key ||
	tap_not_ok "dracut builds the baseline image"
BASE_IMG=$IMAGE
lsinitrd "$COCO_IMG" >"$RUN/../shell-coco.list" 2>/dev/null
tap_check "the image has coco-unlock" grep -q ' usr/sbin/coco-unlock$' "$RUN/../shell-coco.list"
tap_check "the image has the settled hook" grep -q 'hooks/initqueue/settled/00-coco-unlock-settled.sh$' "$RUN/../shell-coco.list"
tap_check "the image has the pre-pivot hook" grep -q 'hooks/pre-pivot/10-coco-unlock-wipe.sh$' "$RUN/../shell-coco.list"
lsinitrd "$BASE_IMG" >"$RUN/../shell-baseline.list" 2>/dev/null
# The listing must show the image's content for its lack of coco-unlock to count.
tap_absent "the baseline image has no coco-unlock" "$RUN/../shell-baseline.list" \
	' usr/sbin/coco-unlock$|coco-unlock-settled' ' usr/lib/systemd/systemd-udevd$| usr/bin/udevadm$| init$'


# 1. The injected secret opens the root.
RUN=$DRACUT_RUNS/shell-happy; rm -rf "$RUN"; mkdir -p "$RUN"
secret_table "$RUN/table.bin" "$GUID_DISK=$FIX/root.key" "$OTHER=$FIX/other.key"
dracut_boot shell-happy "$COCO_IMG" "$ROOT_ARGS" "$RUN/table.bin" "$DFIX/root.img"
tap_serial "coco-unlock opened the root" "coco-unlock: $ROOT_MAPPER: unlocked "
tap_serial_not "no passphrase prompt" "$PROMPT"
tap_serial "dracut mounted the mapped root" "dracut: Mounted root filesystem /dev/mapper/$ROOT_MAPPER"
tap_serial "switch_root reached the encrypted root" '^ROOT-OK root$'
tap_serial "the root is the mapped volume" "^VOLUME-ROOT $ROOT_MAPPER\$"
tap_serial "the used secret is gone, seen from the root" "^root: SECRET-GONE $GUID_DISK\$"
tap_serial "the unused secret is still there" "^root: SECRET-PRESENT $OTHER\$"
tap_no_secret_bytes "$FIX/root.key" "$FIX/other.key"
T_COCO=$(grep -aoE "^ROOT-UPTIME [0-9.]+" "$RUN/serial.txt" | cut -d" " -f2)

# 2. Baseline: dracut's own rd.luks.key, same volume, no coco-unlock.
RUN=$DRACUT_RUNS/shell-baseline; rm -rf "$RUN"; mkdir -p "$RUN"
dracut_boot shell-baseline "$BASE_IMG" \
	"root=/dev/mapper/$ROOT_MAPPER rd.luks.uuid=$ROOT_UUID rd.luks.key=/etc/coco-test-root.key:/" - "$DFIX/root.img"
tap_serial "baseline: switch_root reached the encrypted root" '^ROOT-OK root$'
tap_serial_not "baseline: no coco-unlock ran" 'coco-unlock: '
tap_serial_not "baseline: no prompt" "$PROMPT"
T_BASE=$(grep -aoE '^ROOT-UPTIME [0-9.]+' "$RUN/serial.txt" | cut -d' ' -f2)

# 3. A wrong secret: the standard prompt, typed passphrase, wipe anyway.
RUN=$DRACUT_RUNS/shell-wrong; rm -rf "$RUN"; mkdir -p "$RUN"
secret_table "$RUN/table.bin" "$GUID_DISK=$FIX/wrong.key" "$OTHER=$FIX/other.key"
# A long rd.coco.timeout: a prompt before it shows coco-unlock did not wait
# it out, and a loaded machine's slow TCG boot cannot reach it.
dracut_boot_typed shell-wrong "$COCO_IMG" "$ROOT_ARGS rd.coco.timeout=45" "$RUN/table.bin" "$PROMPT" "$FIX/root.key" "$DFIX/root.img"
tap_serial "coco-unlock left the root closed" "coco-unlock: $ROOT_MAPPER: .*left closed"
tap_check "the standard prompt appeared" test -n "$PROMPT_SECONDS"
tap_less_than "the prompt came before rd.coco.timeout (45 s of uptime)" 45 "$(kmsg_time_before "$PROMPT")"
tap_serial "the typed passphrase opened the root: switch_root" '^ROOT-OK root$'
tap_serial "the wrong secret is wiped all the same" "^root: SECRET-GONE $GUID_DISK\$"
tap_no_secret_bytes "$FIX/root.key" "$FIX/wrong.key" "$FIX/other.key"

# 4. rd.coco=0: coco-unlock does nothing, the prompt works, nothing wiped.
RUN=$DRACUT_RUNS/shell-off; rm -rf "$RUN"; mkdir -p "$RUN"
secret_table "$RUN/table.bin" "$GUID_DISK=$FIX/root.key" "$OTHER=$FIX/other.key"
dracut_boot_typed shell-off "$COCO_IMG" "$ROOT_ARGS rd.coco=0" "$RUN/table.bin" "$PROMPT" "$FIX/root.key" "$DFIX/root.img"
tap_serial_not "rd.coco=0: coco-unlock opened nothing" "coco-unlock: .*: unlocked "
tap_check "rd.coco=0: the standard prompt appeared" test -n "$PROMPT_SECONDS"
tap_serial "rd.coco=0: the typed passphrase opened the root" '^ROOT-OK root$'
tap_serial "rd.coco=0: the late wipe (pre-pivot) still removed the disk secret" "^root: SECRET-GONE $GUID_DISK\$"
tap_serial "rd.coco=0: and left the unrelated one" "^root: SECRET-PRESENT $OTHER\$"
tap_no_secret_bytes "$FIX/root.key" "$FIX/other.key"

# The figures (same run, same options but the module).
{
	echo "image size, shell mode, gzip: with coco-unlock $(stat -c %s "$COCO_IMG") bytes, without $(stat -c %s "$BASE_IMG") bytes (baseline holds a 32-byte key file)"
	echo "kernel start to the real root's init (uptime): coco-unlock ${T_COCO:-?} s, rd.luks.key ${T_BASE:-?} s"
} | tee "$DRACUT_WORK/figures-shell.txt" | sed 's/^/# FIGURE: /'
tap_done
