#!/usr/bin/env bash
# mkinitcpio-hook/install/coco-unlock against mkinitcpio's build contract
# (mkinitcpio is not packaged by Debian), with the recording stand-ins of
# tests/mkinitcpio/lib.sh: what build() asks for, that it refuses an image
# whose init is systemd, and what help() says.
# Shell code in single quotes runs in another shell, on purpose.
# shellcheck disable=SC2016
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/lib/tap.sh"
. "$TOP/tests/mkinitcpio/lib.sh"

HOOK=$TOP/mkinitcpio-hook/install/coco-unlock
RUNHOOK=$TOP/mkinitcpio-hook/hooks/coco-unlock
T=$(mktemp -d "${TMPDIR:-/tmp}/coco-mkinitcpio-test.XXXXXX")
trap 'rm -rf "$T"' EXIT

# Fake binaries for the lookup: a static and a dynamic build.
mkdir -p "$T/lib" "$T/bin"
printf '\177ELF fake static\n' >"$T/lib/coco-unlock.static"
printf '\177ELF fake dynamic\n' >"$T/bin/coco-unlock"
chmod 0755 "$T/lib/coco-unlock.static" "$T/bin/coco-unlock"

# run_build OUT [VAR=VALUE...]: build() of this hook (tests/mkinitcpio/lib.sh).
run_build() {
	local out=$1
	shift
	mkinitcpio_build "$HOOK" "$out" "$@"
}

tap_check "install hook: bash syntax" bash -n "$HOOK"

# Sourcing it defines functions and does nothing else.
tap_is "install hook: sourcing it only defines build, help and its helpers" \
	"_coco_unlock_add _coco_unlock_binary _coco_unlock_systemd_init build help " \
	"$(defined_functions "$HOOK")"

# --- the static build -----------------------------------------------------------
R=$T/static
# With a token plugin at hand: the busybox image has no libcryptsetup
# user of it (coco-unlock is static, encrypt reads a passphrase).
printf '\177ELF fake plugin\n' >"$T/lib/plugin.so"
run_build "$R" COCO_UNLOCK_BINARY="$T/lib/coco-unlock.static" COCO_UNLOCK_PLUGIN="$T/lib/plugin.so"
tap_is "static: build() succeeds" 0 "$(cat "$R.rc")"
tap_empty "static: no error reported" "$R.rc" "$(calls "$R" error)"
tap_is "static: the static binary, as /usr/bin/coco-unlock (and no token plugin)" \
	"$T/lib/coco-unlock.static /usr/bin/coco-unlock" "$(calls "$R" add_binary)"
tap_check "static: efi_secret" has_line "$R" "add_module efi_secret"
tap_check "static: dm-crypt" has_line "$R" "add_module dm-crypt"
tap_check "static: the kernel's ciphers (as encrypt does without CRYPTO_MODULES)" \
	has_line "$R" "add_all_modules /crypto/"
# The static build's keyslot crypto is its own, in user space: no AF_ALG
# module, required or optional.
tap_absent "static: no AF_ALG module (af_alg, algif_*)" "$R" '(af_alg|algif_)'
tap_empty "static: no kernel named, no word of efi_secret" "$R.rc" "$(calls "$R" warning)"
# The kernel (issue 25): a module tree without efi_secret (Debian's stock
# kernels), one with it as a module, one with it built in.
for k in stock module builtin; do mkdir -p "$T/modules/$k"; done
echo 'kernel/drivers/md/dm-crypt.ko.zst: kernel/drivers/md/dm-mod.ko.zst' >"$T/modules/stock/modules.dep"
echo 'kernel/drivers/md/dm-mod.ko' >"$T/modules/stock/modules.builtin"
echo 'kernel/drivers/virt/coco/efi_secret/efi_secret.ko.zst:' >"$T/modules/module/modules.dep"
echo 'kernel/drivers/virt/coco/efi_secret/efi_secret.ko' >"$T/modules/builtin/modules.builtin"
for k in stock module builtin; do
	run_build "$T/k-$k" COCO_UNLOCK_BINARY="$T/lib/coco-unlock.static" \
		KERNELVERSION="6.12.0-$k" _d_kmoduledir="$T/modules/$k"
