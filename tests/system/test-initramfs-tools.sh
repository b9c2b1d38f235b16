#!/usr/bin/env bash
# A real Debian 12 system with initramfs-tools and cryptsetup-initramfs:
# coco-unlock's package installed with apt, the initramfs made in the
# system by update-initramfs, the root file system in LUKS2. The injected
# secret opens it before cryptroot, systemd runs the real root up to
# multi-user.target, the secret is gone. A wrong secret: cryptroot's own
# prompt, the passphrase typed on the serial console, the system comes up.
# The package removed (apt-get remove, its trigger): cryptroot alone asks,
# the system comes up.
set -u
. "$TOP/tests/lib/tap.sh"
. "$TOP/tests/system/lib.sh"

sys_test_start initramfs-tools
OTHER=e6f5a162-d67f-4750-a67c-5d065f2a9910
ARGS="root=/dev/mapper/root ro cocotest.guids=$GUID_DISK,$OTHER"
sys_image_checks

# 1. The injected secret opens the root.
sys_run happy
sys_plugin_disk
secret_table "$RUN/table.bin" "$GUID_DISK=$FIX/root.key" "$OTHER=$FIX/other.key" "$GUID_PLUG=$RUN/plug.key"
sys_boot happy "$ARGS,$GUID_PLUG" "$RUN/table.bin"
tap_serial "coco-unlock opened the root before cryptroot" "coco-unlock: root: unlocked /dev/vdb"
tap_serial_not "no cryptroot prompt" 'Please unlock disk'
sys_real_system_checks "coco-unlock: root: unlocked /dev/vdb"
tap_serial "the unused secret is still there (wipe=used)" "^root: SECRET-PRESENT $OTHER\$"
sys_plugin_checks
tap_no_secret_bytes "$FIX/root.key" "$FIX/other.key" "$RUN/plug.key" "$RUN/plug-first.key"
sys_journal_no_secret_bytes "$FIX/root.key" "$FIX/other.key" "$RUN/plug.key" "$RUN/plug-first.key"
T_HAPPY=$BOOT_SECONDS

# 1b. On Ubuntu: udev kept from loading efi_secret (modprobe.blacklist on
# the command line, which libkmod obeys for udev's loads by alias and not
# for loads by name): coco-unlock loads Ubuntu's zstd-compressed module
# itself, and says so (rd.coco.debug), and opens the root.
if [ "$SYS_DISTRO" = ubuntu ]; then
	sys_run self-load
	secret_table "$RUN/table.bin" "$GUID_DISK=$FIX/root.key"
	sys_boot self-load "$ARGS modprobe.blacklist=efi_secret rd.coco.debug=1" "$RUN/table.bin"
	tap_serial "self-load: coco-unlock loaded efi_secret itself" 'coco-unlock: .*efi_secret loaded$'
	# Its first word on the module (the wipe in init-bottom, later, finds it loaded).
	tap_is "self-load: efi_secret was not loaded before coco-unlock looked" "efi_secret loaded" \
		"$(grep -aoE 'coco-unlock: efi_secret (loaded|is already loaded)' "$RUN/serial.txt" | head -n 1 | cut -d' ' -f2-)"
	tap_serial "self-load: coco-unlock opened the root" "coco-unlock: root: unlocked /dev/vdb"
	sys_real_system_checks "coco-unlock: root: unlocked /dev/vdb"
	tap_no_secret_bytes "$FIX/root.key"
	sys_journal_no_secret_bytes "$FIX/root.key"
fi

# 2. A wrong secret: cryptroot asks, the passphrase is typed.
sys_run wrong
secret_table "$RUN/table.bin" "$GUID_DISK=$FIX/wrong.key" "$OTHER=$FIX/other.key"
sys_boot_typed wrong "$ARGS" "$RUN/table.bin" 'Please unlock disk root' "$FIX/root.key"
tap_serial "coco-unlock left the root closed" "coco-unlock: root: .*left closed"
tap_check "cryptroot's prompt appeared" test -n "$PROMPT_SECONDS"
tap_serial "cryptroot opened the root with the typed passphrase" "cryptsetup: root: set up successfully"
sys_real_system_checks "coco-unlock: root: .*left closed"
tap_no_secret_bytes "$FIX/root.key" "$FIX/wrong.key" "$FIX/other.key"
sys_journal_no_secret_bytes "$FIX/root.key" "$FIX/wrong.key" "$FIX/other.key"
T_WRONG="${BOOT_SECONDS:-?} s (prompt after ${PROMPT_SECONDS:-?} s)"

# 3. The package removed: no coco-unlock in the image, cryptroot asks even
# with the right secret injected (nothing reads it now), the system comes up.
sys_removed_image_checks 'scripts/local-top/cryptroot$'
sys_run removed
secret_table "$RUN/table.bin" "$GUID_DISK=$FIX/root.key" "$OTHER=$FIX/other.key"
SYS_REMOVED=1 sys_boot_typed removed "$ARGS" "$RUN/table.bin" 'Please unlock disk root' "$FIX/root.key"
tap_check "cryptroot's prompt appeared" test -n "$PROMPT_SECONDS"
tap_serial "cryptroot opened the root with the typed passphrase" "cryptsetup: root: set up successfully"
tap_serial_not "no coco-unlock on the console" 'coco-unlock'
sys_real_root_checks
tap_serial "the secret is left in securityfs (nothing wiped it)" "^root: SECRET-PRESENT $GUID_DISK\$"
tap_no_secret_bytes "$FIX/root.key" "$FIX/other.key"

sys_figures "happy boot ${T_HAPPY:-?} s, wrong-secret boot $T_WRONG," \
	"package-removed boot ${BOOT_SECONDS:-?} s (prompt after ${PROMPT_SECONDS:-?} s)"
tap_done
