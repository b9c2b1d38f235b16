#!/usr/bin/env bash
# initramfs-tools/hooks/coco-unlock against mkinitramfs's hook contract:
# mkinitramfs runs each hook (after its prereqs) with DESTDIR, MODULESDIR,
# MODULES and version exported; the hook sources hook-functions and asks
# for files and modules with copy_exec, manual_add_modules and
# copy_modules_dir. Here the hook runs in a fake root whose hook-functions
# records those calls, with a fake /etc/crypttab and the crypttab
# cryptroot's hook would have written to $DESTDIR/cryptroot/crypttab.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/lib/tap.sh"
. "$TOP/tests/initramfs-tools/lib.sh"

HOOK=$IT_DIR/hooks/coco-unlock
T=$(mktemp -d "${TMPDIR:-/tmp}/coco-it-hook.XXXXXX")
trap 'rm -rf "$T"' EXIT

GUID1=0d8ee7d6-5b7b-4d2c-8c8f-2f3b1e0f6a11
GUID2=6f2c5a3e-93a4-4f1e-b1f2-7a1d0c9e8b22
U1=11111111-1111-4111-8111-111111111111
U2=22222222-2222-4222-8222-222222222222
U3=33333333-3333-4333-8333-333333333333
S=/sys/kernel/security/secrets/coco

tap_check "hook: sh syntax" sh -n "$HOOK"
tap_is "hook: runs after cryptroot's (it reads cryptroot's image crypttab)" \
	"cryptroot" "$(sh "$HOOK" prereqs)"

# The base tree: BusyBox, the recording hook-functions, both binaries.
B=$T/base
if ! it_busybox_root "$B" || ! it_chroot_probe "$B"; then
	tap_skip "hook runs" "no static BusyBox or no chroot here (scripts/install-deps.sh test; root or user namespaces)"
	tap_done
	exit
fi
mkdir -p "$B$IT_SHARE" "$B/usr/lib/coco-unlock" "$B/lib/modules/6.1.0-test/kernel/arch/x86/crypto"
# The test kernel has efi_secret as a module (modules.dep names it).
echo 'kernel/drivers/virt/coco/efi_secret/efi_secret.ko:' >"$B/lib/modules/6.1.0-test/modules.dep"
# Kernels without it (Debian's own), and with it built in.
mkdir -p "$B/lib/modules/6.1.0-stock" "$B/lib/modules/6.8.0-builtin"
printf '%s\n' 'kernel/drivers/md/dm-crypt.ko.zst: kernel/drivers/md/dm-mod.ko.zst' \
	'kernel/drivers/md/dm-mod.ko.zst:' >"$B/lib/modules/6.1.0-stock/modules.dep"
echo 'kernel/drivers/md/dm-mod.ko' >"$B/lib/modules/6.1.0-stock/modules.builtin"
echo 'kernel/drivers/virt/coco/efi_secret/efi_secret.ko' >"$B/lib/modules/6.8.0-builtin/modules.builtin"
: >"$B/lib/modules/6.8.0-builtin/modules.dep"
cat >"$B$IT_SHARE/hook-functions" <<'HF'
# Recording stand-ins for initramfs-tools' hook-functions.
rec() { printf '%s\n' "$*" >>/calls; }
copy_exec() { rec copy_exec "$@"; }
copy_file() { rec copy_file "$@"; }
manual_add_modules() { rec manual_add_modules "$@"; }
copy_modules_dir() { rec copy_modules_dir "$@"; }
force_load() { rec force_load "$@"; }
add_modules_from_file() { rec add_modules_from_file "$@"; }
HF
printf '\177ELF fake static\n' >"$B/usr/lib/coco-unlock/coco-unlock.static"
printf '\177ELF fake dynamic\n' >"$B/usr/sbin/coco-unlock"
chmod 0755 "$B/usr/lib/coco-unlock/coco-unlock.static" "$B/usr/sbin/coco-unlock"
cp "$HOOK" "$B/hook"