done
tap_is "kernel without efi_secret: build() succeeds" 0 "$(cat "$T/k-stock.rc")"
tap_check "kernel without efi_secret: one warning names the kernel and what to do" \
	test "$(calls "$T/k-stock" warning | grep -c '^coco-unlock: kernel 6.12.0-stock has no efi_secret, .*CONFIG_EFI_SECRET')" = 1
calls "$T/k-stock" warning | sed 's/^/#   /'
tap_check "efi_secret a module or built in: build() succeeds" \
	test "$(cat "$T/k-module.rc" "$T/k-builtin.rc" | tr -d '\n')" = 00
tap_empty "efi_secret a module or built in: no warning" "$T/k-module.rc" \
	"$(calls "$T/k-module" warning)$(calls "$T/k-builtin" warning)"
tap_is "static: add_runscript once, without arguments" "add_runscript" "$(grep '^add_runscript' "$R")"
# run_hook calls it after coco-unlock (rd.coco.on-failure=poweroff when
# coco-unlock is killed): tests/mkinitcpio/test-run-hook.sh.
src=$(calls "$R" add_file | awk '$2 == "/usr/bin/coco-unlock-fail-closed" && $3 == 755 { print $1 }')
tap_check "static: the fail-closed helper as /usr/bin/coco-unlock-fail-closed, mode 755, from the hook's directory" \
	cmp -s "$src" "$TOP/mkinitcpio-hook/coco-unlock/coco-unlock-fail-closed"
tap_empty "static: nothing printed" "$R.rc" "$(cat "$R.stdout" "$R.stderr")"
# Everything it asks for is one of these calls: no stray files.
unexpected=$(grep -vxE 'add_binary .*|add_module (efi_secret|dm-crypt)|add_all_modules /crypto/|add_runscript|add_file [^ ]+/coco-unlock-fail-closed /usr/bin/coco-unlock-fail-closed 755' "$R" || true)
tap_empty "static: nothing else asked for" "$R" "$unexpected"

# --- CRYPTO_MODULES narrows the ciphers, as in the encrypt hook ------------------
R=$T/crypto-modules
run_build "$R" COCO_UNLOCK_BINARY="$T/lib/coco-unlock.static" CRYPTO_MODULES="aes xts sha256"
tap_is "CRYPTO_MODULES: build() succeeds" 0 "$(cat "$R.rc")"
tap_empty "CRYPTO_MODULES: no add_all_modules" "$R" "$(calls "$R" add_all_modules)"
for m in aes xts sha256; do
	tap_check "CRYPTO_MODULES: $m" has_line "$R" "add_module $m"
done

# --- a dynamic build: the same modules -----------------------------------------
R=$T/dynamic
run_build "$R" COCO_UNLOCK_BINARY="$T/bin/coco-unlock"
tap_is "dynamic: build() succeeds" 0 "$(cat "$R.rc")"
tap_is "dynamic: the dynamic binary, as /usr/bin/coco-unlock" \
	"$T/bin/coco-unlock /usr/bin/coco-unlock" "$(calls "$R" add_binary)"
tap_absent "dynamic: no AF_ALG module, not even optional" "$R" '(af_alg|algif_)'
tap_check "dynamic: efi_secret still required" has_line "$R" "add_module efi_secret"

# --- no binary: a clear error, nothing added -----------------------------------
if [ -e /usr/lib/coco-unlock/coco-unlock.static ] || [ -e /usr/bin/coco-unlock ] ||
	[ -e /usr/sbin/coco-unlock ]; then
	tap_skip "missing binary: build() fails" "coco-unlock is installed on this machine"
	tap_skip "missing binary: error names the paths" "coco-unlock is installed on this machine"
	tap_skip "missing binary: nothing added" "coco-unlock is installed on this machine"
else
	R=$T/missing
	run_build "$R" COCO_UNLOCK_BINARY="$T/nonexistent"
	tap_check "missing binary: build() fails" test "$(cat "$R.rc")" != 0
	tap_check "missing binary: error names the paths" \
		grep -q 'coco-unlock not found.*coco-unlock.static' "$R"
	tap_empty "missing binary: nothing added" "$R.rc" "$(grep '^add_' "$R")"
