# shellcheck shell=bash
# The QEMU boot harness: secret tables, encrypted disk images, the ESP, a
# minimal initramfs, and one VM run. Sourced by tests/boot/test-*.sh and
# tests/boot/demo.sh; later issues (dracut, mkinitcpio) reuse it.
#
# Environment: TOP (repo root), BUILD (absolute build dir), CACHE, and
# COCO_UNLOCK (the coco-unlock binary put into the initramfs; dynamic or
# static). Everything is made without root mounts or device-mapper.
#
# Files made here live in $BOOT_WORK (default $BUILD/boot): shared
# fixtures (disk images, keys, initramfs) under fixtures/, rebuilt when
# their inputs change, and one directory per test run under runs/.
#
# Serial-console protocol of the guest's init scripts (tests/boot/init,
# tests/boot/root-init), one line each:
#   INIT-START                     the initramfs /init runs
#   COCO-UNLOCK-EXIT=<n>           coco-unlock's exit status
#   COCO-UNLOCK-MS=<n>             how long it ran, in milliseconds
#   <stage>: SECRETS-DIR present|absent      stage is initrd or root
#   <stage>: SECRET-PRESENT <guid> / SECRET-GONE <guid>  (for cocotest.guids=)
#   <stage>: SECRET-SHA256 <guid> <hash>      (mode list only)
#   initrd: MAPPED <name>          a /dev/mapper entry after coco-unlock
#   FALLBACK                       coco-unlock failed: no switch_root
#   ROOT-OK <marker>               the encrypted root's init runs
#   VOLUME-ROOT <name>             the unlocked volume mounted as root
#   VOLUME-OK <name> <marker>      another unlocked volume mounted from root
#   GUEST-DONE                     just before power-off

: "${TOP:?TOP must be set}"
: "${BUILD:?BUILD must be set}"
CACHE=${CACHE:-$HOME/.cache/coco-unlock}
COCO_UNLOCK=${COCO_UNLOCK:-$BUILD/coco-unlock}
BOOT_SRC=$TOP/tests/boot
# Which kernel: linux-source-6.1 or -6.12. Each has its own work
# directory: the fixtures hold its modules. The default is the machine's:
# 6.1 on Debian 12, 6.12 on Debian 13, which has no 6.1 (make demo, the
# benches and scripts run by hand; make check names it).
if [ -z "${KERNEL_SERIES:-}" ]; then
	KERNEL_SERIES=6.1
	case $(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}") in
	bookworm | '') ;;
	*) KERNEL_SERIES=6.12 ;;
	esac
fi
if [ "$KERNEL_SERIES" = 6.1 ]; then
	BOOT_WORK=${BOOT_WORK:-$BUILD/boot}
else
	BOOT_WORK=${BOOT_WORK:-$BUILD/boot-$KERNEL_SERIES}
fi
BOOT_RUNS=${BOOT_RUNS:-$BOOT_WORK/runs}
BOOT_TIMEOUT=${BOOT_TIMEOUT:-180}
OVMF_CODE=${OVMF_CODE:-/usr/share/OVMF/OVMF_CODE_4M.fd}
OVMF_VARS=${OVMF_VARS:-/usr/share/OVMF/OVMF_VARS_4M.fd}
INJECTOR=${INJECTOR:-$BUILD/coco-inject.efi}

# Constants for the test scripts.
# shellcheck disable=SC2034
# The conventional disk-passphrase GUID (GRUB efisecret, sevctl, libvirt).
GUID_DISK=736869e5-84f0-4973-92ec-06879ce3da0b
SECRET_TABLE_GUID=1e74f542-71dd-4d66-963e-ef4287ff173b
# Fixed LUKS UUIDs of the test volumes.
ROOT_UUID=0c0c0001-0000-4000-8000-000000000001
DATA_UUID=0c0c0002-0000-4000-8000-000000000002

boot_log() { echo "# boot: $*" >&2; }
boot_die() { echo "boot: error: $*" >&2; return 1; }

# ---------------------------------------------------------------------------
# Secret tables (until coco-secret builds them)

