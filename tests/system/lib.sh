# shellcheck shell=bash
# Real-system boot tests (issue 12): a Debian 12 system made with
# debootstrap, with coco-unlock's package installed by apt, the test
# kernel's modules, and the initramfs made inside it by the distribution's
# own command (update-initramfs, dracut); its root file system in a LUKS2
# image, booted in the QEMU harness of tests/boot/lib.sh (sourced here)
# with the injected secret.
#
# Environment as for tests/boot: TOP, BUILD, CACHE, plus DEB (the package;
# default $BUILD/deb/coco-unlock_VERSION_amd64.deb). Root only (debootstrap,
# chroot, mounts in a private namespace).
#
# Made here:
#   $CACHE/debian-root-VARIANT-KEY/   the debootstrapped root (make-root.sh),
#                                     keyed by make-root.sh, the mirror and
#                                     debootstrap's version; made once
#   $SYS_WORK/VARIANT/                the system made from it: root.img
#                                     (LUKS2), initrd.img and
#                                     initrd-without.img (the same system's
#                                     image before the package), sizes;
#                                     root-removed.img, initrd-removed.img
#                                     (the package removed again), remove.log;
#                                     remade when an input changes
#   $SYS_WORK/runs/VARIANT-NAME/      one directory per boot
#
# Serial lines of the real root's report (tests/system/report, run by a
# systemd unit after multi-user.target), besides the harness's:
#   REAL-PID1 <comm>            what runs as PID 1
#   REAL-ROOT <source>          what / is mounted from
#   SYSTEM-STATE <state>        systemctl is-system-running --wait
#   FAILED-UNIT <unit>          one per failed unit
#   JOURNAL: <line>             journalctl -b -t coco-unlock
#   JOURNAL-LINES <n>           how many lines the whole journal has
#   root: SECRET-GONE|SECRET-PRESENT <guid>, root: SECRETS-DIR present|absent
#   GUEST-DONE                  before systemctl poweroff
# The whole journal, in journalctl's export format (every field), is
# written gzip'd to the third disk, for the secret-bytes check.

# A real Debian boot under TCG takes 35-50 s here; a prompt that no one
# answers (a broken happy path) must not hold make check much longer.
BOOT_TIMEOUT=${BOOT_TIMEOUT:-180}
. "$TOP/tests/boot/lib.sh"
. "$TOP/tests/dracut/lib.sh"

