# shellcheck shell=bash
# Fake root trees for the initramfs-tools tests: BusyBox (what Debian's
# initramfs images run) as the only programs, entered with chroot so that
# the absolute paths the hook and the scripts use (/etc/crypttab,
# /usr/share/initramfs-tools/hook-functions, /scripts/functions,
# /usr/sbin/coco-unlock) are the tree's, not this machine's.

# shellcheck disable=SC2034 # used by the tests that source this file
IT_DIR=$TOP/initramfs-tools
# initramfs-tools' own files, from this machine (initramfs-tools-core).
# shellcheck disable=SC2034
IT_SHARE=/usr/share/initramfs-tools

# The chroot command, or empty when this user cannot chroot (neither root
# nor an unprivileged user namespace).
IT_CHROOT=
it_chroot_probe() { # ROOT
	if [ "$(id -u)" = 0 ] && chroot "$1" /bin/sh -c : 2>/dev/null; then
		IT_CHROOT="chroot"
	elif unshare -r chroot "$1" /bin/sh -c : 2>/dev/null; then
		IT_CHROOT="unshare -r chroot"
	fi
	[ -n "$IT_CHROOT" ]
}

# it_busybox_root ROOT: a tree with BusyBox and its applets in /bin, but
# no modprobe (a stand-in goes to /sbin), and never a poweroff, halt or
# reboot: a chroot shares this machine's kernel, and BusyBox's poweroff -f
# would power it off (the power-off tests put recording stand-ins there).
# An empty file stands in for /dev/null. Fails without BusyBox; a dynamic
# one fails it_chroot_probe.
it_busybox_root() {
	local root=$1 bb a
	bb=$(command -v busybox) || return 1
	mkdir -p "$root/bin" "$root/sbin" "$root/usr/sbin" "$root/etc" "$root/tmp" "$root/dev"
	cp "$bb" "$root/bin/busybox"
	for a in $("$bb" --list); do
		case $a in busybox | modprobe | poweroff | halt | reboot) continue ;; esac
		ln -sf busybox "$root/bin/$a"
	done
	# Every initramfs has a /dev/null, and ash opens it for a background
	# command's stdin ("cmd &"): an empty file serves here.
	[ -e "$root/dev/null" ] || : >"$root/dev/null"
}

# it_stub PATH NAME: a program at PATH that appends "NAME ARGS" to /log
# and exits with $STUB_RC_<NAME> (default 0), or kills itself with signal
# $STUB_SIG_<NAME> (KILL, SEGV...) when that is set.
it_stub() {
	local var
	var=$(echo "$2" | tr 'a-z-' 'A-Z_')
	mkdir -p "$(dirname "$1")"
	cat >"$1" <<STUB
#!/bin/sh
echo "$2 \$*" >>/log
[ -z "\${STUB_SIG_$var:-}" ] || kill -\$STUB_SIG_$var \$\$
exit \${STUB_RC_$var:-0}
STUB
	chmod 0755 "$1"
}

# it_poweroff_stub ROOT: a poweroff at /sbin/poweroff in ROOT that appends
# "poweroff ARGS" to /log and then ends the fake machine: SIGKILL to its
# process group, so that nothing after the power-off runs, as on a real
# one. Only under setsid (IT_SETSID=1: the group is the fake boot's);
# otherwise it kills its caller alone, and what runs next shows.
it_poweroff_stub() {
	cat >"$1/sbin/poweroff" <<'STUB'
#!/bin/sh
echo "poweroff $*" >>/log
[ "${IT_SETSID:-}" = 1 ] && kill -KILL 0
kill -KILL $PPID
STUB
	chmod 0755 "$1/sbin/poweroff"
}

# joined FILE: FILE's lines joined by '|'.
joined() {
	tr '\n' '|' <"$1" | sed 's/|$//'
}
