#!/usr/bin/env bash
# build-image.sh OUT.img HOOK...: a mkinitcpio-style initramfs made the way
# mkinitcpio makes one, for the boot test (mkinitcpio is not packaged by
# Debian). Modelled on mkinitcpio's `functions` and build steps, written
# anew and cut to what the hooks here use:
#   - the build root's layout (usr/bin with bin, sbin, usr/sbin links to it,
#     lib -> usr/lib, /new_root, an empty /etc/initrd-release, ...);
#   - each HOOK's install script, found in mkinitcpio-hook/install (the
#     project's real coco-unlock and sd-coco-unlock hooks) or in this
#     directory's install/ (stand-ins: base, encrypt, cocotest, and
#     systemd and sd-encrypt on Debian's systemd 252, the systemd one
#     defining add_systemd_unit and add_systemd_drop_in as mkinitcpio
#     v39's does), sourced in bash, and its
#     build() run, with add_binary (the file, and for a dynamic binary the
#     libraries ldd names), add_file (a link: its target and the link),
#     add_dir, add_symlink, add_udev_rule (the rules file and the programs
#     its RUN/IMPORT keys name), add_module
#     (modinfo -b on the test kernel's modules tree: the module, its
#     `depends` and soft dependencies; built-in modules, from
#     modules.builtin.modinfo, count as added), all_modules /
#     add_all_modules / add_checked_modules (find + grep -E over the tree),
#     add_runscript (the hook's run-time script as /hooks/NAME, and NAME
#     appended to the run_earlyhook/run_hook/run_latehook lists and
#     prepended to the run_cleanuphook list for each of those functions the
#     script defines), map, and error/warning/msg, and die (the build
#     stops: no image, "BUILD-DIED" in the log);
#   - mkinitcpio's error accounting: an add_* function that returns
#     non-zero is a build error (the RETURN trap under functrace);
#   - /config with EARLYHOOKS, HOOKS, LATEHOOKS, CLEANUPHOOKS;
#   - the modules copied flat to usr/lib/modules/KVER/kernel/, the builtin
#     and order files, depmod -b;
#   - a newc cpio (gzip).
# Environment: TOP, KERNEL_DIR (bzImage, modules/lib/modules/KVER),
# KERNEL_RELEASE; COCO_UNLOCK_BINARY is read by install/coco-unlock.
# Writes OUT.img, and OUT.img.log: one line per add_* call and its status
# ("CALL <status> <function> <args>"), "BUILD-ERRORS <n>" at the end.
# shellcheck disable=SC2059 # printf formats from the callers (messages)
set -u
shopt -s extglob

OUT=$1
shift
HOOKS=("$@")
MKINITCPIO_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export MKINITCPIO_SRC
KERNELVERSION=$KERNEL_RELEASE
_optmoduleroot=$KERNEL_DIR/modules
_d_kmoduledir=$_optmoduleroot/lib/modules/$KERNELVERSION
_d_hooks=$TOP/mkinitcpio-hook/hooks:$MKINITCPIO_SRC/hooks
_d_install=$TOP/mkinitcpio-hook/install:$MKINITCPIO_SRC/install
declare -A _runhooks=([early]='' [hooks]='' [late]='' [cleanup]='') _addedmodules=() _modpaths=()
_log=$OUT.log
: >"$_log"

BUILDROOT=$(mktemp -d "${TMPDIR:-/tmp}/coco-mkinitcpio.XXXXXX")
trap 'rm -rf "$BUILDROOT"' EXIT

# --- messages ---------------------------------------------------------------
# printf formats come from the callers, as in mkinitcpio (SC2059 above).
plain() { local m=$1; shift; printf "    $m\n" "$@"; }
quiet() { :; }
msg() { local m=$1; shift; printf "==> $m\n" "$@"; }
msg2() { local m=$1; shift; printf "  -> $m\n" "$@"; }
warning() { local m=$1; shift; printf "==> WARNING: $m\n" "$@" >&2; }
error() { local m=$1; shift; printf "==> ERROR: $m\n" "$@" >&2; return 1; }
# mkinitcpio's die: the error, and the build stops (cleanup 1), no image.
die() {
	error "$@"
	echo "BUILD-DIED" >>"$_log"
	exit 1
}