SYS_SRC=$TOP/tests/system
SYS_WORK=${SYS_WORK:-$BUILD/system}
# The release of the system: bookworm (Debian 12, on the test kernel 6.1),
# trixie (Debian 13, on the test kernel 6.12: built from Debian 12's
# linux-source-6.12, not from trixie's), noble (Ubuntu 24.04 LTS) and
# resolute (Ubuntu 26.04 LTS), on Ubuntu's own kernels.
SYS_SUITE=${SYS_SUITE:-bookworm}
case $SYS_SUITE in
noble | resolute) SYS_DISTRO=ubuntu ;;
*) SYS_DISTRO=debian ;;
esac
# Ubuntu's archive (this machine's apt knows Debian's only).
UBUNTU_MIRROR=${UBUNTU_MIRROR:-http://archive.ubuntu.com/ubuntu}
# The root's file system: the debootstrapped system (about 220-260 MiB) and
# room for a boot's journal and logs.
# Ubuntu's root (its kernel's modules, linux-modules-extra) about 480 MiB.
if [ "$SYS_DISTRO" = ubuntu ]; then
	SYS_FS_MIB=${SYS_FS_MIB:-800}
else
	SYS_FS_MIB=${SYS_FS_MIB:-400}
fi

sys_log() { echo "# system: $*" >&2; }

# sys_mirror: the archive of SYS_SUITE: for Debian the one this machine's
# apt uses (its bookworm entry, whatever the suite), for Ubuntu UBUNTU_MIRROR.
sys_mirror() {
	if [ "$SYS_DISTRO" = ubuntu ]; then
		echo "$UBUNTU_MIRROR"
	else
		"$TOP/scripts/apt-sources.sh" bookworm | head -n 1
	fi
}

# sys_keyring: sets SYS_KEYRING to the keyring debootstrap checks the
# archive with: Debian's (installed here) or Ubuntu's archive keyring,
# from Debian's own ubuntu-keyring package (trixie has it, bookworm does
# not), fetched once with apt through a private trixie list and
# unpacked under $CACHE/ubuntu-keyring; the system's apt is not touched.
sys_keyring() {
	SYS_KEYRING=
	[ "$SYS_DISTRO" = ubuntu ] || return 0
	local dir=$CACHE/ubuntu-keyring mirror
	SYS_KEYRING=$dir/usr/share/keyrings/ubuntu-archive-keyring.gpg
	[ -s "$SYS_KEYRING" ] && return 0
	mirror=$("$TOP/scripts/apt-sources.sh" bookworm | head -n 1) || return 1
	local apt=$CACHE/apt-trixie
	mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial"
	echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror trixie main" >"$apt/sources.list"
	local o=(-o "Dir::Etc::SourceList=$apt/sources.list" -o Dir::Etc::SourceParts=-
		-o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache"
		-o Dir::State::status=/dev/null -o APT::Sandbox::User="$(id -un)" -o Debug::NoLocking=1)
	sys_log "Ubuntu's archive keyring: Debian's ubuntu-keyring from trixie (once)"
	# Either step failing is the failure (A && B || C on purpose).
	# shellcheck disable=SC2015
	apt-get "${o[@]}" -q update >"$apt/update.log" 2>&1 &&
		(cd "$apt/cache/archives" && apt-get "${o[@]}" -q download ubuntu-keyring) >>"$apt/update.log" 2>&1 ||
		{ tail -n 5 "$apt/update.log" >&2; boot_die "could not fetch ubuntu-keyring (log: $apt/update.log)"; return 1; }
	rm -rf "$dir"
	local deb=''
	for deb in "$apt"/cache/archives/ubuntu-keyring_*.deb; do :; done
	if ! dpkg-deb -x "$deb" "$dir" || [ ! -s "$SYS_KEYRING" ]; then
		boot_die "no $SYS_KEYRING in ubuntu-keyring"
		return 1
	fi
}

# sys_base_root VARIANT: sets BASE_ROOT to the cached debootstrapped root,
# making it when the cache has none (2-4 minutes, downloads).
sys_base_root() {
	local variant=$1 mirror key
	mirror=$(sys_mirror) && sys_keyring || return 1
	key=$({
		echo "$variant $SYS_SUITE $mirror"
		sha256sum <"$SYS_SRC/make-root.sh"
		dpkg-query -W -f='${Version}\n' debootstrap
	} | sha256sum | cut -c1-16)
	BASE_ROOT=$CACHE/$SYS_DISTRO-root-$SYS_SUITE-$variant-$key
	mkdir -p "$CACHE"
	(
		flock 9
		[ -e "$BASE_ROOT/.complete" ] && exit 0
		sys_log "debootstrap $SYS_SUITE ($variant) from $mirror into $BASE_ROOT (once)"
		local start=$SECONDS
		if ! "$SYS_SRC/make-root.sh" "$variant" "$BASE_ROOT" "$mirror" "$SYS_SUITE" ${SYS_KEYRING:+"$SYS_KEYRING"} \
			>"$BASE_ROOT.log" 2>&1; then
			tail -n 20 "$BASE_ROOT.log" >&2
			boot_die "debootstrap failed (log: $BASE_ROOT.log)"
			exit 1
		fi
		sys_log "root made in $((SECONDS - start)) s: $(du -sm "$BASE_ROOT" | cut -f1) MiB"
	) 9>"$BASE_ROOT.lock"
}

# sys_deb: sets DEB to the package, or fails saying how to make it. On
# another release than Debian 12 the package is built for that release
# (sys_release_deb).
sys_deb() {
	local f
	if [ "$SYS_SUITE" != bookworm ]; then
		sys_release_deb
		return
	fi
	if [ -z "${DEB:-}" ]; then
		# make deb empties the directory first: one version in it.
		for f in "$BUILD"/deb/coco-unlock_*_amd64.deb; do DEB=$f; done
	fi
	if [ -z "${DEB:-}" ] || [ ! -f "$DEB" ]; then
		boot_die "no package in $BUILD/deb (make deb)"
		return 1
	fi
}

# sys_release_deb: sets DEB to the package built inside a root of
# SYS_SUITE (tests/system/build-deb.sh: that release's build dependencies,
# dpkg-shlibdeps and lintian), in $SYS_WORK/deb-SUITE; made again when a
# tracked file of the tree or the build root changes. The build root is
# cached like the test roots ($CACHE/DISTRO-root-SUITE-build-KEY); its
# build dependencies are installed into it by the first build.
sys_release_deb() {
	local out=$SYS_WORK/deb-$SYS_SUITE stamp_value
	sys_base_root build || return 1
	mkdir -p "$out"
	stamp_value=$(cd "$TOP" && { echo "$BASE_ROOT"; git ls-files -co --exclude-standard -z |
		xargs -0 sha256sum; } | sha256sum | cut -c1-16)
	(
		flock 8
		[ "$(cat "$out.stamp" 2>/dev/null)" = "$stamp_value" ] && exit 0
		sys_log "$SYS_SUITE: building the package in $BASE_ROOT (log: $out.log)"
		local start=$SECONDS
		if ! TOP=$TOP CACHE=$CACHE "$SYS_SRC/build-deb.sh" "$BASE_ROOT" "$out" >"$out.log" 2>&1; then
			tail -n 25 "$out.log" >&2
			boot_die "$SYS_SUITE: the package build failed (log: $out.log)"
			exit 1
		fi
		echo "$stamp_value" >"$out.stamp"
		sys_log "$SYS_SUITE: package built in $((SECONDS - start)) s"
	) 8>"$out.lock" || return 1
	local d
	DEB=''
	for d in "$out"/coco-unlock_*_amd64.deb; do [ -f "$d" ] && DEB=$d; done
	[ -n "$DEB" ] || { boot_die "no package in $out"; return 1; }
}

# sys_system VARIANT: the system of that variant, built or reused; sets
# SYS_DIR (its directory: root.img, initrd.img, initrd-without.img,
# build.log). Its inputs: the base root, the package, the kernel, the root
# key and the scripts that make it.
sys_system() {
	local variant=$1
	SYS_DIR=$SYS_WORK/$variant
	[ "$SYS_SUITE" != bookworm ] && SYS_DIR=$SYS_WORK/$SYS_SUITE-$variant
	mkdir -p "$SYS_DIR"
	if [ "$SYS_DISTRO" = ubuntu ]; then
		boot_disks && sys_deb && sys_base_root "$variant" && sys_distro_kernel || return 1
	else
		boot_kernel && boot_disks && sys_deb && sys_base_root "$variant" || return 1
	fi
	local inputs=("$BASE_ROOT" "$DEB" "$KERNEL_DIR" "$FIX/root.key" "$SYS_SRC/lib.sh"
		"$SYS_SRC/build-system.sh" "$SYS_SRC/report" "$BOOT_SRC/lib.sh" "$SYS_FS_MIB")
	(
		flock 8
		stamp=$SYS_DIR/system.stamp
		[ -f "$stamp" ] && [ "$(cat "$stamp")" = "$(fixture_hash "${inputs[@]}")" ] && exit 0
		local start=$SECONDS tree=$SYS_DIR/tree
		rm -rf "$tree" "$stamp" "$SYS_DIR"/*.img
		sys_log "$variant: building the system (log: $SYS_DIR/build.log)"
		cp -a "$BASE_ROOT" "$tree" && rm -f "$tree/.complete" || exit 1
		if ! "$SYS_SRC/build-system.sh" "$variant" "$tree" "$SYS_DIR" "$KERNEL_DIR" "$DEB" \
			"$ROOT_UUID" >"$SYS_DIR/build.log" 2>&1; then
			tail -n 25 "$SYS_DIR/build.log" >&2
			boot_die "$variant: building the system failed (log: $SYS_DIR/build.log)"
			exit 1
		fi
		sys_log "$variant: system built in $((SECONDS - start)) s; $(du -sm "$tree" | cut -f1) MiB"
		luks_image "$SYS_DIR/root.img" "$tree" "$ROOT_UUID" "$FIX/root.key" "$SYS_FS_MIB" || exit 1
		# Then the package removed, as an admin would (its trigger makes
		# the initramfs again): the removal boot's system.
		if ! "$SYS_SRC/build-system.sh" "$variant" "$tree" "$SYS_DIR" "$KERNEL_DIR" "$DEB" \
			"$ROOT_UUID" remove >"$SYS_DIR/remove.log" 2>&1; then
			tail -n 25 "$SYS_DIR/remove.log" >&2
			boot_die "$variant: removing the package failed (log: $SYS_DIR/remove.log)"
			exit 1
		fi
		luks_image "$SYS_DIR/root-removed.img" "$tree" "$ROOT_UUID" "$FIX/root.key" "$SYS_FS_MIB" || exit 1
		rm -rf "$tree"
		fixture_hash "${inputs[@]}" >"$stamp"
		sys_log "$variant: system and LUKS2 image made in $((SECONDS - start)) s"
	) 8>"$SYS_DIR/system.lock"
}

# sys_distro_kernel: the distribution's own kernel, installed in the base
# root by make-root.sh, as the harness wants it: sets KERNEL_DIR
# ($SYS_DIR/kernel: bzImage, config, release; no modules/, which tells
# build-system.sh the root has them) and KERNEL_RELEASE.
sys_distro_kernel() {
	local v
	KERNEL_DIR=$SYS_DIR/kernel
	KERNEL_RELEASE=''
	for v in "$BASE_ROOT"/lib/modules/*; do [ -d "$v" ] && KERNEL_RELEASE=${v##*/}; done
	v=$BASE_ROOT/boot/vmlinuz-$KERNEL_RELEASE
	if [ -z "$KERNEL_RELEASE" ] || [ ! -f "$v" ]; then
		boot_die "no kernel in $BASE_ROOT"
		return 1
	fi
	mkdir -p "$KERNEL_DIR"
	cmp -s "$v" "$KERNEL_DIR/bzImage" || cp "$v" "$KERNEL_DIR/bzImage"
	echo "$KERNEL_RELEASE" >"$KERNEL_DIR/release"
}

# sys_run NAME: a fresh run directory RUN=$SYS_WORK/runs/VARIANT-NAME, with the
# output disk the report writes the journal to (out.img, 32 MiB, the only
# disk QEMU may write: the root image stays as it is).
sys_run() {
	RUN=$SYS_WORK/runs/${SYS_DIR##*/}-$1
	rm -rf "$RUN"
	mkdir -p "$RUN"
	truncate -s 32M "$RUN/out.img"
	SYS_QEMU_ARGS="-drive if=virtio,format=raw,file=$RUN/out.img"
}

# sys_plugin_disk: for the next boot, a data disk (/dev/vdd) for the token
# plugin in the running system (the report's PLUGIN lines): LUKS2 with a
# marker file ($PLUG_MARK), enrolled by coco-secret with a coco-efi-secret
# token (and its MAC) naming GUID_PLUG, whose secret is $RUN/plug.key.
GUID_PLUG=5c0c0e5e-7a1b-4c2d-9e3f-0a1b2c3d4e5f
sys_plugin_disk() {
	PLUG_MARK=coco-plug-$(od -An -tx1 -N6 /dev/urandom | tr -d ' \n')
	mkdir -p "$RUN/plug-tree"
	echo "$PLUG_MARK" >"$RUN/plug-tree/marker"
	random_key "$RUN/plug-first.key"
	luks_image "$RUN/plug.img" "$RUN/plug-tree" "$(cat /proc/sys/kernel/random/uuid)" \
		"$RUN/plug-first.key" 8 &&
		"$COCO_SECRET" enroll "$RUN/plug.img" --guid "$GUID_PLUG" --generate "$RUN/plug.key" \
			--unlock-key-file "$RUN/plug-first.key" >"$RUN/plug-enroll.out" 2>&1
	tap_is "coco-secret enrolled the plugin's data disk" 0 "$?"
	SYS_QEMU_ARGS="$SYS_QEMU_ARGS -drive if=virtio,format=raw,file=$RUN/plug.img"
}

# sys_plugin_checks: the running system opened the data disk through the
# plugin, with cryptsetup --token-only and with systemd-cryptsetup.
sys_plugin_checks() {
	tap_serial "cryptsetup open --token-only opened the data disk through the plugin" \
		'^PLUGIN: TOKEN-ONLY opened$'
	tap_serial "... and its file system is the owner's (marker read)" "^PLUGIN: TOKEN-ONLY marker $PLUG_MARK\$"
	tap_serial "systemd-cryptsetup attach opened it through the plugin, headless" \
		'^PLUGIN: SYSTEMD-CRYPTSETUP opened$'
	tap_serial "... and its file system is the owner's (marker read)" \
		"^PLUGIN: SYSTEMD-CRYPTSETUP marker $PLUG_MARK\$"
}

# sys_boot NAME CMDLINE_EXTRA TABLE: boots $SYS_DIR's kernel, initramfs and
# root image (tap_boot: two checks), then unpacks the exported journal as
# $RUN/journal.export.
sys_boot() {
	INITRD=$SYS_DIR/initrd.img
	BOOT_QEMU_ARGS=$SYS_QEMU_ARGS tap_boot "$1" "$2" "$3" "$SYS_DIR/root.img"
	sys_journal
}

# sys_boot_typed NAME CMDLINE_EXTRA TABLE PROMPT_ERE KEYFILE: the same with
# KEYFILE typed at the first line matching PROMPT_ERE (dracut_boot_typed).
# SYS_REMOVED=1: the system with the package removed.
sys_boot_typed() {
	local s=
	[ "${SYS_REMOVED:-}" = 1 ] && s=-removed
	BOOT_QEMU_ARGS=$SYS_QEMU_ARGS dracut_boot_typed "$1" "$SYS_DIR/initrd$s.img" \
		"$2" "$3" "$4" "$5" "$SYS_DIR/root$s.img"
	sys_journal
}

# sys_journal: the journal the guest wrote to out.img (gzip, zero-padded),
# or an empty file when there is none.
sys_journal() {
	gzip -dc <"$RUN/out.img" >"$RUN/journal.export" 2>/dev/null || :
}

# ---------------------------------------------------------------------------
# Checks

# sys_test_start VARIANT: the system or bail out; sets SYS_VARIANT and
# SYS_MAPPER (the root's mapping name). These boots run on Debian 12's
# 6.1 only: each costs minutes, and the kernel line is what the harness's
# boots already cover twice (make check's time budget).
sys_test_start() {
	SYS_VARIANT=$1
	case $SYS_VARIANT in
	initramfs-tools) SYS_MAPPER=root ;;
	dracut) SYS_MAPPER=luks-$ROOT_UUID ;;
	esac
	# Each release's boots run in one kernel phase: Debian 12's and
	# Ubuntu's (its own kernel) in 6.1's, Debian 13's in 6.12's.
	local series=6.1
	[ "$SYS_SUITE" = trixie ] && series=6.12
	if [ "$KERNEL_SERIES" != "$series" ]; then
		tap_skip "real-system boot ($SYS_VARIANT, $SYS_SUITE) on $KERNEL_SERIES" \
			"$SYS_SUITE's real-system boots run on kernel $series only (time budget)"
		tap_done
		exit 0
	fi
	if [ "$(id -u)" != 0 ]; then
		tap_skip "real-system boot ($SYS_VARIANT)" "needs root (debootstrap, chroot)"
		tap_done
		exit 0
	fi
	if ! { [ -f "$INJECTOR" ] && sys_system "$SYS_VARIANT"; }; then
		tap_not_ok "$SYS_VARIANT: the system (debootstrap, package, kernel, initramfs, LUKS2 image)"
		tap_done
		exit 1
	fi
	tap_ok "$SYS_VARIANT ($SYS_SUITE, kernel $KERNEL_RELEASE): the system is built (log: $SYS_DIR/build.log)"
}

