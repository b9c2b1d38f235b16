#!/usr/bin/env bash
# mkinitcpio-hook/install/sd-coco-unlock (images whose init is systemd)
# against mkinitcpio's build contract, with the recording stand-ins of
# tests/mkinitcpio/lib.sh: the binary, the modules, its two units as files
# with the links that enable them, the systemd targets they are ordered
# against; that it refuses a busybox-init image and a place before
# `systemd`; what help() says; what the unit files say.
# Shell code in single quotes runs in another shell, on purpose.
# shellcheck disable=SC2016
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/lib/tap.sh"
. "$TOP/tests/mkinitcpio/lib.sh"

HOOK=$TOP/mkinitcpio-hook/install/sd-coco-unlock
UNITS=$TOP/mkinitcpio-hook/coco-unlock
SYSUNITS=/usr/lib/systemd/system
T=$(mktemp -d "${TMPDIR:-/tmp}/coco-mkinitcpio-sd.XXXXXX")
trap 'rm -rf "$T"' EXIT
mkdir -p "$T/lib" "$T/bin"
printf '\177ELF fake static\n' >"$T/lib/coco-unlock.static"
printf '\177ELF fake dynamic\n' >"$T/bin/coco-unlock"
chmod 0755 "$T/lib/coco-unlock.static" "$T/bin/coco-unlock"

# Arch's default mkinitcpio.conf, with sd-coco-unlock before sd-encrypt.
ARCH_HOOKS="base systemd autodetect microcode modconf kms keyboard sd-vconsole block sd-coco-unlock sd-encrypt filesystems fsck"
run_build() {
	local out=$1
	shift
	mkinitcpio_build "$HOOK" "$out" "$@"
}

tap_check "sd hook: bash syntax" bash -n "$HOOK"
tap_is "sd hook: sourcing it only defines build, help and the shared helpers" \
	"_coco_unlock_add _coco_unlock_binary _coco_unlock_systemd_init build help " \
	"$(defined_functions "$HOOK")"
tap_check "sd hook: no run-time script (systemd runs units, not run_hook)" \
	test ! -e "$TOP/mkinitcpio-hook/hooks/sd-coco-unlock"

# --- Arch's default image ------------------------------------------------------
R=$T/arch
run_build "$R" COCO_UNLOCK_BINARY="$T/lib/coco-unlock.static" HOOKS_LIST="$ARCH_HOOKS" SYSTEMD_HOOK_SOURCED=1
tap_is "systemd image: build() succeeds" 0 "$(cat "$R.rc")"
tap_empty "systemd image: no error, no die" "$R.rc" "$(grep -E '^(die|error) ' "$R")"
tap_empty "systemd image: nothing printed" "$R.rc" "$(cat "$R.stdout" "$R.stderr")"
tap_is "systemd image: the static binary, as /usr/bin/coco-unlock" \
	"$T/lib/coco-unlock.static /usr/bin/coco-unlock" "$(calls "$R" add_binary)"
for m in efi_secret dm-crypt; do
	tap_check "systemd image: module $m" has_line "$R" "add_module $m"
done
tap_absent "systemd image: no AF_ALG module (the static build's crypto is user space)" \
	"$R" '(af_alg|algif_)'
tap_check "systemd image: the kernel's ciphers" has_line "$R" "add_all_modules /crypto/"
tap_check "systemd image: cryptsetup-pre.target (coco-unlock.service orders before it)" \
	has_line "$R" "add_systemd_unit cryptsetup-pre.target"
tap_check "systemd image: initrd-switch-root.target (the wipe orders before it)" \
	has_line "$R" "add_systemd_unit initrd-switch-root.target"
for u in coco-unlock.service coco-unlock-wipe.service; do
	src=$(calls "$R" add_file | awk -v d="$SYSUNITS/$u" '$2 == d { print $1 }')
	tap_check "systemd image: $u added as $SYSUNITS/$u from the hook's unit directory" \
		cmp -s "$src" "$UNITS/$u"
	tap_check "systemd image: $u with mode 644" grep -qE "^add_file [^ ]+ $SYSUNITS/$u 644\$" "$R"