# run NAME [VAR=VALUE...]: a copy of the base tree as $T/NAME (R), with
# $T/NAME.crypttab as /etc/crypttab and $T/NAME.cryptroot as cryptroot's
# image crypttab when they exist; runs the hook as mkinitramfs would.
# The calls go to $R/calls, stdout and stderr to $R/out and $R/err, the
# status to $R/rc; the image's crypttab is $R/dest/etc/coco-unlock/crypttab.
run() {
	local name=$1
	shift
	R=$T/$name
	rm -rf "$R"
	cp -a "$B" "$R"
	mkdir -p "$R/dest"
	[ -e "$T/$name.crypttab" ] && cp "$T/$name.crypttab" "$R/etc/crypttab"
	if [ -e "$T/$name.cryptroot" ]; then
		mkdir -p "$R/dest/cryptroot"
		cp "$T/$name.cryptroot" "$R/dest/cryptroot/crypttab"
	fi
	: >"$R/calls"
	# shellcheck disable=SC2086 # IT_CHROOT is a command and its options
	env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DESTDIR=/dest \
		MODULESDIR=/lib/modules/6.1.0-test version=6.1.0-test MODULES=dep verbose=n "$@" \
		$IT_CHROOT "$R" /bin/sh /hook >"$R/out" 2>"$R/err"
	echo $? >"$R/rc"
	TAB=$R/dest/etc/coco-unlock/crypttab
}
calls() { sed -n "s/^$1 //p" "$R/calls"; }
modules() { calls manual_add_modules | tr ' ' '\n'; }

# --- a typical guest: root without a key file, data keyed by a secret -----
cat >"$T/typical.crypttab" <<TAB
# <target name> <source device> <key file> <options>
root  UUID=$U1  none  luks,discard
data  UUID=$U2  $S/$GUID1  luks,x-coco.require-mac
   # an indented comment
home  UUID=$U3  /etc/keys/home.key  luks
swap  /dev/vdc  /dev/urandom  swap,cipher=aes-xts-plain64,size=256

TAB
# What cryptroot's hook writes for that: the root entry only, its source
# as UUID=.
echo "root UUID=$U1 none luks,discard" >"$T/typical.cryptroot"
run typical
tap_is "typical: the hook succeeds" 0 "$(cat "$R/rc")"
tap_is "typical: the static build, as /usr/sbin/coco-unlock" \
	"/usr/lib/coco-unlock/coco-unlock.static /usr/sbin/coco-unlock" "$(calls copy_exec)"
for m in efi_secret dm_mod dm_crypt; do
	tap_check "typical: module $m" grep -qx "$m" <(modules)
done
tap_absent "typical: no AF_ALG module (the static build's crypto is user space)" \
	"$R/calls" '(af_alg|algif_)'
tap_check "typical: MODULES=dep: the basic ciphers (aes, xts, sha256)" \
	test "$(modules | grep -cxE 'aes|xts|sha256')" = 3
tap_empty "typical: MODULES=dep: no whole module directories" "$R/calls" "$(calls copy_modules_dir)"
tap_is "typical: image crypttab: the secret-keyed entry, then cryptroot's key-less one" \
	"data  UUID=$U2  $S/$GUID1  luks,x-coco.require-mac|root UUID=$U1 none luks,discard" \
	"$(joined "$TAB")"
tap_check "typical: a warning names the entry cryptroot left out" \
	grep -q "^W: coco-unlock: data is keyed by an injected secret.*write 'none'" "$R/err"
tap_is "typical: one warning only" 1 "$(grep -c '^W:' "$R/err")"
tap_empty "typical: nothing on stdout" "$R/rc" "$(cat "$R/out")"
unexpected=$(grep -vE '^(copy_exec|manual_add_modules) ' "$R/calls" || true)
tap_empty "typical: nothing else asked for" "$R/calls" "$unexpected"