# sys_list IMAGE: the files of an initramfs, by the generator's own lister.
sys_list() {
	case $SYS_VARIANT in
	initramfs-tools) lsinitramfs "$1" ;;
	dracut) lsinitrd "$1" | awk '{ print $NF }' ;;
	esac
}

# sys_lacks LIST WORD: LIST (a listing that is not empty) never says WORD.
sys_lacks() {
	[ -s "$1" ] && ! grep -q -- "$2" "$1"
}

# sys_image_checks: the image has coco-unlock and the same system's image
# made before the package did not; their sizes.
sys_image_checks() {
	sys_list "$SYS_DIR/initrd.img" >"$SYS_DIR/initrd.list" 2>/dev/null
	sys_list "$SYS_DIR/initrd-without.img" >"$SYS_DIR/initrd-without.list" 2>/dev/null
	tap_check "the initramfs has coco-unlock" grep -q 'usr/sbin/coco-unlock$' "$SYS_DIR/initrd.list"
	tap_check "the initramfs has efi_secret" grep -q 'efi_secret\.ko' "$SYS_DIR/initrd.list"
	tap_check "the image made before the package has no coco-unlock" \
		sys_lacks "$SYS_DIR/initrd-without.list" coco-unlock
	SIZE_WITH=$(stat -c %s "$SYS_DIR/initrd.img")
	SIZE_WITHOUT=$(stat -c %s "$SYS_DIR/initrd-without.img")
	tap_diag "initramfs: $SIZE_WITHOUT bytes without coco-unlock, $SIZE_WITH with it" \
		"(+$((SIZE_WITH - SIZE_WITHOUT)))"
}

