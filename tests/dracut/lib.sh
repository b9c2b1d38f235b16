# shellcheck shell=bash
# dracut boot tests (issue 5): initramfs images built by the host's real
# dracut (059) with the module dracut-module/91coco-unlock, booted in the
# QEMU harness of tests/boot/lib.sh (sourced here; its functions and
# fixtures are reused, nothing in it is changed).
#
# Environment as for tests/boot: TOP, BUILD, CACHE, COCO_UNLOCK.
# Everything made here lives in $DRACUT_WORK (default $BUILD/dracut):
#   (a private copy of /usr/lib/dracut with our module added, the
#   dracutbasedir, lives in a temporary directory: nothing is installed
#   on the host)
#   fixtures/    the encrypted root variant (the data volume is the
#                harness's data.img)
#   images/      initramfs images, cached by the hash of their inputs
#   runs/NAME/   one directory per boot (serial log)
#
# Serial lines added to the harness protocol (by the root's /sbin/init
# wrapper made here, before it runs tests/boot/root-init):
#   ROOT-UPTIME <seconds>    /proc/uptime when the real root's init starts

# A dracut boot that works takes 15-40 s under TCG; one that hangs at a
# prompt must not hold `make check` for the harness's 180 s.
BOOT_TIMEOUT=${BOOT_TIMEOUT:-90}
. "$TOP/tests/boot/lib.sh"

if [ "$KERNEL_SERIES" = 6.1 ]; then
	DRACUT_WORK=${DRACUT_WORK:-$BUILD/dracut}
else
	DRACUT_WORK=${DRACUT_WORK:-$BUILD/dracut-$KERNEL_SERIES}
fi
DRACUT_RUNS=${DRACUT_RUNS:-$DRACUT_WORK/runs}
DRACUT_MODULE_SRC=${DRACUT_MODULE_SRC:-$TOP/dracut-module/91coco-unlock}
# Constants for the test scripts.
# shellcheck disable=SC2034
# Secrets of the data volume: a GUID of its own.
GUID_DATA=8a3c1f0e-5b7d-4e2a-9c61-0d4f2b8e7a15
# The test kernel command line for a dracut image: the harness's base plus
# an end to a failed boot that does not wait for QEMU's timeout.
DRACUT_CMDLINE_BASE="rd.shell=0 rd.emergency=poweroff printk.time=1"
# shellcheck disable=SC2034
ROOT_MAPPER=luks-$ROOT_UUID

dracut_log() { echo "# dracut: $*" >&2; }

# dracut_base: a temporary copy of /usr/lib/dracut plus our module, removed
# when the shell exits. Not under $BUILD: the top Makefile includes every
# "*.d" there, and dracut's tree has modules.d.
dracut_base() {
	DRACUT_BASE_TMP=$(mktemp -d "${TMPDIR:-/tmp}/coco-dracut.XXXXXX") || return 1
	trap 'rm -rf "$DRACUT_BASE_TMP"' EXIT
	DRACUT_BASE=$DRACUT_BASE_TMP/dracut
	cp -a /usr/lib/dracut "$DRACUT_BASE" || return 1
	cp -a "$DRACUT_MODULE_SRC" "$DRACUT_BASE/modules.d/91coco-unlock" || return 1
}

