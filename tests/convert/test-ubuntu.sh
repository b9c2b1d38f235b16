#!/usr/bin/env bash
# coco-secret convert end to end on Ubuntu 24.04 (issue 26): a cloud-style
# noble image (GPT, ESP, ext4 root, a separate /boot, Ubuntu's own
# linux-image-virtual without linux-modules-extra) made here, converted
# with the noble package; then the converted image booted from its
# exported vmlinuz, initrd.img and cmdline with the exported secret table
# injected: coco-unlock opens the root, systemd reaches multi-user.target
# on /dev/mapper/root, the marker files are there, the secret is gone.
# An interrupted convert leaves no --out.
#
# Environment as for tests/system; CONV_DEB=FILE: the package to install
# (default: built for noble, tests/system/lib.sh sys_release_deb).
set -u
. "$TOP/tests/lib/tap.sh"
export SYS_SUITE=noble
# Ubuntu's kernel and initramfs (MODULES=most) on the harness's ESP.
export ESP_MIB=${ESP_MIB:-160}
export BOOT_TIMEOUT=${BOOT_TIMEOUT:-300}
. "$TOP/tests/convert/lib.sh"
export COCO_SECRET_CONVERT_HELPER=$TOP/tools/coco-secret/convert-root.sh
export MTOOLS_SKIP_CHECK=1

if [ "$(id -u)" != 0 ]; then
	tap_skip "convert (noble)" "needs root (debootstrap, chroot, fuse2fs)"
	tap_done
	exit 0
fi
# One boot phase is enough: the kernel is Ubuntu's, whatever the phase's.
if [ "${KERNEL_SERIES:-6.1}" != 6.1 ]; then
	tap_skip "convert (noble) on $KERNEL_SERIES" "runs in the boot-6.1 phase only (Ubuntu's own kernel)"
	tap_done
	exit 0
fi
if ! { [ -f "$INJECTOR" ] && boot_disks && conv_cloud_image && { [ -n "${CONV_DEB:-}" ] && DEB=$CONV_DEB || sys_deb; }; }; then
	tap_not_ok "the cloud-style noble image and the noble package"
	tap_done
	exit 1
fi
tap_ok "the cloud-style noble image ($(du -m --apparent-size "$CLOUD_IMG" | cut -f1) MiB) and $DEB"

D=$CONV_WORK/noble/converted
rm -rf "$D"
mkdir -p "$D"
IN_SUM=$(sha256sum <"$CLOUD_IMG")

# 1. An interrupted convert (SIGTERM in the edits inside the image) leaves
# no --out, no secret, no work directory, and the input as it was.
"$COCO_SECRET" convert --in "$CLOUD_IMG" --out "$D/int.img" --secret-out "$D/int.secret" \
	--deb "$DEB" >"$D/int.log" 2>&1 &
pid=$!
for _ in $(seq 600); do
	grep -q 'apt-get update' "$D/int.log" && break
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.2
done
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
sed 's/^/#   /' "$D/int.log" | tail -n 4
tap_check "interrupted: the run was inside the image when it was stopped" grep -q 'apt-get update' "$D/int.log"
tap_check "interrupted: says so, exit status 1" \
	eval '[ "$rc" = 1 ] && grep -q "interrupted (signal 15): nothing written" "$D/int.log"'
tap_check "interrupted: no --out, no secret, no boot files, no work directory" \
	test ! -e "$D/int.img" -a ! -e "$D/int.secret" -a ! -e "$D/int.img.boot" \
	-a -z "$(find "$D" -maxdepth 1 -name '.coco-convert.*')"
tap_check "interrupted: no fuse2fs left running" eval '! pgrep -f "fuse2fs -f $D/" >/dev/null'

# 2. The conversion.
start=$SECONDS
rc=0
"$COCO_SECRET" convert --in "$CLOUD_IMG" --out "$D/out.img" --secret-out "$D/disk.secret" \
	--deb "$DEB" --recovery-key-file "$FIX/root.key" --append "cocotest.guids=$GUID_DISK" \
	>"$D/convert.log" 2>&1 || rc=$?
CONVERT_SECONDS=$((SECONDS - start))
grep '^coco-secret' "$D/convert.log" | sed 's/^/#   /'
tap_is "convert: exit status 0 (${CONVERT_SECONDS} s)" 0 "$rc"
tap_is "the input is unchanged" "$IN_SUM" "$(sha256sum <"$CLOUD_IMG")"
tap_check "the secret: 32 bytes, mode 0600" \
	test "$(stat -c '%s %a' "$D/disk.secret" 2>/dev/null)" = "32 600"
B=$D/out.img.boot
for f in vmlinuz initrd.img cmdline secret.table; do
	tap_check "exported: $f" test -s "$B/$f"
done
tap_check "the command line: root on the mapping, rd.coco.on-failure=poweroff" \
	grep -q '^root=/dev/mapper/root ro rd.coco.on-failure=poweroff ' "$B/cmdline"

