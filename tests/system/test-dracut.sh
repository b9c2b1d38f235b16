#!/usr/bin/env bash
# A real Debian 12 system with dracut (systemd in the initramfs): coco-unlock's
# package installed with apt, the initramfs made in the system by
# `dracut --kver`, the root file system in LUKS2. The injected secret opens
# it before systemd-cryptsetup, systemd runs the real root up to
# multi-user.target, the secret is gone. A wrong secret: systemd's own
# passphrase prompt, the passphrase typed on the serial console, the
# system comes up. The package removed (apt-get remove, its trigger):
# systemd-cryptsetup alone asks, the system comes up.
set -u
. "$TOP/tests/lib/tap.sh"
. "$TOP/tests/system/lib.sh"

sys_test_start dracut
OTHER=e6f5a162-d67f-4750-a67c-5d065f2a9910
ARGS="$DRACUT_CMDLINE_BASE root=/dev/mapper/$SYS_MAPPER rd.luks.uuid=$ROOT_UUID ro cocotest.guids=$GUID_DISK,$OTHER"
PROMPT='Please enter passphrase for disk'
sys_image_checks

# 1. The injected secret opens the root.
sys_run happy
sys_plugin_disk
secret_table "$RUN/table.bin" "$GUID_DISK=$FIX/root.key" "$OTHER=$FIX/other.key" "$GUID_PLUG=$RUN/plug.key"
sys_boot happy "$ARGS,$GUID_PLUG" "$RUN/table.bin"
tap_serial "coco-unlock opened the root" "coco-unlock: $SYS_MAPPER: unlocked /dev/vdb"
tap_serial_not "no passphrase prompt" "$PROMPT"
sys_real_system_checks "coco-unlock: $SYS_MAPPER: unlocked /dev/vdb|$SYS_MAPPER: unlocked /dev/vdb"
tap_serial "the unused secret is still there (wipe=used)" "^root: SECRET-PRESENT $OTHER\$"
sys_plugin_checks
tap_no_secret_bytes "$FIX/root.key" "$FIX/other.key" "$RUN/plug.key" "$RUN/plug-first.key"
sys_journal_no_secret_bytes "$FIX/root.key" "$FIX/other.key" "$RUN/plug.key" "$RUN/plug-first.key"
T_HAPPY=$BOOT_SECONDS

# 2. A wrong secret: systemd-cryptsetup asks, the passphrase is typed.
sys_run wrong
secret_table "$RUN/table.bin" "$GUID_DISK=$FIX/wrong.key" "$OTHER=$FIX/other.key"
sys_boot_typed wrong "$ARGS" "$RUN/table.bin" "$PROMPT" "$FIX/root.key"
tap_serial "coco-unlock left the root closed" "coco-unlock: $SYS_MAPPER: .*left closed"
tap_check "systemd's prompt appeared" test -n "$PROMPT_SECONDS"
sys_real_system_checks "$SYS_MAPPER: .*left closed"
tap_no_secret_bytes "$FIX/root.key" "$FIX/wrong.key" "$FIX/other.key"
sys_journal_no_secret_bytes "$FIX/root.key" "$FIX/wrong.key" "$FIX/other.key"
T_WRONG="${BOOT_SECONDS:-?} s (prompt after ${PROMPT_SECONDS:-?} s)"

# 3. The package removed: no coco-unlock in the image, systemd asks even
# with the right secret injected (nothing reads it now), the system comes up.
sys_removed_image_checks 'systemd-cryptsetup$'
sys_run removed
secret_table "$RUN/table.bin" "$GUID_DISK=$FIX/root.key" "$OTHER=$FIX/other.key"
SYS_REMOVED=1 sys_boot_typed removed "$ARGS" "$RUN/table.bin" "$PROMPT" "$FIX/root.key"
tap_check "systemd's prompt appeared" test -n "$PROMPT_SECONDS"
tap_serial_not "no coco-unlock on the console" 'coco-unlock'
sys_real_root_checks
tap_serial "the secret is left in securityfs (nothing wiped it)" "^root: SECRET-PRESENT $GUID_DISK\$"
tap_no_secret_bytes "$FIX/root.key" "$FIX/other.key"

sys_figures "happy boot ${T_HAPPY:-?} s, wrong-secret boot $T_WRONG," \
	"package-removed boot ${BOOT_SECONDS:-?} s (prompt after ${PROMPT_SECONDS:-?} s)"
tap_done
