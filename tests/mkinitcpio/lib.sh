# shellcheck shell=bash
# The build-time contract of mkinitcpio, for the install-hook tests:
# mkinitcpio sources the install file in bash and calls build() (and
# help() for `mkinitcpio -H`); build() asks for files, modules and units
# through add_binary, add_module, add_all_modules, add_file, add_symlink,
# add_runscript, map and, once the `systemd` hook has been sourced,
# add_systemd_unit and add_systemd_drop_in. Here those are recording
# stand-ins. die is mkinitcpio's: error, then exit (cleanup 1).
# Shell code in single quotes runs in another shell, on purpose.
# shellcheck disable=SC2016

# mkinitcpio_build HOOKFILE OUT [VAR=VALUE...]: sources HOOKFILE in a fresh bash
# with the stand-ins, runs build(), writes one line per call to OUT and
# build()'s status to OUT.rc (90: the file did not source, 91: no build).
# HOOKS_LIST (words) is mkinitcpio's HOOKS, _HOOKS_LIST its _hooks (HOOKS
# with -A/-S applied); SYSTEMD_HOOK_SOURCED=1 defines add_systemd_unit and
# add_systemd_drop_in, as the `systemd` install hook does when it comes
# earlier in HOOKS. Runs under `set -u` so an unset variable shows.
mkinitcpio_build() {
	local hook=$1 out=$2
	shift 2
	env -i PATH="$PATH" HOOK="$hook" OUT="$out" "$@" bash -uc '
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
		if [ "${SYSTEMD_HOOK_SOURCED:-0}" = 1 ]; then
			add_systemd_unit() { rec add_systemd_unit "$@"; }
			add_systemd_drop_in() { rec add_systemd_drop_in "$@" "$(cat)"; }
		fi
		# As mkinitcpio: calls $1 once for each further argument.
		map() { local f=$1 r=0; shift; rec map "$f" "$@"; for a; do "$f" "$a" || r=1; done; return $r; }
		error() { rec error "$@"; printf "ERROR: %s\n" "$*" >&2; return 1; }
		die() { rec die "$@"; printf "ERROR: %s\n" "$*" >&2; exit 1; }
		warning() { rec warning "$@"; }
		msg() { :; }; msg2() { :; }; plain() { :; }; quiet() { :; }
		read -ra HOOKS <<<"${HOOKS_LIST:-}"
		read -ra _hooks <<<"${_HOOKS_LIST:-}"
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

# hook_help HOOKFILE: what `mkinitcpio -H` prints of it (it sources the
# file and calls help).
hook_help() {
	env -i PATH="$PATH" bash -c '. "$1"; help' _ "$1"
}

# defined_functions HOOKFILE: the functions sourcing HOOKFILE defines.
defined_functions() {
	env -i PATH="$PATH" bash -c '. "$1"; declare -F | sed "s/^declare -f //" | sort | tr "\n" " "' _ "$1" 2>&1
}