# sys_removed_image_checks CRYPT_ERE: the package's removal made the image
# again (its trigger, in remove.log), without coco-unlock, with the
# distribution's own unlocking (CRYPT_ERE, a file of the listing).
sys_removed_image_checks() {
	sys_list "$SYS_DIR/initrd-removed.img" >"$SYS_DIR/initrd-removed.list" 2>/dev/null
	tap_check "apt-get remove: the trigger made the initramfs again" \
		grep -q "Generating /boot/initrd.img-$KERNEL_RELEASE" "$SYS_DIR/remove.log"
	tap_check "the image after the removal has no coco-unlock" \
		sys_lacks "$SYS_DIR/initrd-removed.list" coco-unlock
	tap_check "the image after the removal still unlocks the root ($1)" \
		grep -qE -- "$1" "$SYS_DIR/initrd-removed.list"
}

# Units that fail in these guests for reasons of the test machine, not of
# coco-unlock (none so far).
SYS_EXPECTED_FAILED=${SYS_EXPECTED_FAILED:-}

# sys_state_ok: the real system is running, or degraded with only
# SYS_EXPECTED_FAILED units failed.
sys_state_ok() {
	local state unit
	state=$(grep -aoE '^SYSTEM-STATE [a-z-]+' "$RUN/serial.txt" | head -n 1 | cut -d' ' -f2)
	[ "$state" = running ] && return 0
	[ "$state" = degraded ] || return 1
	while read -r _ unit; do
		case " $SYS_EXPECTED_FAILED " in *" $unit "*) ;; *) return 1 ;; esac
	done < <(grep -aE '^FAILED-UNIT ' "$RUN/serial.txt")
}