# dracut_fixtures: the root variant (same UUID and key as the harness's
# root.img, plus /etc/os-release, which systemd's switch-root wants, and
# the /sbin/init wrapper that prints ROOT-UPTIME), and the data volume
# (the harness's data.img). Sets DFIX.
dracut_fixtures() {
	DFIX=$DRACUT_WORK/fixtures
	mkdir -p "$DFIX"
	boot_kernel && boot_disks || return 1
	local inputs=("$BOOT_SRC/lib.sh" "$BOOT_SRC/root-init" "$TOP/tests/dracut/lib.sh" "$FIX/root.key")
	(
		flock 8
		fixture_fresh_d root "${inputs[@]}" && exit 0
		local tree=$DFIX/root-tree
		root_tree "$tree" root || exit 1
		mv "$tree/sbin/init" "$tree/sbin/root-init"
		cat >"$tree/sbin/init" <<-'EOF'
		#!/bin/sh
		# dracut tests: when the real root starts, then the harness's root-init.
		[ -r /proc/uptime ] || mount -t proc proc /proc
		read -r up _ </proc/uptime
		echo "ROOT-UPTIME $up"
		exec /sbin/root-init "$@"
		EOF
		chmod 0755 "$tree/sbin/init"
		printf 'NAME="coco-unlock test root"\nID=coco-test\nPRETTY_NAME="coco-unlock test root"\n' \
			>"$tree/etc/os-release"
		luks_image "$DFIX/root.img" "$tree" "$ROOT_UUID" "$FIX/root.key" || exit 1
		rm -rf "$tree"
		fixture_hash "${inputs[@]}" >"$DFIX/root.stamp"
	) 8>"$DFIX/root.lock"
}

fixture_fresh_d() {
	local name=$1
	shift
	[ -f "$DFIX/$name.stamp" ] && [ "$(cat "$DFIX/$name.stamp")" = "$(fixture_hash "$@")" ]
}

# The dracut options every image shares: nothing from the host's dracut
# configuration, the test kernel's modules, gzip.
dracut_common_opts() {
	local kmoddir=$KERNEL_DIR/modules/lib/modules/$KERNEL_RELEASE
	DRACUT_OPTS=(--force --quiet --conf "$DRACUT_WORK/empty.conf" --confdir "$DRACUT_WORK/empty-confdir"
		--kver "$KERNEL_RELEASE" --kmoddir "$kmoddir" --compress gzip
		--no-early-microcode --nomdadmconf --nolvmconf --no-hostonly-cmdline
		--omit "plymouth i18n btrfs lvm mdraid dmraid multipath nfs iscsi nbd fcoe network")
}

# dracut_image NAME [--guest-crypttab FILE] DRACUT-ARG...: builds (or reuses)
# $DRACUT_WORK/images/NAME.img with COCO_UNLOCK as the module's binary;
# sets IMAGE. --guest-crypttab: dracut sees FILE as /etc/crypttab
# (dracut_with_crypttab; the host's /etc is untouched). The module also
# sees COCO_UNLOCK_PLUGIN (the token plugin to add) and
# coco_unlock_service (no: leave coco-unlock.service out) when set.
dracut_image() {
	local name=$1 crypttab='' hash
	shift
	if [ "${1:-}" = --guest-crypttab ]; then
		crypttab=$2
		shift 2
	fi
	mkdir -p "$DRACUT_WORK/images" "$DRACUT_WORK/empty-confdir"
	: >"$DRACUT_WORK/empty.conf"
	dracut_common_opts
	IMAGE=$DRACUT_WORK/images/$name.img
	# shellcheck disable=SC2046 # one word per file of the module
	hash=$(fixture_hash "${DRACUT_OPTS[@]}" "$@" "$COCO_UNLOCK" "$KERNEL_DIR" \
		"${crypttab:-no-crypttab}" $(find "$DRACUT_MODULE_SRC" -type f | LC_ALL=C sort) \
		"plugin=${COCO_UNLOCK_PLUGIN:-}" ${COCO_UNLOCK_PLUGIN:+"$COCO_UNLOCK_PLUGIN"} \
		"service=${coco_unlock_service:-}" \
		"$(dpkg-query -W -f='${Version}' dracut-core 2>/dev/null)")
	if [ -f "$IMAGE" ] && [ "$(cat "$IMAGE.stamp" 2>/dev/null)" = "$hash" ]; then
		return 0
	fi
	[ -n "${DRACUT_BASE:-}" ] || dracut_base || return 1
	local start=$SECONDS log=$DRACUT_WORK/images/$name.log
	rm -f "$IMAGE" "$IMAGE.stamp"
	local cmd=(env dracutbasedir="$DRACUT_BASE" COCO_UNLOCK_BINARY="$COCO_UNLOCK"
		COCO_UNLOCK_PLUGIN="${COCO_UNLOCK_PLUGIN:-}" coco_unlock_service="${coco_unlock_service:-}"
		"$DRACUT_BASE/dracut.sh" "${DRACUT_OPTS[@]}" "$@" "$IMAGE.tmp")
	[ -x "$DRACUT_BASE/dracut.sh" ] || cmd[5]=$(command -v dracut)
	if [ -n "$crypttab" ]; then
		dracut_with_crypttab "$crypttab" "${cmd[@]}" >"$log" 2>&1
	else
		"${cmd[@]}" >"$log" 2>&1
	fi || { boot_die "dracut failed for $name (log: $log)"; tail -n 20 "$log" >&2; return 1; }
	mv "$IMAGE.tmp" "$IMAGE"
	echo "$hash" >"$IMAGE.stamp"
	dracut_log "$name: image made in $((SECONDS - start)) s, $(stat -c %s "$IMAGE") bytes"
}