# The root partition, as an independent reader sees it: cryptsetup's dump
# of its header, the secret and the recovery passphrase opening keyslots.
start_sector=$(sfdisk --json "$D/out.img" | python3 -c 'import json,sys
p=[p for p in json.load(sys.stdin)["partitiontable"]["partitions"] if p["type"]=="'"$CONV_TYPE_ROOT"'"]
print(p[0]["start"])')
dd if="$D/out.img" of="$D/header.img" bs=512 skip="$start_sector" count=32768 status=none
cryptsetup luksDump "$D/header.img" >"$D/dump.txt" 2>&1
tap_check "the root partition is LUKS2" grep -q '^Version:[[:space:]]*2$' "$D/dump.txt"
tap_check "it has a coco-efi-secret token" grep -q 'coco-efi-secret' "$D/dump.txt"
tap_check "the secret opens a keyslot (cryptsetup)" \
	cryptsetup open --test-passphrase --key-file "$D/disk.secret" "$D/header.img"
tap_check "the recovery passphrase opens a keyslot (cryptsetup)" \
	cryptsetup open --test-passphrase --key-file "$FIX/root.key" "$D/header.img"
uuid=$(cryptsetup luksUUID "$D/header.img")
lsinitramfs "$B/initrd.img" >"$D/initrd.list" 2>/dev/null
tap_check "the initramfs has coco-unlock" grep -q 'usr/sbin/coco-unlock$' "$D/initrd.list"
tap_check "the initramfs has efi_secret" grep -q 'efi_secret\.ko' "$D/initrd.list"
rm -rf "$D/initrd"
unmkinitramfs "$B/initrd.img" "$D/initrd" >/dev/null 2>&1
line=$(cat "$D"/initrd/*/cryptroot/crypttab "$D"/initrd/cryptroot/crypttab 2>/dev/null | grep '^root ')
tap_diag "the initramfs's crypttab: $line"
tap_check "the initramfs's crypttab: the root by its LUKS UUID, with a pin" \
	eval '[[ "$line" =~ ^root\ UUID=$uuid\ none\ .*fixate-volume-key=[0-9a-f]{64} ]]'
# The pin, from the volume key cryptsetup gives (systemd's definition:
# HMAC-SHA256 under the volume key of "cryptsetup:NAME:UUID").
cryptsetup luksDump --dump-volume-key --volume-key-file "$D/vk" -q --key-file "$D/disk.secret" \
	"$D/header.img" >/dev/null 2>&1
want=$(python3 -c 'import hmac, hashlib, sys
print(hmac.new(open(sys.argv[1], "rb").read(), ("cryptsetup:root:" + sys.argv[2]).encode(), hashlib.sha256).hexdigest())' \
	"$D/vk" "$uuid" 2>/dev/null)
[ -f "$D/vk" ] && shred -u "$D/vk"
tap_is "the pin is the volume key's (HMAC-SHA256 of cryptsetup:root:UUID)" \
	"fixate-volume-key=$want" "$(grep -oE 'fixate-volume-key=[0-9a-f]{64}' <<<"$line")"
rm -rf "$D/initrd"
tap_absent_bytes "no secret bytes in convert's output" "$D/convert.log" 'converted ' "$D/disk.secret"
tap_absent_bytes "no secret bytes in the exported files but the table" "$B/initrd.img" '' "$D/disk.secret"

# 3. The converted image boots from what was exported, with the table.
RUN=$CONV_WORK/runs/noble-happy
rm -rf "$RUN"
mkdir -p "$RUN/kernel"
cp "$B/vmlinuz" "$RUN/kernel/bzImage"
KERNEL_DIR=$RUN/kernel INITRD=$B/initrd.img
truncate -s 32M "$RUN/out.img"
SYS_MAPPER=root
BOOT_QEMU_ARGS="-drive if=virtio,format=raw,file=$RUN/out.img" \
	tap_boot "converted noble" "$(cat "$B/cmdline")" "$B/secret.table" "$D/out.img"
sys_journal
tap_serial "coco-unlock opened the root" "coco-unlock: root: unlocked /dev/vdb"
tap_serial_not "no cryptroot prompt" 'Please unlock disk'
sys_real_system_checks "coco-unlock: root: unlocked /dev/vdb"
tap_serial "the root's marker file is there" '^MARKER root coco-convert marker noble$'
tap_serial "the 1 MiB marker file is whole" "^MARKER one-mib $(head -c 1048576 /dev/zero | tr '\0' m | sha256sum | cut -c1-16)\$"
tap_serial "the marker symbolic link is there" '^MARKER link root-marker$'
tap_serial "/boot is the separate partition, its marker there" '^MARKER boot coco-convert boot marker$'
tap_no_secret_bytes "$D/disk.secret" "$FIX/root.key"
sys_journal_no_secret_bytes "$D/disk.secret" "$FIX/root.key"

echo "# FIGURE: convert noble $(du -m --apparent-size "$CLOUD_IMG" | cut -f1) MiB image: ${CONVERT_SECONDS} s; boot ${BOOT_SECONDS:-?} s"
tap_done