map() {
	local r=0
	for _ in "${@:2}"; do
		"$1" "$_" || ((r = 1))
	done
	return $r
}

funcgrep() {
	awk -v funcmatch="$1" '
		/^[[:space:]]*[[:alnum:]_]+[[:space:]]*\([[:space:]]*\)/ {
			match($1, funcmatch)
			print substr($1, RSTART, RLENGTH)
		}' "$2"
}

# --- the build API --------------------------------------------------------------
add_dir() {
	[[ -n ${1:-} && $1 == /?* ]] || return 1
	[[ -d $BUILDROOT$1 ]] && return 0
	command install -dm"${2:-755}" "$BUILDROOT$1"
}

add_symlink() {
	local name=$1 target=${2:-}
	(($# == 1 || $# == 2)) || return 1
	if [[ -z $target ]]; then
		target=$(readlink -f "$name") || { error 'invalid symlink: %s' "$name"; return 1; }
	fi
	add_dir "${name%/*}"
	ln -sfn "$target" "$BUILDROOT$name"
}

add_file() {
	(($#)) || return 1
	local src=$1 dest=${2:-$1} mode
	if [[ ! -f $src ]]; then
		error "file not found: \`%s'" "$src"
		return 1
	fi
	# A link (systemd-udevd -> udevadm on Debian 12): its target, and the
	# link, as mkinitcpio does.
	if [[ -L $src ]]; then
		local real
		real=$(realpath -- "$src")
		if [[ $real != "$dest" ]]; then
			add_file "$real" "$real" "${3:-}"
			add_symlink "$dest" "$real"
			return
		fi
	fi
	mode=${3:-$(stat -c %a "$src")}
	# Links in the image point at absolute paths: never write through one
	# (this may run as root, and the target is the build host's file).
	[[ -L $BUILDROOT$dest ]] && rm -f "$BUILDROOT$dest"
	command install -Dm"$mode" "$src" "$BUILDROOT$dest"
}

# $filter is a glob, on purpose.
# shellcheck disable=SC2053
add_full_dir() {
	local f filter=${2:-*} strip=${3:-}
	[[ -n ${1:-} && -d $1 ]] || return 0
	add_dir "$1"
	for f in "$1"/*; do
		if [[ -L $f ]]; then
			[[ $f == $filter ]] && add_symlink "${f#"$strip"}" "$(readlink "$f")"
		elif [[ -d $f ]]; then
			add_full_dir "$f" "$filter" "$strip"
		elif [[ -f $f && $f == $filter ]]; then
			add_file "$f" "${f#"$strip"}"
		fi
	done
}

add_binary() {
	local binary dest mode line sodep lddout
	if [[ ${1:0:1} != / ]]; then
		binary=$(type -P "$1")
	else
		binary=$1
	fi
	if [[ ! -f $binary ]]; then
		error "file not found: \`%s'" "$1"
		return 1
	fi
	dest=${2:-$binary}
	mode=$(stat -c %a "$binary")
	add_file "$binary" "$dest" "$mode"
	# A static binary: ldd fails, nothing more to add.
	lddout=$(ldd "$binary" 2>/dev/null) || return 0
	while read -r line; do
		sodep=
		if [[ $line =~ ^(|.+\ )(/.+)\ \(0x[a-fA-F0-9]+\) ]]; then
			sodep=${BASH_REMATCH[2]}
		elif [[ $line == *'not found' ]]; then
			error "binary dependency \`%s' not found for \`%s'" "${line%% *}" "$1"
			continue
		fi
		if [[ -n $sodep && -f $sodep && ! -e $BUILDROOT$sodep ]]; then
			add_file "$sodep" "$sodep" "$(stat -Lc %a "$sodep")"
		fi
	done <<<"$lddout"
	return 0
}

preload_builtin_modules() {
	local modname field value
	while IFS=.= read -rd '' modname field value; do
		_addedmodules[${modname//-/_}]=2
		[[ $field == alias ]] && _addedmodules[${value//-/_}]=2
	done <"$_d_kmoduledir/modules.builtin.modinfo"
}

add_module() {
	local target module field value softdeps deps ign_errors=0 found=0
	if [[ $1 == *\? ]]; then
		ign_errors=1
		set -- "${1%?}"
	fi
	target=${1%.ko*} target=${target//-/_}
	((${_addedmodules[$target]:-0} == 1)) && return 0
	while IFS=':= ' read -r -d '' field value; do
		case $field in
		filename)
			if [[ $value == /* ]]; then
				found=1
				module=${value##*/} module=${module%.ko*}
				_modpaths[$value]=1
				_addedmodules[${module//-/_}]=1
			fi
			;;
		depends)
			IFS=',' read -r -a deps <<<"$value"
			map add_module "${deps[@]}"
			;;
		softdep)
			read -ra softdeps <<<"$value"
			for module in "${softdeps[@]}"; do
				[[ $module == *: ]] && continue
				add_module "$module?"
			done
			;;
		esac
	done < <(modinfo -b "$_optmoduleroot" -k "$KERNELVERSION" -0 "$target" 2>/dev/null)
	if ((!found)); then
		((ign_errors || ${_addedmodules[$target]:-0})) && return 0
		error "module not found: \`%s'" "$target"
		return 1
	fi
	return 0
}

all_modules() {
	local -i count=0
	local mod
	while read -r -d '' mod; do
		((++count))
		mod=${mod##*/}
		mod=${mod%.ko*}
		printf '%s\n' "${mod//-/_}"
	done < <(find "$_d_kmoduledir" -name '*.ko*' -print0 2>/dev/null | grep -EZz "$@")
	((count))
}

add_all_modules() {
	local mods
	mapfile -t mods < <(all_modules "$@")
	map add_module "${mods[@]}"
	return $((!${#mods[*]}))
}

add_checked_modules() {
	# No autodetection here: as add_all_modules.
	add_all_modules "$@"
}

# The rules file, and the programs its RUN/IMPORT{program} keys name.
add_udev_rule() {
	local rules=$1 rule pair key value binary
	if [[ ${rules:0:1} != / ]]; then
		rules=$(PATH=/usr/lib/udev/rules.d:/lib/udev/rules.d type -P "$rules")
	fi
	[[ -n $rules ]] || return 1
	add_file "$rules" "/usr/lib/udev/rules.d/${rules##*/}"
	while IFS=, read -ra rule; do
		[[ -z ${rule[0]:-} || ${rule[0]} == @(+([[:space:]])|#*) ]] && continue
		for pair in "${rule[@]}"; do
			IFS=' =' read -r key value <<<"$pair"
			case $key in
			'RUN{program}' | 'RUN+' | 'IMPORT{program}' | 'ENV{REMOVE_CMD}')
				binary=${value//[\"\']/}
				binary=${binary%% *}
				[[ ${binary:0:1} == '$' ]] && continue
				if [[ ${binary:0:1} != / ]]; then
					binary=$(PATH=/usr/lib/udev:/lib/udev type -P "$binary")
				fi
				add_binary "$binary"
				;;
			esac
		done
	done <"$rules"
}

add_runscript() {
	# [2]: the wrapper below sits between (mkinitcpio: [1], the caller).
	local funcs fn script hookname=${BASH_SOURCE[2]##*/}
	if ! script=$(PATH=$_d_hooks type -P "$hookname"); then
		error "runtime script for \`%s' not found" "$hookname"
		return
	fi
	add_file "$script" "/hooks/$hookname" 755
	mapfile -t funcs < <(funcgrep '^run_[[:alnum:]_]+' "$script")
	for fn in "${funcs[@]}"; do
		case $fn in
		run_earlyhook) _runhooks[early]+=" $hookname" ;;
		run_hook) _runhooks[hooks]+=" $hookname" ;;
		run_latehook) _runhooks[late]+=" $hookname" ;;
		run_cleanuphook) _runhooks[cleanup]="$hookname ${_runhooks[cleanup]}" ;;
		esac
	done
}

# --- the build ------------------------------------------------------------------
initialize_buildroot() {
	install -dm755 "$BUILDROOT"/{new_root,proc,sys,dev,run,tmp,var,etc,usr/{local,lib,bin}}
	ln -s usr/lib "$BUILDROOT/lib"
	ln -s ../lib "$BUILDROOT/usr/local/lib"
	ln -s bin "$BUILDROOT/usr/sbin"
	ln -s usr/bin "$BUILDROOT/bin"
	ln -s usr/bin "$BUILDROOT/sbin"
	ln -s ../bin "$BUILDROOT/usr/local/bin"
	ln -s ../bin "$BUILDROOT/usr/local/sbin"
	ln -s /run "$BUILDROOT/var/run"
	ln -s lib "$BUILDROOT/usr/lib64"
	ln -s usr/lib "$BUILDROOT/lib64"
	printf '%s' "coco-unlock-test" >"$BUILDROOT/VERSION"
	install -dm755 "$BUILDROOT/usr/lib/modules/$KERNELVERSION/kernel"
	ln -s /proc/self/mounts "$BUILDROOT/etc/mtab"
	: >"$BUILDROOT/etc/fstab"
	: >"$BUILDROOT/etc/initrd-release"
	: >"$BUILDROOT/etc/ld.so.conf"
}

run_build_hook() {
	local hook=$1 script
	if ! script=$(PATH=$_d_install type -P "$hook"); then
		error "Hook '%s' cannot be found" "$hook"
		return 1
	fi
	unset -f build
	# shellcheck disable=SC1090
	if ! . "$script"; then
		error "Failed to read %s" "$script"
		return 1
	fi
	if ! declare -f build >/dev/null; then
		error "Hook '%s' has no build function" "$script"
		return 1
	fi
	msg "Running build hook: [%s]" "$script"
	build
	return 0
}

install_modules() {
	local moduledest=$BUILDROOT/lib/modules/$KERNELVERSION
	(($#)) || { warning "No modules were added to the image."; return 0; }
	cp "$@" "$moduledest/kernel/"
	install -m644 -t "$moduledest" "$_d_kmoduledir"/modules.builtin{,.modinfo}
	awk -F/ '{ print "kernel/" $NF }' "$_d_kmoduledir/modules.order" >"$moduledest/modules.order"
	depmod -b "$BUILDROOT" "$KERNELVERSION"
}

initialize_buildroot
preload_builtin_modules

# mkinitcpio's error accounting (there a RETURN trap under functrace): an
# add_* call that returns non-zero is a build error. Here each add_*
# function is wrapped to log its call and status for the test.
declare -i _builderrors=0
for _f in add_dir add_symlink add_file add_full_dir add_binary add_module \
	add_all_modules add_checked_modules add_udev_rule add_runscript; do
	eval "_impl_$(declare -f "$_f")"
	eval "$_f() { local _rc=0; _impl_$_f \"\$@\" || _rc=\$?; _log_call \$_rc $_f \"\$@\"; return \$_rc; }"
done
_log_call() {
	local rc=$1
	shift
	printf 'CALL %s %s\n' "$rc" "$*" >>"$_log"
	((rc)) && ((++_builderrors))
	return 0
}

map run_build_hook "${HOOKS[@]}" || ((++_builderrors))

printf '%s="%s"\n' \
	EARLYHOOKS "${_runhooks[early]# }" \
	HOOKS "${_runhooks[hooks]# }" \
	LATEHOOKS "${_runhooks[late]# }" \
	CLEANUPHOOKS "${_runhooks[cleanup]% }" >"$BUILDROOT/config"

install_modules "${!_modpaths[@]}" || ((++_builderrors))

echo "BUILD-ERRORS $_builderrors" >>"$_log"
(cd "$BUILDROOT" && find . -mindepth 1 | LC_ALL=C sort |
	cpio --quiet -o -H newc -R 0:0 | gzip -6 >"$OUT.tmp") || exit 1
# The tree, for the test to inspect.
rm -rf "$OUT.tree"
cp -a "$BUILDROOT" "$OUT.tree"
mv "$OUT.tmp" "$OUT"
msg "Image %s: %s bytes, %s build errors" "$OUT" "$(stat -c %s "$OUT")" "$_builderrors"