# dracut_with_crypttab FILE COMMAND...: runs COMMAND where /etc/crypttab is
# FILE, without touching the host's /etc and without needing anything there
# (a fresh machine has no /etc/crypttab to bind a file over). In a private
# mount namespace (unshare -m: our mounts die with it and never reach the
# host), a private tmpfs holds an overlay's upper layer with the guest's
# crypttab; the overlay of it on the host's /etc is mounted over /etc, so
# dracut reads everything else in /etc as it is. Not root: a user
# namespace as well (unshare -r), where overlayfs is allowed since 5.11.
# dracut's --sysroot would do it too, but it also takes every binary from
# that root, so it would need a whole guest system.
dracut_with_crypttab() {
	local crypttab=$1 ns=(-m --propagation private) t rc=0
	shift
	[ "$(id -u)" = 0 ] || ns=(-r "${ns[@]}")
	t=$(mktemp -d "${TMPDIR:-/tmp}/coco-etc.XXXXXX") || return 1
	# shellcheck disable=SC2016 # expanded by the inner sh
	unshare "${ns[@]}" sh -euc '
		t=$1 crypttab=$2
		shift 2
		mount -t tmpfs -o mode=0700 coco-crypttab "$t"
		mkdir "$t/upper" "$t/work"
		cp "$crypttab" "$t/upper/crypttab"
		chmod 0600 "$t/upper/crypttab"
		mount -t overlay -o "lowerdir=/etc,upperdir=$t/upper,workdir=$t/work" coco-etc /etc
		exec "$@"' sh "$t" "$crypttab" "$@" || rc=$?
	rmdir "$t"
	return $rc
}

# dracut_test_start NAME: fixtures or bail out; sets RUN.
dracut_test_start() {
	RUN=$DRACUT_RUNS/$1
	rm -rf "$RUN"
	mkdir -p "$RUN"
	if ! { [ -f "$INJECTOR" ] && [ -x "$COCO_UNLOCK" ] && dracut_fixtures; }; then
		tap_not_ok "$1: fixtures (kernel, disks, injector, coco-unlock)"
		tap_done
		exit 1
	fi
}

# dracut_boot NAME IMAGE CMDLINE_EXTRA TABLE|- [DISK...]: tap_boot with
# IMAGE as the initramfs.
dracut_boot() {
	local name=$1
	INITRD=$2
	shift 2
	tap_boot "$name" "$DRACUT_CMDLINE_BASE $1" "${@:2}"
}

