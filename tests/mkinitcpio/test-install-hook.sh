#!/usr/bin/env bash
# mkinitcpio-hook/install/coco-unlock against mkinitcpio's build contract
# (mkinitcpio is not packaged by Debian): mkinitcpio sources the file in
# bash and calls build() and help(); build() asks for files and modules
# through add_binary, add_module, add_all_modules, add_dir, add_file,
# add_runscript and map. Here those are recording stand-ins, and the test
# checks what build() asks for.
# Shell code in single quotes runs in another shell, on purpose.
# shellcheck disable=SC2016
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/lib/tap.sh"

HOOK=$TOP/mkinitcpio-hook/install/coco-unlock
RUNHOOK=$TOP/mkinitcpio-hook/hooks/coco-unlock
T=$(mktemp -d "${TMPDIR:-/tmp}/coco-mkinitcpio-test.XXXXXX")
trap 'rm -rf "$T"' EXIT

# Fake binaries for the lookup: a static and a dynamic build.
mkdir -p "$T/lib" "$T/bin"
printf '\177ELF fake static\n' >"$T/lib/coco-unlock.static"
printf '\177ELF fake dynamic\n' >"$T/bin/coco-unlock"
chmod 0755 "$T/lib/coco-unlock.static" "$T/bin/coco-unlock"

# run_build OUT [VAR=VALUE...]: sources the hook in a fresh bash with the
# stand-ins, runs build(), writes one line per call to OUT and build()'s
# status to OUT.rc. Runs under `set -u` so an unset variable shows.
run_build() {
	local out=$1
	shift
	env -i PATH="$PATH" HOOK="$HOOK" OUT="$out" "$@" bash -uc '
		rec() { printf "%s\n" "$*" >>"$OUT"; }
		add_binary() { rec add_binary "$@"; }
		add_module() { rec add_module "$@"; }
		add_all_modules() { rec add_all_modules "$@"; }
		add_checked_modules() { rec add_checked_modules "$@"; }
		add_file() { rec add_file "$@"; }
		add_dir() { rec add_dir "$@"; }
		add_symlink() { rec add_symlink "$@"; }
		add_udev_rule() { rec add_udev_rule "$@"; }
		add_runscript() { rec add_runscript "$@"; }
		add_full_dir() { rec add_full_dir "$@"; }
		# As mkinitcpio: calls $1 once for each further argument.
		map() { local f=$1 r=0; shift; rec map "$f" "$@"; for a; do "$f" "$a" || r=1; done; return $r; }
		error() { rec error "$@"; printf "ERROR: %s\n" "$*" >&2; return 1; }
		warning() { rec warning "$@"; }
		msg() { :; }; msg2() { :; }; plain() { :; }; quiet() { :; }
		: >"$OUT"
		. "$HOOK" || exit 90
		declare -F build >/dev/null || exit 91
		build
	' >"$out.stdout" 2>"$out.stderr"
	echo $? >"$out.rc"
}

# calls OUT VERB: the arguments of each VERB call, one per line.
calls() {
	sed -n "s/^$2 //p" "$1"
}
has_line() { # FILE LINE
	grep -qxF -- "$2" "$1"
}

tap_check "install hook: bash syntax" bash -n "$HOOK"

# Sourcing it defines functions and does nothing else.
out=$(env -i PATH="$PATH" bash -c '. "$1"; declare -F | sed "s/^declare -f //" | sort | tr "\n" " "' _ "$HOOK" 2>&1)
tap_is "install hook: sourcing it only defines build, help and a helper" \
	"_coco_unlock_binary build help " "$out"

# --- the static build -----------------------------------------------------------
R=$T/static
run_build "$R" COCO_UNLOCK_BINARY="$T/lib/coco-unlock.static"
tap_is "static: build() succeeds" 0 "$(cat "$R.rc")"
tap_empty "static: no error reported" "$R.rc" "$(calls "$R" error)"
tap_is "static: the static binary, as /usr/bin/coco-unlock" \
	"$T/lib/coco-unlock.static /usr/bin/coco-unlock" "$(calls "$R" add_binary)"
tap_check "static: efi_secret" has_line "$R" "add_module efi_secret"
tap_check "static: dm-crypt" has_line "$R" "add_module dm-crypt"
tap_check "static: the kernel's ciphers (as encrypt does without CRYPTO_MODULES)" \
	has_line "$R" "add_all_modules /crypto/"
for m in af_alg algif_hash algif_skcipher; do
	tap_check "static: $m, required (AF_ALG backend)" has_line "$R" "add_module $m"
done
tap_is "static: add_runscript once, without arguments" "add_runscript" "$(grep '^add_runscript' "$R")"
tap_empty "static: nothing printed" "$R.rc" "$(cat "$R.stdout" "$R.stderr")"
# Everything it asks for is one of these calls: no stray files.
unexpected=$(grep -vxE 'add_binary .*|add_module (efi_secret|dm-crypt|af_alg|algif_hash|algif_skcipher)|add_all_modules /crypto/|map add_module .*|add_dir /run/cryptsetup|add_runscript' "$R" || true)
tap_empty "static: nothing else asked for" "$R" "$unexpected"

# --- CRYPTO_MODULES narrows the ciphers, as in the encrypt hook ------------------
R=$T/crypto-modules
run_build "$R" COCO_UNLOCK_BINARY="$T/lib/coco-unlock.static" CRYPTO_MODULES="aes xts sha256"
tap_is "CRYPTO_MODULES: build() succeeds" 0 "$(cat "$R.rc")"
tap_empty "CRYPTO_MODULES: no add_all_modules" "$R" "$(calls "$R" add_all_modules)"
for m in aes xts sha256; do
	tap_check "CRYPTO_MODULES: $m" has_line "$R" "add_module $m"
done

# --- a dynamic build: AF_ALG modules optional ('?': no error when absent) -----
R=$T/dynamic
run_build "$R" COCO_UNLOCK_BINARY="$T/bin/coco-unlock"
tap_is "dynamic: build() succeeds" 0 "$(cat "$R.rc")"
tap_is "dynamic: the dynamic binary, as /usr/bin/coco-unlock" \
	"$T/bin/coco-unlock /usr/bin/coco-unlock" "$(calls "$R" add_binary)"
tap_check "dynamic: af_alg optional" has_line "$R" "add_module af_alg?"
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

# --- help() -----------------------------------------------------------------------
help_text=$(env -i PATH="$PATH" bash -c '. "$1"; help' _ "$HOOK")
tap_check "help: says to place it before encrypt" \
	grep -q "before 'encrypt'" <<<"$help_text"
tap_check "help: shows a HOOKS line with coco-unlock before encrypt" \
	grep -qE '^ *HOOKS=\(.* coco-unlock encrypt .*\)' <<<"$help_text"
tap_check "help: mentions cryptdevice=" grep -q 'cryptdevice=' <<<"$help_text"

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