fi

# --- Arch's default image: systemd as /init never calls run_hook -------------
# Arch's mkinitcpio.conf: HOOKS=(base systemd autodetect ... sd-encrypt ...).
# build() must stop mkinitcpio (die), not write an image that boots
# without coco-unlock.
R=$T/systemd-init
run_build "$R" COCO_UNLOCK_BINARY="$T/lib/coco-unlock.static" \
	HOOKS_LIST="base systemd autodetect modconf kms keyboard sd-vconsole block coco-unlock sd-encrypt filesystems fsck"
tap_is "systemd in HOOKS: the build stops (mkinitcpio's die: exit 1)" 1 "$(cat "$R.rc")"
tap_check "systemd in HOOKS: the error names sd-coco-unlock" grep -q "^die .*'sd-coco-unlock'" "$R"
tap_check "systemd in HOOKS: the error says why (systemd is the init)" grep -q "^die .*init is systemd" "$R"
tap_empty "systemd in HOOKS: nothing added, no run-time script" "$R.rc" "$(grep '^add_' "$R")"
# -A systemd on the command line: mkinitcpio's _hooks has it, HOOKS not.
R=$T/systemd-addhooks
run_build "$R" COCO_UNLOCK_BINARY="$T/lib/coco-unlock.static" \
	HOOKS_LIST="base udev block coco-unlock encrypt" _HOOKS_LIST="base udev block coco-unlock encrypt systemd"
tap_is "systemd added with -A (_hooks): the build stops too" 1 "$(cat "$R.rc")"
# The busybox image (Arch's encrypt example) builds, and a hook named like
# systemd is not systemd.
R=$T/busybox-init
run_build "$R" COCO_UNLOCK_BINARY="$T/lib/coco-unlock.static" \
	HOOKS_LIST="base udev autodetect modconf block coco-unlock encrypt sd-vconsole filesystems fsck"
tap_is "busybox init (no systemd hook): build() succeeds" 0 "$(cat "$R.rc")"
tap_empty "busybox init: no die, no error" "$R.rc" "$(grep -E '^(die|error) ' "$R")"
tap_check "busybox init: the run-time script is added" has_line "$R" "add_runscript"
tap_empty "busybox init: no add_dir (the init mounts a tmpfs on /run)" "$R.rc" "$(calls "$R" add_dir)"

# --- help() -----------------------------------------------------------------------
help_text=$(hook_help "$HOOK")
tap_check "help: says to place it before encrypt" \
	grep -q "before 'encrypt'" <<<"$help_text"
tap_check "help: shows a HOOKS line with coco-unlock before encrypt" \
	grep -qE '^ *HOOKS=\(.* coco-unlock encrypt .*\)' <<<"$help_text"
tap_check "help: mentions cryptdevice=" grep -q 'cryptdevice=' <<<"$help_text"
tap_check "help: points systemd images to sd-coco-unlock" grep -q "'sd-coco-unlock'" <<<"$help_text"
tap_check "help: says rd.luks.* is not for encrypt" grep -q 'Do not use rd.luks.uuid= or rd.luks.name= with .encrypt.' <<<"$help_text"
tap_check "help: no HOOKS line with the systemd hook" bash -c '! grep -E "^ *HOOKS=.*[( ]systemd[ )]" <<<"$1"' _ "$help_text"

# --- the runtime script add_runscript will pick up ------------------------------
# add_runscript finds /usr/lib/initcpio/hooks/<name of the install file>
# and registers the run_* functions it finds with this awk (mkinitcpio's
# funcgrep).
tap_is "runtime script has the install hook's name" \
	"$(basename "$HOOK")" "$(basename "$RUNHOOK")"
funcs=$(awk -v funcmatch='^run_[[:alnum:]_]+' '
	/^[[:space:]]*[[:alnum:]_]+[[:space:]]*\([[:space:]]*\)/ {
		match($1, funcmatch); print substr($1, RSTART, RLENGTH)
	}' "$RUNHOOK" | grep . | sort | tr '\n' ' ')
tap_is "runtime script: mkinitcpio sees run_cleanuphook and run_hook" \
	"run_cleanuphook run_hook " "$funcs"

tap_done