done
src=$(calls "$R" add_file | awk '$2 == "/usr/bin/coco-unlock-fail-closed" && $3 == 755 { print $1 }')
tap_check "systemd image: the fail-closed helper (coco-unlock.service's ExecStopPost=) as /usr/bin/coco-unlock-fail-closed, mode 755" \
	cmp -s "$src" "$UNITS/coco-unlock-fail-closed"
tap_is "systemd image: coco-unlock.service loads dm-crypt before it starts, and no AF_ALG module" \
	"-/usr/bin/modprobe -a -q dm-crypt" "$(sed -n 's/^ExecStartPre=//p' "$UNITS/coco-unlock.service")"
tap_check "systemd image: coco-unlock.service enabled (sysinit.target.wants)" \
	has_line "$R" "add_symlink $SYSUNITS/sysinit.target.wants/coco-unlock.service ../coco-unlock.service"
tap_check "systemd image: the wipe enabled (initrd-switch-root.target.wants)" \
	has_line "$R" "add_symlink $SYSUNITS/initrd-switch-root.target.wants/coco-unlock-wipe.service ../coco-unlock-wipe.service"
tap_empty "systemd image: no run-time script" "$R.rc" "$(grep '^add_runscript' "$R")"
if ls /usr/lib/*/cryptsetup/libcryptsetup-token-coco-efi-secret.so \
	/usr/lib/cryptsetup/libcryptsetup-token-coco-efi-secret.so >/dev/null 2>&1; then
	tap_skip "systemd image: no token plugin asked for while none is installed" "a plugin is installed on this machine"
else
	tap_empty "systemd image: no token plugin asked for while none is installed" "$R.rc" "$(grep 'token' "$R")"
fi
unexpected=$(grep -vxE "add_binary .*|add_module (efi_secret|dm-crypt)|add_all_modules /crypto/|map add_systemd_unit .*|add_systemd_unit (cryptsetup-pre|initrd-switch-root)\.target|add_file [^ ]+/coco-unlock(-wipe)?\.service $SYSUNITS/coco-unlock(-wipe)?\.service 644|add_file [^ ]+/coco-unlock-fail-closed /usr/bin/coco-unlock-fail-closed 755|add_symlink $SYSUNITS/[a-z-]+\.target\.wants/coco-unlock(-wipe)?\.service \.\./coco-unlock(-wipe)?\.service" "$R" || true)
tap_empty "systemd image: nothing else asked for" "$R" "$unexpected"

# coco-unlock.service's ExecStopPost= helper is a shell script: an image
# without the `base` hook (busybox) needs a /bin/sh (/usr/bin/sh: mkinitcpio
# makes /bin a link to usr/bin).
mkdir -p "$T/buildroot-base/usr/bin" "$T/buildroot-nobase"
ln -s busybox "$T/buildroot-base/usr/bin/sh"
R=$T/nobase
run_build "$R" COCO_UNLOCK_BINARY="$T/lib/coco-unlock.static" HOOKS_LIST="${ARCH_HOOKS/base /}" \
	SYSTEMD_HOOK_SOURCED=1 BUILDROOT="$T/buildroot-nobase"
tap_check "systemd image without base: a shell for the helper (add_binary sh /usr/bin/sh)" \
	has_line "$R" "add_binary sh /usr/bin/sh"
R=$T/withbase
run_build "$R" COCO_UNLOCK_BINARY="$T/lib/coco-unlock.static" HOOKS_LIST="$ARCH_HOOKS" \
	SYSTEMD_HOOK_SOURCED=1 BUILDROOT="$T/buildroot-base"
tap_is "systemd image with base's busybox sh: no other shell" \
	"$T/lib/coco-unlock.static /usr/bin/coco-unlock" "$(calls "$R" add_binary)"

# The token plugin, where this machine's libcryptsetup looks for it.
printf '\177ELF fake plugin\n' >"$T/lib/plugin.so"
R=$T/plugin
run_build "$R" COCO_UNLOCK_BINARY="$T/lib/coco-unlock.static" COCO_UNLOCK_PLUGIN="$T/lib/plugin.so" \
	HOOKS_LIST="$ARCH_HOOKS" SYSTEMD_HOOK_SOURCED=1
libdir=.
for l in /usr/lib/*/libcryptsetup.so.12 /usr/lib/libcryptsetup.so.12; do
	[ -e "$l" ] && { libdir=$(dirname "$l"); break; }