# dracut_boot_typed NAME IMAGE CMDLINE_EXTRA TABLE|- PROMPT_ERE KEYFILE [DISK...]:
# like dracut_boot, but the serial console is a pair of FIFOs (QEMU's
# pipe: chardev) instead of a file: when a line matching PROMPT_ERE shows
# up, KEYFILE's bytes are typed there followed by Enter, once. Then the
# run goes on as boot_vm's does. Sets PROMPT_SECONDS (host time from the
# start of QEMU to the prompt, empty if it never came). The key is never
# written to any log (the prompts do not echo it; tap_no_secret_bytes
# checks).
dracut_boot_typed() {
	local name=$1 extra=$3 table=$4 prompt=$5 key=$6
	# shellcheck disable=SC2034 # read by esp_image (tests/boot/lib.sh)
	INITRD=$2
	shift 6
	[ "$table" = - ] && table=
	esp_image "$RUN/esp.img" "$BOOT_CMDLINE_BASE $DRACUT_CMDLINE_BASE $extra" "$table" || return 1
	local log=$RUN/serial.log pipe=$RUN/console qpid cpid start rc=0 ok=1
	rm -f "$pipe.in" "$pipe.out"
	mkfifo -m 0600 "$pipe.in" "$pipe.out"
	: >"$log"
	QEMU_LOG=$log.qemu boot_qemu_start "pipe:$pipe" "$RUN/esp.img" "$@"
	qpid=$QEMU_PID start=$QEMU_START
	# Our ends of the FIFOs: read-write opens never block.
	exec 8<>"$pipe.out" 9<>"$pipe.in"
	cat <&8 >>"$log" &
	cpid=$!
	PROMPT_SECONDS=
	while kill -0 "$qpid" 2>/dev/null; do
		if [ -z "$PROMPT_SECONDS" ] && tr -d '\r' <"$log" | grep -aqE -- "$prompt"; then
			PROMPT_SECONDS=$(boot_seconds_since "$start")
			sleep 1
			{ cat "$key"; printf '\r'; } >&9
			dracut_log "$name: prompt after ${PROMPT_SECONDS}s, passphrase typed"
		fi
		if grep -aqE 'coco-inject: failed|Kernel panic|GUEST-DONE-NOPOWEROFF' "$log"; then
			sleep 1
			kill "$qpid" 2>/dev/null
			ok=0
			break
		fi
		sleep 0.5
	done
	wait "$qpid" || rc=$?
	sleep 0.5
	kill "$cpid" 2>/dev/null
	wait "$cpid" 2>/dev/null
	exec 8<&- 9>&-
	rm -f "$QEMU_VARS" "$pipe.in" "$pipe.out"
	BOOT_SECONDS=$(boot_seconds_since "$start")
	tr -d '\r' <"$log" | sed 's/\x1b\[[0-9;?=]*[a-zA-Z]//g' >"$RUN/serial.txt"
	boot_drop_serial "$name"
	[ "$rc" = 0 ] || ok=0
	if [ "$ok" = 1 ]; then
		tap_ok "$name: the VM ran to its end (${BOOT_SECONDS}s)"
	else
		tap_not_ok "$name: the VM run failed or timed out (status $rc, ${BOOT_SECONDS}s)"
	fi
	serial_show ''
	tap_serial "$name: the guest reached its end (${BOOT_END_MARKER})" "$BOOT_END_MARKER"
}

# kmsg_time_before ERE: the kernel timestamp (whole seconds) of the last
# "[ N.N ]" line before the first line matching ERE in the serial log.
kmsg_time_before() {
	awk -v re="$1" '
		$0 ~ re { print t; exit }
		match($0, /^\[ *[0-9]+\.[0-9]+\]/) { t = substr($0, 2, RLENGTH - 2); sub(/^ */, "", t); sub(/\..*/, "", t) }
	' "$RUN/serial.txt"
}

# dracut_no_failed_unit: no unit failed, but for the line dracut-ng 102
# and later (Debian 13's 106) print for an rd.luks.uuid= volume: its
# initqueue starts systemd-cryptsetup@ under a name whose backslashes it
# lost ("luksx2d..."), a unit that cannot exist (dracut-ng issue 451).
# The generator's own systemd-cryptsetup@luks\x2d... unit is checked apart.
dracut_no_failed_unit() {
	grep -avE 'dracut-initqueue\[[0-9]+\]: Failed to start systemd-cryptsetup@luksx2d[0-9a-fx]+\.service: Unit systemd-cryptsetup@luksx2d[0-9a-fx]+\.service not found\.$' \
		"$RUN/serial.txt" >"$RUN/serial-but-451.txt" 2>/dev/null
	tap_absent "no failed unit" "$RUN/serial-but-451.txt" 'FAILED|Failed to start' "$BOOT_END_MARKER"
}