# --- the kernel: efi_secret or not (issue 25) --------------------------------
# Debian's stock kernels have no efi_secret: the image is made (the prompt
# still works) and the hook says, once, which kernel and what to do.
cp "$T/typical.crypttab" "$T/stock.crypttab"
cp "$T/typical.cryptroot" "$T/stock.cryptroot"
run stock MODULESDIR=/lib/modules/6.1.0-stock version=6.1.0-stock
tap_is "kernel without efi_secret: the hook succeeds" 0 "$(cat "$R/rc")"
tap_check "kernel without efi_secret: one line names the kernel and what to do" \
	grep -q "^W: coco-unlock: kernel 6.1.0-stock has no efi_secret, .*CONFIG_EFI_SECRET" "$R/err"
tap_is "kernel without efi_secret: said once, beside the crypttab warning" 1 \
	"$(grep -c 'no efi_secret' "$R/err")"
grep 'no efi_secret' "$R/err" | sed 's/^/#   /'
# On Ubuntu the module is in linux-modules-extra-VERSION.
cp "$T/typical.crypttab" "$T/ubuntu.crypttab"
cp "$T/typical.cryptroot" "$T/ubuntu.cryptroot"
printf 'NAME="Ubuntu"\nID=ubuntu\nID_LIKE=debian\n' >"$T/os-release.ubuntu"
run ubuntu MODULESDIR=/lib/modules/6.1.0-stock version=6.1.0-stock
# Again with Ubuntu's /etc/os-release in the tree run() made.
cp "$T/os-release.ubuntu" "$R/etc/os-release"
# shellcheck disable=SC2086 # IT_CHROOT: a command and its options
env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DESTDIR=/dest MODULESDIR=/lib/modules/6.1.0-stock \
	version=6.1.0-stock MODULES=dep verbose=n $IT_CHROOT "$R" /bin/sh /hook >"$R/out" 2>"$R/err"
tap_check "kernel without efi_secret, on Ubuntu: install linux-modules-extra-VERSION" \
	grep -q "^W: coco-unlock: kernel 6.1.0-stock has no efi_secret, .*install linux-modules-extra-6.1.0-stock\$" "$R/err"
# Built in (modules.builtin) or a module (the typical run): nothing said
# but the crypttab warning (the proof the hook ran to its end).
cp "$T/typical.crypttab" "$T/builtin.crypttab"
cp "$T/typical.cryptroot" "$T/builtin.cryptroot"
run builtin MODULESDIR=/lib/modules/6.8.0-builtin version=6.8.0-builtin
tap_is "efi_secret built in: the hook succeeds" 0 "$(cat "$R/rc")"
tap_absent "efi_secret built in: no word of it" "$R/err" 'efi_secret' 'data is keyed'
tap_absent "efi_secret a module: no word of it" "$T/typical/err" 'efi_secret' 'data is keyed'

# --- the root volume keyed by a secret: cryptroot drops it ----------------
printf 'root UUID=%s %s/%s luks\n' "$U1" "$S" "$GUID2" >"$T/rootkey.crypttab"
: >"$T/rootkey.cryptroot"
run rootkey
tap_is "root keyed by a secret: the hook succeeds" 0 "$(cat "$R/rc")"
tap_is "root keyed by a secret: coco-unlock still gets it" \
	"root UUID=$U1 $S/$GUID2 luks" "$(cat "$TAB")"
tap_check "root keyed by a secret: warned (no passphrase fallback)" \
	grep -q "^W: coco-unlock: root is keyed by an injected secret" "$R/err"

# --- an entry in both: the host's line (with the secret), once, no warning --
printf 'usr UUID=%s %s/%s luks,initramfs\n' "$U3" "$S" "$GUID1" >"$T/both.crypttab"
printf 'usr UUID=%s none luks,initramfs\n' "$U3" >"$T/both.cryptroot"
run both
tap_is "in both crypttabs: the host's line, once" \
	"usr UUID=$U3 $S/$GUID1 luks,initramfs" "$(joined "$TAB")"