# sys_real_root_checks: systemd in the real root, multi-user reached.
sys_real_root_checks() {
	tap_serial "systemd runs as PID 1 in the real root" '^REAL-PID1 systemd$'
	tap_serial "the real root is the mapping" "^REAL-ROOT /dev/mapper/$SYS_MAPPER\$"
	grep -aE '^(SYSTEM-STATE|FAILED-UNIT) ' "$RUN/serial.txt" | sed 's/^/#   /'
	tap_check "systemctl is-system-running: running (or degraded by expected units only)" sys_state_ok
}

# sys_real_system_checks COCO_ERE: sys_real_root_checks, coco-unlock's line
# COCO_ERE in journalctl -b, the used secret gone.
sys_real_system_checks() {
	sys_real_root_checks
	tap_serial "journalctl -b has coco-unlock's lines" "^JOURNAL: .*$1"
	tap_serial "the used secret is gone, seen from the real system" "^root: SECRET-GONE $GUID_DISK\$"
}

# sys_journal_no_secret_bytes KEYFILE...: no key's bytes in any field of
# the boot's journal (the export the guest wrote; MESSAGE= proves it is one).
sys_journal_no_secret_bytes() {
	tap_absent_bytes "no secret bytes in the journal (every field)" "$RUN/journal.export" '^MESSAGE=' "$@"
}

# sys_figures TEXT: the sizes and TEXT, for the record.
sys_figures() {
	echo "${SYS_DIR##*/}: initramfs ${SIZE_WITHOUT:-?} bytes without coco-unlock, ${SIZE_WITH:-?} with it; $*" |
		tee "$SYS_WORK/figures-${SYS_DIR##*/}.txt" | sed 's/^/# FIGURE: /'
}