# guid_hex GUID: the 16 bytes of GUID in EFI (mixed-endian) order, as hex.
guid_hex() {
	local g=${1,,}
	[[ $g =~ ^([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{12})$ ]] ||
		{ boot_die "not a GUID: $1"; return 1; }
	local a=${BASH_REMATCH[1]} b=${BASH_REMATCH[2]} c=${BASH_REMATCH[3]}
	printf '%s%s%s%s%s%s%s%s%s%s\n' \
		"${a:6:2}" "${a:4:2}" "${a:2:2}" "${a:0:2}" "${b:2:2}" "${b:0:2}" \
		"${c:2:2}" "${c:0:2}" "${BASH_REMATCH[4]}" "${BASH_REMATCH[5]}"
}

# le32_hex N: N as 4 little-endian bytes, in hex.
le32_hex() {
	local h
	h=$(printf '%08x' "$1")
	printf '%s%s%s%s\n' "${h:6:2}" "${h:4:2}" "${h:2:2}" "${h:0:2}"
}

# hex_append HEX FILE: appends the bytes HEX spells to FILE.
hex_append() {
	local hex=$1 esc=
	while [ -n "$hex" ]; do
		esc+="\\x${hex:0:2}"
		hex=${hex:2}
	done
	# shellcheck disable=SC2059
	printf "$esc" >>"$2"
}

# secret_table OUT GUID=FILE...: a table in efi_secret's layout: header
# {guid, u32 total length}, then {guid, u32 20+datalen, data} per entry,
# zero-padded to a multiple of 16 bytes after the header's length, as
# sevctl does. Options before OUT change it for the failure scenarios:
#   --header-guid GUID   another header GUID (an unpopulated area)
#   --corrupt            the first entry's length runs past the table
secret_table() {
	local header=$SECRET_TABLE_GUID corrupt=0 out arg guid file size total pad
	while [ $# -gt 0 ]; do
		case $1 in
		--header-guid) header=$2; shift 2 ;;
		--corrupt) corrupt=1; shift ;;
		*) break ;;
		esac
	done
	out=$1
	shift
	total=20
	for arg in "$@"; do
		file=${arg#*=}
		[ -f "$file" ] || { boot_die "secret_table: no file $file"; return 1; }
		total=$((total + 20 + $(stat -c %s "$file")))
	done
	: >"$out"
	hex_append "$(guid_hex "$header")$(le32_hex "$total")" "$out" || return 1
	for arg in "$@"; do
		guid=${arg%%=*} file=${arg#*=}
		size=$(( $(stat -c %s "$file") + 20 ))
		[ "$corrupt" = 1 ] && size=$((total + 1)) corrupt=0
		hex_append "$(guid_hex "$guid")$(le32_hex "$size")" "$out" || return 1
		cat "$file" >>"$out"
	done
	pad=$(( (16 - total % 16) % 16 ))
	[ "$pad" -gt 0 ] && head -c "$pad" /dev/zero >>"$out"
	return 0
}

# ---------------------------------------------------------------------------
# Caching of fixtures: fixture_fresh NAME INPUT... succeeds when
# $BOOT_WORK/fixtures/NAME.stamp records the same hash of the INPUTs (files
# are hashed by content, other words as they are); fixture_done writes it.

fixture_hash() {
	local i
	for i in "$@"; do
		if [ -f "$i" ]; then
			sha256sum <"$i"
		else
			echo "$i"
		fi
	done | sha256sum | cut -c1-16
}

fixture_fresh() {
	local name=$1
	shift
	[ -f "$BOOT_WORK/fixtures/$name.stamp" ] &&
		[ "$(cat "$BOOT_WORK/fixtures/$name.stamp")" = "$(fixture_hash "$@")" ]
}

fixture_done() {
	local name=$1
	shift
	fixture_hash "$@" >"$BOOT_WORK/fixtures/$name.stamp"
}

# ---------------------------------------------------------------------------
# The kernel

# bench_ready NAME FILE...: a bench's inputs (the FILEs, a cached test
# kernel) are there; else says NAME skipped and why, and is false (the
# bench then exits 0: figures, not a test).
bench_ready() {
	local name=$1 f
	shift
	for f in "$@"; do
		if [ ! -f "$f" ]; then
			echo "$name: skipped: no $f (make static boot-prereqs)"
			return 1
		fi
	done
	if ! ls "$CACHE"/kernel-*/done >/dev/null 2>&1; then
		echo "$name: skipped: no test kernel in $CACHE (make boot-prereqs)"
		return 1
	fi
}

# boot_kernel: sets KERNEL_DIR (bzImage, modules/, release), building the
# kernel when the cache has none (slow: minutes).
boot_kernel() {
	KERNEL_DIR=$(CACHE=$CACHE KERNEL_SERIES=$KERNEL_SERIES "$BOOT_SRC/build-kernel.sh") || return 1
	KERNEL_RELEASE=$(cat "$KERNEL_DIR/release")
}

# ---------------------------------------------------------------------------
# Disk images

# busybox_tree DIR: busybox-static as DIR/bin/busybox with a link per applet.
busybox_tree() {
	local dir=$1 applet
	mkdir -p "$dir/bin" "$dir/sbin"
	# ldd fails on a static binary.
	if [ ! -x /bin/busybox ] || ldd /bin/busybox >/dev/null 2>&1; then
		boot_die "/bin/busybox is missing or not static (install busybox-static)"
		return 1
	fi
	cp /bin/busybox "$dir/bin/busybox"
	for applet in $(/bin/busybox --list); do
		[ -e "$dir/bin/$applet" ] || ln -s busybox "$dir/bin/$applet"
	done
}

# root_tree DIR MARKER: the encrypted root's content: busybox, the
# root-init script as /sbin/init, and /coco-test-volume holding MARKER.
root_tree() {
	local dir=$1
	rm -rf "$dir"
	mkdir -p "$dir"/{proc,sys,dev,run,tmp,mnt,etc}
	busybox_tree "$dir" || return 1
	install -m 0755 "$BOOT_SRC/root-init" "$dir/sbin/init"
	echo "$2" >"$dir/coco-test-volume"
	cat >"$dir/etc/motd" <<-'EOF'
	Hello from the encrypted root: coco-unlock opened it with a secret
	that the "firmware" (coco-inject.efi) injected, and wiped that secret.
	EOF
}

# luks_image IMG DIR UUID KEYFILE [FS_MIB]: an ext4 filesystem made from DIR
# (mke2fs -d), encrypted in place as LUKS2 with one PBKDF2 keyslot (1000
# iterations: fast under TCG) whose passphrase is KEYFILE's bytes.
# LUKS_PBKDF (words) replaces the PBKDF options (the fault boots' slow and
# memory-hungry keyslots).
LUKS_PBKDF_DEFAULT="--pbkdf pbkdf2 --pbkdf-force-iterations 1000 --hash sha256"
luks_image() {
	local img=$1 dir=$2 uuid=$3 key=$4 mib=${5:-24}
	rm -f "$img"
	truncate -s $(( (mib + 16) * 1024 * 1024 )) "$img"
	mke2fs -q -t ext4 -F -L coco-test -d "$dir" "$img" "${mib}M" ||
		{ boot_die "mke2fs failed for $img"; return 1; }
	# --disable-locks: a user who cannot write /run/cryptsetup can do it too;
	# the image is ours alone.
	# shellcheck disable=SC2086 # options as words
	cryptsetup reencrypt --disable-locks --batch-mode --encrypt --type luks2 \
		--reduce-device-size 16M --force-offline-reencrypt \
		${LUKS_PBKDF:-$LUKS_PBKDF_DEFAULT} \
		--uuid "$uuid" --key-file "$key" "$img" >/dev/null ||
		{ boot_die "cryptsetup reencrypt failed for $img"; return 1; }
}

# random_key FILE: 32 printable random bytes, no newline.
random_key() {
	head -c 24 /dev/urandom | base64 | tr -d '\n' >"$1"
}

# boot_disks: the shared encrypted disks and their keys, made once:
#   fixtures/root.img (UUID $ROOT_UUID, key fixtures/root.key),
#   fixtures/data.img (UUID $DATA_UUID, key fixtures/data.key),
#   fixtures/other.key, fixtures/wrong.key (opens nothing).
# Sets FIX to the fixtures directory.
boot_disks() {
	FIX=$BOOT_WORK/fixtures
	mkdir -p "$FIX"
	local inputs=("$BOOT_SRC/lib.sh" "$BOOT_SRC/root-init" /bin/busybox)
	(
		flock 8
		fixture_fresh disks "${inputs[@]}" && exit 0
		boot_log "making the encrypted disk images"
		local start=$SECONDS
		rm -f "$FIX"/disks.stamp
		for k in root data other wrong; do random_key "$FIX/$k.key"; done
		root_tree "$FIX/root-tree" root || exit 1
		luks_image "$FIX/root.img" "$FIX/root-tree" "$ROOT_UUID" "$FIX/root.key" || exit 1
		rm -rf "$FIX/data-tree"
		mkdir -p "$FIX/data-tree"
		echo data >"$FIX/data-tree/coco-test-volume"
		luks_image "$FIX/data.img" "$FIX/data-tree" "$DATA_UUID" "$FIX/data.key" 8 || exit 1
		rm -rf "$FIX/root-tree" "$FIX/data-tree"
		fixture_done disks "${inputs[@]}"
		boot_log "disk images made in $((SECONDS - start)) s"
	) 8>"$FIX/disks.lock"
}

# ---------------------------------------------------------------------------
# The initramfs

# copy_with_libs ROOT BINARY DEST: BINARY as ROOT/DEST plus, for a dynamic
# binary, its shared libraries (ldd), the dynamic loader and libgcc_s.so.1
# (glibc dlopens it for pthread_exit; ldd does not list it).
copy_with_libs() {
	local root=$1 bin=$2 dest=$3 lib
	install -D -m 0755 "$bin" "$root/$dest"
	ldd "$bin" >/dev/null 2>&1 || return 0
	for lib in $(ldd "$bin" | grep -o '/[^ ]*') \
		$(ldconfig -p | awk '/libgcc_s\.so\.1 .*x86-64/ { print $NF; exit }'); do
		[ -e "$root$lib" ] && continue
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
	done
}

# modules_closure MODULE...: the .ko paths (relative to the release's module
# dir) of MODULEs and everything they depend on, from modules.dep. The
# names may be compressed (.ko.zst, .ko.xz, .ko.gz: Ubuntu's modules are
# zstd'd and depmod writes them so).
modules_closure() {
	local dep=$KERNEL_DIR/modules/lib/modules/$KERNEL_RELEASE/modules.dep
	local todo=("$@") seen=" " m path line
	while [ ${#todo[@]} -gt 0 ]; do
		m=${todo[0]}
		todo=("${todo[@]:1}")
		m=${m//_/-}
		line=$(grep -E "(^|/)(${m}|${m//-/_})\.ko(\.(zst|xz|gz))?:" "$dep") ||
			{ boot_die "module $m not in $dep"; return 1; }
		path=${line%%:*}
		case $seen in *" $path "*) continue ;; esac
		seen+="$path "
		echo "$path"
		for path in ${line#*:}; do
			path=${path##*/}
			todo+=("${path%%.ko*}")
		done
	done
}

# boot_initramfs: the test initramfs (cpio newc, gzip) with busybox,
# $COCO_UNLOCK and its libraries, cryptsetup (for the manual mode),
# efi_secret and dm-crypt with their dependencies, and tests/boot/init.
# With BOOT_PLUGIN=FILE, the coco-efi-secret token plugin FILE too, where
# libcryptsetup looks (a fixture of its own, initrd-plugin.img); with
# BOOT_EXTRA_MODULES="M ...", those modules too (initrd-modules.img).
# Sets INITRD. Needs boot_kernel first.
boot_initramfs() {
	FIX=$BOOT_WORK/fixtures
	local fx=initrd${BOOT_PLUGIN:+-plugin}${BOOT_EXTRA_MODULES:+-modules}
	INITRD=$FIX/$fx.img
	mkdir -p "$FIX"
	[ -x "$COCO_UNLOCK" ] || { boot_die "no coco-unlock binary at $COCO_UNLOCK"; return 1; }
	local inputs=("$BOOT_SRC/lib.sh" "$BOOT_SRC/init" "$COCO_UNLOCK" /bin/busybox
		"$KERNEL_DIR" "$(command -v cryptsetup || echo none)" ${BOOT_PLUGIN:+"$BOOT_PLUGIN"}
		"modules=${BOOT_EXTRA_MODULES:-}")
	(
		flock 8
		fixture_fresh "$fx" "${inputs[@]}" && exit 0
		local start=$SECONDS root=$FIX/$fx-tree m moddir lib
		rm -rf "$root" "$FIX/$fx.stamp"
		mkdir -p "$root"/{proc,sys,dev,run/cryptsetup,tmp,newroot,etc,mnt}
		busybox_tree "$root" || exit 1
		install -m 0755 "$BOOT_SRC/init" "$root/init"
		copy_with_libs "$root" "$COCO_UNLOCK" sbin/coco-unlock || exit 1
		if command -v cryptsetup >/dev/null; then
			copy_with_libs "$root" "$(command -v cryptsetup)" sbin/cryptsetup || exit 1
		fi
		if [ -n "${BOOT_PLUGIN:-}" ]; then
			# The directory compiled into libcryptsetup (strings of the library).
			lib=$(ldconfig -p | awk '/libcryptsetup\.so\.12 .*x86-64/ { print $NF; exit }')
			lib=$(strings "$lib" | grep -m1 -E '^/(usr/)?lib[^ ]*/cryptsetup$') ||
				{ boot_die "libcryptsetup names no plugin directory"; exit 1; }
			copy_with_libs "$root" "$BOOT_PLUGIN" "$lib/libcryptsetup-token-coco-efi-secret.so" || exit 1
		fi
		# coco-unlock logs to /dev/kmsg when this file exists.
		printf 'NAME="coco-unlock boot test initramfs"\nID=coco-test\n' >"$root/etc/initrd-release"
		moddir=lib/modules/$KERNEL_RELEASE
		mkdir -p "$root/$moddir"
		# shellcheck disable=SC2086 # module names as words
		for m in $(modules_closure efi_secret dm_crypt ${BOOT_EXTRA_MODULES:-}); do
			install -D -m 0644 "$KERNEL_DIR/modules/$moddir/$m" "$root/$moddir/$m"
		done
		cp "$KERNEL_DIR/modules/$moddir"/modules.{order,builtin,builtin.modinfo} "$root/$moddir/"
		/sbin/depmod -b "$root" "$KERNEL_RELEASE" || exit 1
		(cd "$root" && find . -mindepth 1 | LC_ALL=C sort |
			cpio --quiet -o -H newc -R 0:0 | gzip -6 >"$INITRD.tmp") || exit 1
		mv "$INITRD.tmp" "$INITRD"
		rm -rf "$root"
		fixture_done "$fx" "${inputs[@]}"
		boot_log "initramfs made in $((SECONDS - start)) s: $(stat -c %s "$INITRD") bytes"
	) 8>"$FIX/$fx.lock"
}

# mkinitcpio_image IMG HOOK...: an initramfs built and laid out as mkinitcpio
# builds one (tests/boot/mkinitcpio/build-image.sh runs the hooks' build()),
# with $COCO_UNLOCK as the binary the install hook takes (*.static for the
# static build). The build's output is IMG.out, its call log IMG.log.
mkinitcpio_image() {
	local img=$1 dir bin
	shift
	dir=$(dirname "$img")/bin
	mkdir -p "$dir"
	if ldd "$COCO_UNLOCK" >/dev/null 2>&1; then
		bin=$dir/coco-unlock
	else
		bin=$dir/coco-unlock.static
	fi
	cp "$COCO_UNLOCK" "$bin"
	env TOP="$TOP" KERNEL_DIR="$KERNEL_DIR" KERNEL_RELEASE="$KERNEL_RELEASE" COCO_UNLOCK_BINARY="$bin" \
		"$BOOT_SRC/mkinitcpio/build-image.sh" "$img" "$@" >"$img.out" 2>&1
}

# ---------------------------------------------------------------------------
# The ESP

# esp_image IMG CMDLINE [TABLE]: a FAT image (no partition table) holding
# \EFI\BOOT\BOOTX64.EFI (coco-inject.efi), \vmlinuz, \initrd.img,
# \coco\cmdline.txt and, when TABLE is given, \coco\secret-table.masked
# (TABLE masked as coco-inject.efi expects).
esp_image() {
	local img=$1 cmdline=$2 table=${3:-} tmp
	rm -f "$img"
	# ESP_MIB: room for a distribution's kernel and initramfs (Ubuntu's).
	truncate -s "${ESP_MIB:-48}M" "$img"
	mkfs.fat -F 16 -n COCO-ESP "$img" >/dev/null || { boot_die "mkfs.fat failed"; return 1; }
	tmp=$(mktemp)
	printf '%s\n' "$cmdline" >"$tmp"
	export MTOOLS_SKIP_CHECK=1
	if ! { mmd -i "$img" ::/EFI ::/EFI/BOOT ::/coco &&
		mcopy -i "$img" "$INJECTOR" ::/EFI/BOOT/BOOTX64.EFI &&
		mcopy -i "$img" "$KERNEL_DIR/bzImage" ::/vmlinuz &&
		mcopy -i "$img" "$INITRD" ::/initrd.img &&
		mcopy -i "$img" "$tmp" ::/coco/cmdline.txt; }; then
		rm -f "$tmp"
		boot_die "mtools failed on $img"
		return 1
	fi
	rm -f "$tmp"
	if [ -n "$table" ]; then
		# Masked (tools/coco-inject): no plain copy in the firmware's caches.
		# Either step failing is the failure (A && B || C on purpose).
		# shellcheck disable=SC2015
		python3 -c 'import sys
data = open(sys.argv[1], "rb").read()
open(sys.argv[2], "wb").write(bytes(b ^ ((167 * i + 13) & 255) for i, b in enumerate(data)))' \
			"$table" "$img.masked" &&
			mcopy -i "$img" "$img.masked" ::/coco/secret-table.masked ||
			{ rm -f "$img.masked"; boot_die "mtools failed on $img"; return 1; }
		rm -f "$img.masked"
	fi
}

# The kernel command line every test boot starts with; tests add theirs.
BOOT_CMDLINE_BASE="initrd=\\initrd.img console=ttyS0 panic=1 rd.coco.timeout=15"

# ---------------------------------------------------------------------------
# One VM run

# boot_vm LOG ESP [DISK...]: boots q35/OVMF under TCG with ESP as the first
# virtio disk and each DISK after it (all with snapshot=on: the images are
# never written), serial console to LOG, at most $BOOT_TIMEOUT seconds. The
# guest powers itself off; a kernel panic, a failed injector or the
# timeout end the run too, and make it fail. BOOT_LIVE=1 shows the console
# while it runs.
# Sets BOOT_SECONDS.
# boot_qemu_start SERIAL ESP [DISK...]: starts QEMU in the background:
# q35/OVMF under TCG, ESP as the first virtio disk and each DISK after it
# (all snapshot=on: the images are never written), the serial console as
# SERIAL (a -serial argument), at most $BOOT_TIMEOUT seconds, with
# BOOT_SMP vCPUs (default 1) and BOOT_MEM_MIB MiB (default 1024). Sets
# QEMU_PID, QEMU_VARS (the writable OVMF variables, remove after) and
# QEMU_START (ns). QEMU's own messages go to QEMU_LOG.
boot_qemu_start() {
	local serial=$1 esp=$2 d
	shift 2
	local drives=(-drive "if=virtio,format=raw,snapshot=on,file=$esp") qemu_extra=()
	# A DISK may be blkdebug:RULES:IMAGE, QEMU's error injection (fault boots).
	for d in "$@"; do
		drives+=(-drive "if=virtio,format=raw,snapshot=on,file=$d")
	done
	# BOOT_QEMU_ARGS: more QEMU arguments, as words (a hot-plug port, say).
	# shellcheck disable=SC2206
	[ -n "${BOOT_QEMU_ARGS:-}" ] && qemu_extra=($BOOT_QEMU_ARGS)
	QEMU_VARS=$(mktemp --suffix=.fd)
	cp "$OVMF_VARS" "$QEMU_VARS"
	# A QMP socket when a test drives the VM (memory dumps, hot-plug).
	local qmp=()
	if [ -n "${QMP_SOCK:-}" ]; then
		rm -f "$QMP_SOCK"
		qmp=(-qmp "unix:$QMP_SOCK,server=on,wait=off")
	fi
	QEMU_START=$(date +%s%N)
	timeout --kill-after=5 "$BOOT_TIMEOUT" qemu-system-x86_64 \
		-nodefaults -machine q35 -accel tcg -cpu max -smp "${BOOT_SMP:-1}" -m "${BOOT_MEM_MIB:-1024}" "${qmp[@]}" \
		-display none -no-reboot -no-user-config \
		-drive "if=pflash,format=raw,unit=0,readonly=on,file=$OVMF_CODE" \
		-drive "if=pflash,format=raw,unit=1,file=$QEMU_VARS" \
		"${drives[@]}" "${qemu_extra[@]}" \
		-device virtio-rng-pci \
		-serial "$serial" >"$QEMU_LOG" 2>&1 &
	QEMU_PID=$!
}

# boot_seconds_since NS: seconds (one decimal) since the date +%s%N value NS.
boot_seconds_since() {
	local ms=$(( ($(date +%s%N) - $1) / 1000000 ))
	echo "$((ms / 1000)).$(printf '%03d' $((ms % 1000)) | cut -c1)"
}

boot_vm() {
	local log=$1 esp=$2 qpid tpid rc=0
	shift 2
	: >"$log"
	QEMU_LOG=$log.qemu boot_qemu_start "file:$log" "$esp" "$@"
	qpid=$QEMU_PID
	if [ "${BOOT_LIVE:-0}" = 1 ]; then
		# Ends by itself when QEMU does.
		tail -n +1 -f --pid="$qpid" "$log" |
			sed -u 's/\r//g; s/\x1b\[[0-9;:?=]*[a-zA-Z]//g; s/\x1b[()][0-9A-Z]//g' &
		tpid=$!
	fi
	# Ends the run early on outcomes that would otherwise wait for the
	# timeout: the injector returned to the firmware, or the kernel gave up.
	# With BOOT_DUMP=FILE, when the guest says DUMP-READY (cocotest.dump),
	# the VM is stopped, its whole memory dumped to FILE through QMP
	# (dump-guest-memory, paging off) and QEMU told to quit.
	local early='' dumped=0
	while kill -0 "$qpid" 2>/dev/null; do
		early=$(grep -aoE 'coco-inject: failed|Kernel panic|GUEST-DONE-NOPOWEROFF' "$log" | head -n 1)
		if [ -n "$early" ]; then
			sleep 1
			kill "$qpid" 2>/dev/null # timeout passes it on to QEMU
			break
		fi
		if [ -n "${BOOT_DUMP:-}" ] && [ "$dumped" = 0 ] && grep -aq '^DUMP-READY' "$log"; then
			dumped=1
			rm -f "$BOOT_DUMP"
			"$BOOT_SRC/qmp.py" "$QMP_SOCK" stop \
				"dump-guest-memory={\"paging\":false,\"protocol\":\"file:$BOOT_DUMP\"}" quit ||
				boot_log "the memory dump through QMP failed"
		fi
		sleep 0.5
	done
	wait "$qpid" || rc=$?
	[ -n "${tpid:-}" ] && wait "$tpid"
	rm -f "$QEMU_VARS"
	BOOT_SECONDS=$(boot_seconds_since "$QEMU_START")
	# The serial log has CRs and firmware escape sequences: keep a clean copy.
	# (':' too: systemd 257 colours its debug lines with ESC[0;38:5:245m.)
	tr -d '\r' <"$log" | sed 's/\x1b\[[0-9;:?=]*[a-zA-Z]//g' >"$log.txt"
	if [ -n "$early" ]; then
		boot_log "the run was ended early on '$early'"
		return 1
	fi
	if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
		boot_log "QEMU timed out after ${BOOT_TIMEOUT}s"
		return 1
	fi
	if [ "$rc" != 0 ]; then
		boot_log "QEMU failed (status $rc): $(tail -n 3 "$log.qemu")"
		return 1
	fi
	return 0
}

# ---------------------------------------------------------------------------
# Helpers for test scripts

# boot_setup NAME: everything a scenario needs, built or reused, and a fresh
# run directory RUN=$BOOT_RUNS/NAME (default $BOOT_WORK/runs/NAME).
boot_setup() {
	RUN=$BOOT_RUNS/$1
	rm -rf "$RUN"
	mkdir -p "$RUN"
	[ -f "$INJECTOR" ] || { boot_die "no $INJECTOR (make coco-inject)"; return 1; }
	boot_kernel && boot_disks && boot_initramfs
}

# boot_scenario NAME CMDLINE_EXTRA TABLE|- [DISK...]: makes the ESP and
# boots; the clean serial log is $RUN/serial.txt.
boot_scenario() {
	local name=$1 extra=$2 table=$3
	shift 3
	[ "$table" = - ] && table=
	esp_image "$RUN/esp.img" "$BOOT_CMDLINE_BASE $extra" "$table" || return 1
	boot_vm "$RUN/serial.log" "$RUN/esp.img" "$@" || return 1
	cp "$RUN/serial.log.txt" "$RUN/serial.txt"
	boot_log "$name: VM run took ${BOOT_SECONDS}s (log: $RUN/serial.txt)"
	boot_drop_serial "$name"
}

# boot_drop_serial NAME: with BOOT_DROP_SERIAL=1, the serial logs of the
# run just made are deleted before any check reads them: a deliberately
# vacuous run, which must turn every check of that log into "not ok"
# (tests/boot/test-vacuous.sh).
boot_drop_serial() {
	[ "${BOOT_DROP_SERIAL:-0}" = 1 ] || return 0
	rm -f "$RUN/serial.log" "$RUN/serial.log.txt" "$RUN/serial.txt"
	echo "# BOOT-SERIAL-DROPPED $1"
}

# serial_has PATTERN: the serial log has a line matching the ERE PATTERN.
serial_has() {
	grep -aqE -- "$1" "$RUN/serial.txt"
}

# serial_value KEY: the value of the first KEY=value line.
serial_value() {
	grep -aoE -- "$1=[^ ]*" "$RUN/serial.txt" | head -n 1 | cut -d= -f2
}

# serial_show [PATTERN]: the lines of the log that matter, as TAP comments.
serial_show() {
	grep -aE -- "${1:-INIT-START|COCO-UNLOCK|coco-unlock|coco-inject|efi_secret|SECRET|MAPPED|FALLBACK|ROOT-OK|VOLUME-|Kernel panic|CocoSecret}" \
		"$RUN/serial.txt" | sed 's/^/#   /'
}

# ---------------------------------------------------------------------------
# TAP checks on the serial log (tests/lib/tap.sh must be sourced)

# tap_serial NAME PATTERN / tap_serial_not NAME PATTERN
tap_serial() {
	tap_check "$1" serial_has "$2"
}

# A check for something's absence on the console needs the proof that the
# guest ran: the log exists, is not empty and reached the guest's own end
# marker (every init of the harness prints GUEST-DONE before power-off).
BOOT_END_MARKER=${BOOT_END_MARKER:-^GUEST-DONE$}
tap_serial_not() {
	tap_absent "$1" "$RUN/serial.txt" "$2" "$BOOT_END_MARKER"
}

# tap_boot NAME CMDLINE_EXTRA TABLE|- [DISK...]: boots (boot_scenario),
# reports the run and the power-off as two checks, shows the log's lines
# that matter as comments.
tap_boot() {
	local name=$1
	if boot_scenario "$@"; then
		tap_ok "$name: the VM ran to its end (${BOOT_SECONDS}s)"
	else
		tap_not_ok "$name: the VM run failed or timed out (${BOOT_SECONDS:-?}s)"
	fi
	[ -f "$RUN/serial.txt" ] || cp "$RUN/serial.log.txt" "$RUN/serial.txt" 2>/dev/null || : >"$RUN/serial.txt"
	serial_show ''
	tap_serial "$name: the guest reached its end (${BOOT_END_MARKER})" "$BOOT_END_MARKER"
}

# tap_no_secret_bytes KEYFILE...: no key's bytes (nor a 12-byte piece of
# them) appear on the console of a guest that ran to its end.
tap_no_secret_bytes() {
	tap_absent_bytes "no secret bytes on the console" "$RUN/serial.txt" "$BOOT_END_MARKER" "$@"
}

# tap_less_than NAME LIMIT VALUE: VALUE is a number below LIMIT.
tap_less_than() {
	if [ -n "$3" ] && [ "$3" -lt "$2" ] 2>/dev/null; then
		tap_ok "$1 ($3 < $2)"
	else
		tap_not_ok "$1 (got '$3', limit $2)"
	fi
}

# boot_test_start NAME: the start of every boot test: fixtures or bail out.
boot_test_start() {
	if ! boot_setup "$1"; then
		tap_not_ok "$1: boot fixtures (kernel, disks, initramfs, injector)"
		tap_done
		exit 1
	fi
}

# ---------------------------------------------------------------------------
# Hot-plug: the disk comes while coco-unlock waits (tests/boot/test-faults.sh,
# tests/bench/bench-hotplug.sh)

# boot_hotplug IMG CMDLINE_EXTRA TABLE [DELAY]: boots with an empty PCIe
# root port and a QMP socket; DELAY s (default 5) after coco-unlock says
# it waits, IMG is plugged into the port as a virtio-blk disk (QMP
# blockdev-add, device_add). Sets HOTPLUG_PLUGGED (1 once plugged) and
# HOTPLUG_RC (boot_vm's status); the clean log is $RUN/serial.txt.
boot_hotplug() {
	local img=$1 extra=$2 table=$3 delay=${4:-5} vm
	# Read by the test after the call (test-faults.sh).
	# shellcheck disable=SC2034
	HOTPLUG_PLUGGED=0 HOTPLUG_RC=1
	: >"$RUN/serial.txt"
	# pcie_ports=native: the test kernel has no ASPM, so it does not ask the
	# firmware for PCIe control (_OSC); native hot-plug needs it.
	esp_image "$RUN/esp.img" "$BOOT_CMDLINE_BASE $extra pcie_ports=native" "$table" || return 1
	QMP_SOCK=$RUN/qmp.sock BOOT_QEMU_ARGS="-global ICH9-LPC.acpi-pci-hotplug-with-bridge-support=off -device pcie-root-port,id=rp1,chassis=1,slot=1" \
		boot_vm "$RUN/serial.log" "$RUN/esp.img" &
	vm=$!
	# shellcheck disable=SC2034 # HOTPLUG_PLUGGED, read by the test
	for _ in $(seq 600); do
		if grep -aq 'coco-unlock: waiting up to' "$RUN/serial.log" 2>/dev/null; then
			sleep "$delay"
			"$BOOT_SRC/qmp.py" "$RUN/qmp.sock" \
				"blockdev-add={\"driver\":\"raw\",\"node-name\":\"hp0\",\"file\":{\"driver\":\"file\",\"filename\":\"$img\"}}" \
				'device_add={"driver":"virtio-blk-pci","drive":"hp0","id":"hpdisk","bus":"rp1"}' &&
				HOTPLUG_PLUGGED=1
			break
		fi
		sleep 0.2
	done
	wait "$vm"
	# shellcheck disable=SC2034
	HOTPLUG_RC=$?
	cp "$RUN/serial.log.txt" "$RUN/serial.txt" 2>/dev/null || : >"$RUN/serial.txt"
}

# hotplug_times: kernel times (s) from $RUN/serial.txt: HOTPLUG_SEEN_AT,
# virtio_blk's line for the plugged disk; HOTPLUG_PICKED_AT, coco-unlock's
# first line after it; HOTPLUG_UNLOCKED_AT, its "unlocked" line. Empty
# when not found.
hotplug_times() {
	HOTPLUG_SEEN_AT=$(grep -aoE '^\[ *[0-9]+\.[0-9]+\] virtio_blk [^ ]*: \[vd[b-z]\]' "$RUN/serial.txt" |
		head -n 1 | grep -oE '[0-9]+\.[0-9]+' | head -n 1)
	# shellcheck disable=SC2034 # read by the test and the bench
	HOTPLUG_UNLOCKED_AT=$(grep -aE 'coco-unlock: luks-.*: unlocked' "$RUN/serial.txt" |
		grep -oE '^\[ *[0-9]+\.[0-9]+\]' | head -n 1 | tr -d '[] ')
	# shellcheck disable=SC2034
	HOTPLUG_PICKED_AT=$(awk -v seen="${HOTPLUG_SEEN_AT:-x}" '
		seen != "x" && /^\[ *[0-9]+\.[0-9]+\] coco-unlock: / {
			t = $0; sub(/^\[ */, "", t); sub(/\].*/, "", t)
			if (t + 0 > seen + 0) { print t; exit }
		}' "$RUN/serial.txt")
}