tap_empty "in both crypttabs: no warning, nothing on stderr" "$R/rc" "$(cat "$R/err")"

# --- no crypttab anywhere: an empty one (coco-unlock then scans tokens) ----
run none
tap_is "no crypttab: the hook succeeds" 0 "$(cat "$R/rc")"
tap_check "no crypttab: the image crypttab exists" test -f "$TAB"
tap_empty "no crypttab: and is empty" "$R/rc" "$(cat "$TAB" 2>/dev/null)"
tap_empty "no crypttab: nothing said" "$R/rc" "$(cat "$R/out" "$R/err")"

# --- cryptroot not installed: host entries keyed by a secret only ----------
cp "$T/typical.crypttab" "$T/nocryptroot.crypttab"
run nocryptroot
tap_is "no cryptroot: only the secret-keyed entry" \
	"data  UUID=$U2  $S/$GUID1  luks,x-coco.require-mac" "$(joined "$TAB")"

# --- MODULES=most: the crypto directories, as cryptroot copies them --------
run most MODULES=most
tap_is "MODULES=most: kernel/crypto and the arch crypto directories" \
	"kernel/arch/x86/crypto|kernel/crypto" "$(calls copy_modules_dir | sort | tr '\n' '|' | sed 's/|$//')"
tap_absent "MODULES=most: no cipher modules one by one" "$R/calls" '^manual_add_modules .*\<xts\>'

# --- the token plugin: beside libcryptsetup, when installed ----------------------
L=/usr/lib/x86_64-linux-gnu
P=libcryptsetup-token-coco-efi-secret.so
tap_absent "no plugin installed: none asked for" "$T/typical/calls" 'token'
mkdir -p "$B$L/cryptsetup"
printf '\177ELF fake lib\n' >"$B$L/libcryptsetup.so.12"
printf '\177ELF fake plugin\n' >"$B$L/cryptsetup/$P"
run plugin
tap_is "plugin installed: copied where libcryptsetup looks, with the binary" \
	"/usr/lib/coco-unlock/coco-unlock.static /usr/sbin/coco-unlock|$L/cryptsetup/$P $L/cryptsetup/$P" \
	"$(calls copy_exec | tr '\n' '|' | sed 's/|$//')"
printf '\177ELF fake other plugin\n' >"$B/other-plugin.so"
run plugin-override COCO_UNLOCK_PLUGIN=/other-plugin.so
tap_check "COCO_UNLOCK_PLUGIN: that file, at the same place" \
	grep -qx "copy_exec /other-plugin.so $L/cryptsetup/$P" "$R/calls"
rm -rf "$B$L" "$B/other-plugin.so"

# --- the binary --------------------------------------------------------------
rm "$B/usr/lib/coco-unlock/coco-unlock.static"
run dynamic
tap_is "dynamic build only: copied from /usr/sbin" \
	"/usr/sbin/coco-unlock /usr/sbin/coco-unlock" "$(calls copy_exec)"
printf '\177ELF fake other\n' >"$B/other"
chmod 0755 "$B/other"
run override COCO_UNLOCK_BINARY=/other
tap_is "COCO_UNLOCK_BINARY: that file" "/other /usr/sbin/coco-unlock" "$(calls copy_exec)"
rm "$B/usr/sbin/coco-unlock"
run missing
tap_check "no binary: the hook fails (mkinitramfs stops)" test "$(cat "$R/rc")" != 0
tap_check "no binary: the error names the places looked in" \
	grep -q '^E: coco-unlock: no coco-unlock binary (looked for /usr/lib/coco-unlock/coco-unlock.static' "$R/err"
tap_empty "no binary: nothing added" "$R/rc" "$(cat "$R/calls")"

tap_done