done
tap_check "systemd image: the token plugin where libcryptsetup looks ($libdir/cryptsetup)" \
	has_line "$R" "add_binary $T/lib/plugin.so $libdir/cryptsetup/libcryptsetup-token-coco-efi-secret.so"

# --- refusals --------------------------------------------------------------------
R=$T/busybox
run_build "$R" COCO_UNLOCK_BINARY="$T/lib/coco-unlock.static" \
	HOOKS_LIST="base udev autodetect modconf block sd-coco-unlock encrypt filesystems fsck"
tap_is "busybox init: the build stops (die)" 1 "$(cat "$R.rc")"
tap_check "busybox init: the error names coco-unlock" grep -q "^die .*use 'coco-unlock' instead" "$R"
tap_empty "busybox init: nothing added" "$R.rc" "$(grep '^add_' "$R")"
R=$T/before-systemd
run_build "$R" COCO_UNLOCK_BINARY="$T/lib/coco-unlock.static" \
	HOOKS_LIST="base sd-coco-unlock systemd block sd-encrypt filesystems"
tap_is "before systemd (no add_systemd_unit yet): the build stops" 1 "$(cat "$R.rc")"
tap_check "before systemd: the error says where to put it" grep -q "^die .*after 'systemd'" "$R"
tap_empty "before systemd: nothing added" "$R.rc" "$(grep '^add_' "$R")"
R=$T/missing
run_build "$R" COCO_UNLOCK_BINARY="$T/nonexistent" HOOKS_LIST="$ARCH_HOOKS" SYSTEMD_HOOK_SOURCED=1
if [ -e /usr/lib/coco-unlock/coco-unlock.static ] || [ -e /usr/bin/coco-unlock ] ||
	[ -e /usr/sbin/coco-unlock ]; then
	tap_skip "missing binary: error, no units" "coco-unlock is installed on this machine"
else
	tap_check "missing binary: the error names the paths, no units added" \
		bash -c 'grep -q "^error coco-unlock not found" "$1" && ! grep -q "^add_file" "$1"' _ "$R"
fi

# --- the units -------------------------------------------------------------------
# unit_has UNIT KEY=VALUE: the unit file has that line.
unit_has() {
	grep -qxF -- "$2" "$UNITS/$1"
}
U=coco-unlock.service
tap_check "$U: runs /usr/bin/coco-unlock (where build() puts it)" unit_has $U "ExecStart=/usr/bin/coco-unlock"
tap_check "$U: after udev's trigger" unit_has $U "After=systemd-udev-trigger.service systemd-modules-load.service"
tap_check "$U: before cryptsetup-pre.target (so before every systemd-cryptsetup@)" \
	unit_has $U "Before=cryptsetup-pre.target"
tap_check "$U: pulls cryptsetup-pre.target in (a passive target)" unit_has $U "Wants=cryptsetup-pre.target"
tap_check "$U: no default dependencies (else an ordering cycle with sysinit.target)" \
	unit_has $U "DefaultDependencies=no"
tap_check "$U: a volume left closed (1) or no secrets (3) is not a failed unit" \
	unit_has $U "SuccessExitStatus=1 3"
tap_check "$U: only in an initrd" unit_has $U "ConditionPathExists=/etc/initrd-release"
# rd.coco.on-failure=poweroff whatever ends coco-unlock: the helper runs
# after the process ends (killed, timed out, exit 2 too), before the start
# job ends and so before any systemd-cryptsetup@ prompt. Not FailureAction=,
# which would power off on every failure, asked for or not.
tap_check "$U: ExecStopPost= runs the fail-closed helper with systemd's variables" \
	unit_has $U "ExecStopPost=/usr/bin/coco-unlock-fail-closed --systemd /etc/crypttab /proc/cmdline"
tap_check "$U: no FailureAction= or OnFailure= (they would not ask the owner)" \
	bash -c '! grep -qE "^(FailureAction|OnFailure)=" "$1"' _ "$UNITS/$U"
# That command line, run as systemd would after a SIGKILL, in a fake image
# (chroot: BusyBox, a recording poweroff, no real one).
. "$TOP/tests/initramfs-tools/lib.sh"
R=$T/root
if it_busybox_root "$R" && it_chroot_probe "$R"; then
	mkdir -p "$R/usr/bin" "$R/proc"
	cp "$UNITS/coco-unlock-fail-closed" "$R/usr/bin/coco-unlock-fail-closed"
	it_poweroff_stub "$R"
	stoppost=$(sed -n 's/^ExecStopPost=//p' "$UNITS/$U")
	for c in "rd.luks.uuid=11111111-1111-4111-8111-111111111111 rd.coco.on-failure=poweroff" \
		"rd.luks.uuid=11111111-1111-4111-8111-111111111111"; do
		echo "$c" >"$R/proc/cmdline"
		: >"$R/log"
		# shellcheck disable=SC2086 # IT_CHROOT, and the command line, are words
		(env -i PATH=/usr/bin:/bin:/usr/sbin:/sbin IT_SETSID=1 SERVICE_RESULT=signal EXIT_CODE=killed \
			EXIT_STATUS=KILL setsid -w $IT_CHROOT "$R" /bin/sh -c "$stoppost; echo returned >>/log" \
			>"$T/out" 2>&1
		:) 2>/dev/null
		case $c in
		*poweroff) tap_is "$U: killed, rd.coco.on-failure=poweroff: ExecStopPost= powers off" \
			"poweroff -f -f" "$(joined "$R/log")" ;;
		*) tap_is "$U: killed, nothing asked: ExecStopPost= returns (the prompt, as before)" \
			"returned" "$(joined "$R/log")" ;;
		esac
	done
else
	tap_skip "$U: ExecStopPost= run" "no static BusyBox or no chroot here"
fi
U=coco-unlock-wipe.service
tap_check "$U: runs coco-unlock --wipe-only" unit_has $U "ExecStart=/usr/bin/coco-unlock --wipe-only"
tap_check "$U: before initrd-switch-root.target" unit_has $U "Before=initrd-switch-root.target"
tap_check "$U: after coco-unlock.service" grep -qE '^After=.*coco-unlock\.service' "$UNITS/$U"
tap_check "$U: no default dependencies" unit_has $U "DefaultDependencies=no"
tap_check "$U: a failed wipe (exit 4) shows as a failed unit" \
	bash -c '! grep -q "^SuccessExitStatus" "$1"' _ "$UNITS/$U"

# --- help() (mkinitcpio -H sd-coco-unlock) ---------------------------------------
help_text=$(hook_help "$HOOK")
tap_check "help: a HOOKS line with systemd, and sd-coco-unlock before sd-encrypt" \
	grep -qE '^ *HOOKS=\(base systemd .* sd-coco-unlock sd-encrypt .*\)' <<<"$help_text"
for w in rd.luks.uuid= rd.luks.name= /etc/crypttab cryptsetup-pre.target --wipe-only "'coco-unlock'"; do
	tap_check "help: mentions $w" grep -qF -- "$w" <<<"$help_text"
done
tap_check "help: is its own, not install/coco-unlock's" bash -c '! grep -q "before .encrypt." <<<"$1"' _ "$help_text"
tap_check "help of coco-unlock is unchanged by sourcing order" \
	grep -q "Place it before 'encrypt'" <<<"$(hook_help "$TOP/mkinitcpio-hook/install/coco-unlock")"

tap_done
