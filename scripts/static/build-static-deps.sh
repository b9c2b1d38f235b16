#!/bin/bash
# Builds the static (musl) libraries the static coco-unlock links against,
# from Debian 12 SOURCE packages pinned by version, and prints the prefix:
#
#   scripts/static/build-static-deps.sh         -> $CACHE/static-<key>
#   scripts/static/build-static-deps.sh --key   prints only the key
#
# The prefix holds lib/*.a, include/, lib/pkgconfig/*.pc (use it with
# PKG_CONFIG_LIBDIR=PREFIX/lib/pkgconfig pkg-config --static) and
# kernel-include/ (the kernel's uapi headers for musl-gcc: add it with
# -isystem). It is keyed by the pinned versions, the flags (this script)
# and the toolchain, and built once; a finished prefix has a .complete
# stamp. Sources come through apt (`apt-get source`, checked against the
# signed Sources indexes) with a private deb-src list under $CACHE/apt: the
# system's apt configuration is not touched.
#
# Environment: CACHE (default ~/.cache/coco-unlock), JOBS (default: nproc),
# DEBIAN_MIRROR, DEBIAN_SECURITY_MIRROR (default: the archives apt is
# configured with; scripts/apt-sources.sh).
set -eu
set -o pipefail

# The pins. Each must be served by the mirror (bookworm, bookworm-updates
# or bookworm-security); the Debian 12 -dev packages of the dynamic build
# have the same upstream versions.
SOURCES=(
	"util-linux=2.38.1-5+deb12u3"
	"json-c=0.16-2"
	"lvm2=2.03.16-2"
	"libzstd=1.5.4+dfsg2-5"
	"kmod=30+20221128-1"
	"libgpg-error=1.46-1"
	"libgcrypt20=1.10.1-3+deb12u1"
	"cryptsetup=2:2.6.1-4~deb12u2"
)

# Flags shared by every library: small code, sections the final link can
# drop. -fPIC is not needed: the result is linked with -static.
OPT_CFLAGS="-Os -ffunction-sections -fdata-sections"
# libcryptsetup is built for speed instead: its bundled argon2 at -Os takes
# 1.7x the time of Debian's libargon2 under the cryptsetup CLI; at -O2 it
# takes 0.9x (tests/bench/bench-boot.sh), for 41 KB.
CRYPTSETUP_OPT_CFLAGS="-O2 -ffunction-sections -fdata-sections"

CACHE=${CACHE:-$HOME/.cache/coco-unlock}
JOBS=${JOBS:-$(nproc)}
me=build-static-deps.sh

die() {
	echo "$me: $*" >&2
	exit 1
}
say() {
	echo "$me: $*" >&2
}

for tool in musl-gcc apt-get dpkg-source autoreconf autopoint libtoolize cmake make pkg-config gperf sha256sum flock; do
	command -v "$tool" >/dev/null ||
		die "'$tool' is missing; run: scripts/install-deps.sh static"
done

# The key: versions, flags (this whole script) and the toolchain.
pkgver() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo none; }
key=$(
	{
		printf '%s\n' "${SOURCES[@]}"
		echo "$OPT_CFLAGS $CRYPTSETUP_OPT_CFLAGS"
		cat "$0"
		echo "musl $(pkgver musl-dev) linux-libc-dev $(pkgver linux-libc-dev)"
		x86_64-linux-gnu-gcc -dumpfullversion
	} | sha256sum | cut -c1-16
)
if [ "${1:-}" = --key ]; then
	echo "$key"
	exit 0
fi

PREFIX=$CACHE/static-$key
mkdir -p "$CACHE"
exec 9>"$PREFIX.lock"
flock 9
if [ -e "$PREFIX/.complete" ]; then
	echo "$PREFIX"
	exit 0
fi

start=$(date +%s)
say "building static libraries into $PREFIX (a few minutes; logs in $PREFIX.work/log)"
rm -rf "$PREFIX" "$PREFIX.work"
WORK=$PREFIX.work
mkdir -p "$PREFIX"/{lib/pkgconfig,include,kernel-include} "$WORK/log"

# --- sources, through apt ---------------------------------------------------
APTDIR=$CACHE/apt
SRCDIR=$CACHE/sources
mkdir -p "$APTDIR/lists/partial" "$APTDIR/cache/archives/partial" "$SRCDIR"

# The archives this machine's apt uses (mirrors, proxies, local copies),
# reused as deb-src: scripts/apt-sources.sh reads them and says what to do
# when none serves bookworm.
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
[ -r "$KEYRING" ] || die "$KEYRING is missing (package debian-archive-keyring): apt cannot verify the sources"
archives=$("$(dirname "$0")/../apt-sources.sh") || die "no Debian 12 archive to fetch sources from (see above)"
echo "$archives" | awk -v k="$KEYRING" '{ print "deb-src [signed-by=" k "] " $1 " " $2 " main" }' \
	>"$APTDIR/sources.list"
APT_OPTS=(
	-o "Dir::Etc::sourcelist=$APTDIR/sources.list" -o Dir::Etc::sourceparts=-
	-o "Dir::State::Lists=$APTDIR/lists" -o "Dir::Cache=$APTDIR/cache"
	-o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache=
	-o APT::Sandbox::User="$(id -un)" -o Debug::NoLocking=1
)

have_all_sources() {
	local s name ver
	for s in "${SOURCES[@]}"; do
		name=${s%%=*} ver=${s#*=}
		ver=${ver#*:}
		[ -e "$SRCDIR/.fetched-${name}_${ver}" ] || return 1
	done
}

if ! have_all_sources; then
	say "apt-get update (private deb-src list: $(echo "$archives" | tr '\n' ' '))"
	apt-get "${APT_OPTS[@]}" -q update >"$WORK/log/apt-update.log" 2>&1 ||
		die "apt-get update of the deb-src list failed; see $WORK/log/apt-update.log"
	for s in "${SOURCES[@]}"; do
		name=${s%%=*} ver=${s#*=}
		if ! apt-cache "${APT_OPTS[@]}" showsrc "$name" 2>/dev/null | grep -x "Version: $ver" >/dev/null; then
			served=$(apt-cache "${APT_OPTS[@]}" showsrc "$name" 2>/dev/null |
				sed -n 's/^Version: //p' | tr '\n' ' ')
			die "source package $name version $ver is not served by $(echo "$archives" | tr '\n' ' '); served: ${served:-none}. Update the pin in scripts/static/build-static-deps.sh"
		fi
	done
	(cd "$SRCDIR" && apt-get "${APT_OPTS[@]}" -q source --download-only "${SOURCES[@]}") \
		>"$WORK/log/apt-source.log" 2>&1 ||
		die "apt-get source failed (download or hash check); see $WORK/log/apt-source.log"
	# Every file apt fetched passed its hash check: mark them done, so an
	# interrupted download is fetched again.
	for s in "${SOURCES[@]}"; do
		name=${s%%=*} ver=${s#*=}
		ver=${ver#*:}
		[ -e "$SRCDIR/${name}_${ver}.dsc" ] || die "apt-get source left no ${name}_${ver}.dsc in $SRCDIR"
		: >"$SRCDIR/.fetched-${name}_${ver}"
	done
fi

# Unpacks a source package with its Debian patches; prints the directory.
unpack() { # $1: name
	local s ver
	for s in "${SOURCES[@]}"; do
		[ "${s%%=*}" = "$1" ] && ver=${s#*=}
	done
	ver=${ver#*:}
	dpkg-source -x "$SRCDIR/${1}_${ver}.dsc" "$WORK/$1" >"$WORK/log/$1-unpack.log" 2>&1 ||
		die "dpkg-source -x ${1}_${ver}.dsc failed; see $WORK/log/$1-unpack.log"
	echo "$WORK/$1"
}

# Runs a build step with its output in a log; on failure shows the tail.
step() { # $1: log name, rest: command
	local log=$WORK/log/$1.log
	shift
	if ! "$@" >>"$log" 2>&1; then
		tail -n 30 "$log" >&2
		die "step failed: $*; whole log: $log"
	fi
}

# --- toolchain ----------------------------------------------------------------
# musl-gcc sees only musl's headers: expose the kernel's uapi directories.
KINC=$PREFIX/kernel-include
ln -s /usr/include/linux "$KINC/linux"
ln -s /usr/include/asm-generic "$KINC/asm-generic"
ln -s /usr/include/x86_64-linux-gnu/asm "$KINC/asm"
for d in linux asm-generic asm; do
	[ -d "$KINC/$d/" ] || die "kernel headers missing ($KINC/$d); install linux-libc-dev"
done

export CC=musl-gcc
export CFLAGS="$OPT_CFLAGS -isystem $KINC"
export CPPFLAGS="-I$PREFIX/include"
export LDFLAGS="-L$PREFIX/lib"
export PKG_CONFIG_LIBDIR=$PREFIX/lib/pkgconfig
export PKG_CONFIG_PATH=
export PKG_CONFIG="pkg-config --static"
export LC_ALL=C
CONF=(--prefix="$PREFIX" --libdir="$PREFIX/lib" --disable-shared --enable-static --disable-nls)

# --- util-linux: libuuid, libblkid -------------------------------------------
say "util-linux (libuuid, libblkid)"
src=$(unpack util-linux)
cd "$src"
GTKDOCIZE=true step util-linux autoreconf -fi
step util-linux ./configure "${CONF[@]}" --disable-all-programs --enable-libuuid \
	--enable-libblkid --without-systemd --without-udev --without-python \
	--without-readline --without-ncurses --without-ncursesw --without-tinfo \
	--without-libz --without-user --without-btrfs --without-cryptsetup \
	--without-econf --without-selinux --without-audit --disable-bash-completion \
	--disable-asciidoc --disable-poman --disable-makeinstall-chown \
	--disable-makeinstall-setuid --disable-gtk-doc
step util-linux make -j"$JOBS"
step util-linux make install

# --- json-c ---------------------------------------------------------------------
say "json-c"
src=$(unpack json-c)
# CMake 4 (Ubuntu 26.04's) refuses json-c 0.16's cmake_minimum_required
# (2.8) unless told which policies to assume; older CMakes ignore this.
export CMAKE_POLICY_VERSION_MINIMUM=3.5
step json-c cmake -S "$src" -B "$src/build" -DCMAKE_BUILD_TYPE=MinSizeRel \
	-DCMAKE_C_COMPILER=musl-gcc -DCMAKE_C_FLAGS="$CFLAGS" \
	-DCMAKE_INSTALL_PREFIX="$PREFIX" -DCMAKE_INSTALL_LIBDIR=lib \
	-DBUILD_SHARED_LIBS=OFF -DBUILD_STATIC_LIBS=ON -DBUILD_TESTING=OFF \
	-DBUILD_APPS=OFF -DDISABLE_EXTRA_LIBS=ON -DDISABLE_WERROR=ON -DENABLE_THREADING=OFF
step json-c make -C "$src/build" -j"$JOBS"
step json-c make -C "$src/build" install

# --- lvm2: libdevmapper alone ---------------------------------------------------
say "lvm2 (libdevmapper)"
src=$(unpack lvm2)
cd "$src"
step lvm2 ./configure --prefix="$PREFIX" --libdir="$PREFIX/lib" --enable-static_link \
	--disable-selinux --disable-udev_sync --disable-udev-systemd-background-jobs \
	--disable-blkid_wiping --disable-readline --disable-nls --disable-systemd-journal \
	--disable-app-machineid --enable-pkgconfig --with-symvers=no
step lvm2 make -j"$JOBS" device-mapper
install -m 0644 libdm/ioctl/libdevmapper.a "$PREFIX/lib/"
install -m 0644 libdm/libdevmapper.h "$PREFIX/include/"
step lvm2 make -C libdm install_pkgconfig

# --- libzstd: decompression only, for libkmod ---------------------------------
# Ubuntu's modules are .ko.zst: a libkmod without zstd cannot read
# efi_secret's, so coco-unlock could not load it there. Decompression is all
# libkmod asks of it.
say "libzstd (decompression)"
src=$(unpack libzstd)
ZSTD_MAKE=(CC=musl-gcc CFLAGS="$CFLAGS" PREFIX="$PREFIX" LIBDIR="$PREFIX/lib"
	ZSTD_LIB_COMPRESSION=0 ZSTD_LIB_DICTBUILDER=0 ZSTD_LIB_DEPRECATED=0 ZSTD_LEGACY_SUPPORT=0)
step libzstd make -C "$src/lib" -j"$JOBS" "${ZSTD_MAKE[@]}" libzstd.a
step libzstd make -C "$src/lib" "${ZSTD_MAKE[@]}" install-static install-includes install-pc

# --- kmod: libkmod ---------------------------------------------------------------
say "kmod (libkmod)"
src=$(unpack kmod)
cd "$src"
# configure.ac refuses --enable-static outright; the library builds fine.
sed -i '/--enable-static is not supported by kmod/d' configure.ac
touch libkmod/docs/gtk-doc.make
step kmod autoreconf -fi
# kmod 30 calls GNU basename() (const in, a pointer into it out); musl
# 1.2.5 (Debian 13, Ubuntu 24.04) no longer declares it in <string.h>, and
# GCC 14 refuses the implicit declaration. The GNU one, for kmod only
# (kmod never includes <libgen.h>, whose POSIX basename this would hide).
cat >"$WORK/gnu-basename.h" <<'EOF'
#include <string.h>
static inline char *coco_gnu_basename(const char *p)
{
	const char *s = strrchr(p, '/');
	return (char *)(s ? s + 1 : p);
}
#define basename coco_gnu_basename
EOF
step kmod ./configure "${CONF[@]}" --with-zstd --without-xz --without-zlib \
	--without-openssl --disable-manpages --disable-test-modules --disable-python
# At make time only: configure's own probes must see the plain headers.
step kmod make -j"$JOBS" CPPFLAGS="$CPPFLAGS -include $WORK/gnu-basename.h" libkmod/libkmod.la
step kmod make install-libLTLIBRARIES install-includeHEADERS install-pkgconfigDATA

# --- libgpg-error and libgcrypt: the crypto backend ------------------------------
# User-space crypto, so that the static build needs nothing from the kernel's
# crypto API (the kernel backend needs AF_ALG: af_alg, algif_hash and
# algif_skcipher loaded, and a system call per hash block). Of Debian 12's
# candidates, measured in one guest run (tests/bench/bench-boot.sh with
# BENCH_EXTRA), as ratios to the cryptsetup CLI and stripped sizes:
#   libgcrypt 1.10.1: PBKDF2-1000 0.79x, argon2id 64 MiB 0.89x, 1,387,576 B;
#     user-space aes, serpent and twofish in xts and cbc;
#   OpenSSL 3.0.20 with 50 no-* options: PBKDF2 0.72x, argon2 1.51x (at
#     -Os), 1,823,280 B: over the 1.5 MiB limit, and no serpent or twofish;
#   nettle 3.8.1: cryptsetup 2.6.1's nettle backend has no ciphers of its
#     own (crypt_cipher_init is AF_ALG only), so keyslots still need AF_ALG.
# Only the algorithms a LUKS header may name (shared/header-policy.c) are
# built, and those the library's own tables refer to (chacha20, blake2, ecc);
# the final link drops what nothing calls.
say "libgpg-error"
src=$(unpack libgpg-error)
cd "$src"
step libgpg-error ./configure "${CONF[@]}" --disable-doc --disable-tests --disable-languages \
	--disable-threads
step libgpg-error make -C src -j"$JOBS"
step libgpg-error make -C src install

say "libgcrypt"
src=$(unpack libgcrypt20)
cd "$src"
step libgcrypt ./configure "${CONF[@]}" --with-libgpg-error-prefix="$PREFIX" --disable-doc \
	--enable-ciphers=aes,serpent,twofish,chacha20 --enable-digests=sha1,sha256,sha512,blake2 \
	--enable-kdfs=pkdf2 --enable-pubkey-ciphers=ecc --enable-random=linux \
	--disable-jent-support --disable-padlock-support
# The library alone: the tools (mpicalc) do not link with this subset.
step libgcrypt make -j"$JOBS" SUBDIRS="compat mpi cipher random src"
step libgcrypt make -C src install

# --- cryptsetup: libcryptsetup, libgcrypt backend, internal argon2 ---------------
say "cryptsetup (libcryptsetup)"
src=$(unpack cryptsetup)
cd "$src"
# AM_PATH_LIBGCRYPT from the libgcrypt just built, not from the host's -dev
# package (which may be missing or another version).
ACLOCAL_PATH=$PREFIX/share/aclocal step cryptsetup ./autogen.sh
# configure demands popt even with every tool disabled; the library does
# not use it. The bundled argon2 is the reference code: under TCG its SSE
# variant was slower at -O2 (1.05x the CLI against 0.89x).
CFLAGS="$CRYPTSETUP_OPT_CFLAGS -isystem $KINC" \
	step cryptsetup ./configure "${CONF[@]}" ac_cv_lib_popt_poptConfigFileToString=yes \
	--with-crypto_backend=gcrypt LIBGCRYPT_CONFIG="$PREFIX/bin/libgcrypt-config" \
	--enable-internal-argon2 \
	--disable-cryptsetup --disable-veritysetup --disable-integritysetup \
	--disable-ssh-token --disable-external-tokens --disable-asciidoc \
	--disable-selinux --disable-udev --disable-pwquality --disable-passwdqc \
	--disable-fips --enable-blkid
step cryptsetup make -j"$JOBS" libcryptsetup.la
step cryptsetup make install-libLTLIBRARIES install-includeHEADERS install-pkgconfigDATA

# --- check and finish -------------------------------------------------------------
for pc in libcryptsetup libkmod libzstd json-c devmapper uuid blkid libgcrypt gpg-error; do
	pkg-config --exists "$pc" || die "$pc.pc missing from $PREFIX/lib/pkgconfig"
done
rm -rf "${PREFIX:?}"/lib/*.la "${PREFIX:?}"/lib/cmake "${PREFIX:?}"/bin "${PREFIX:?}"/sbin "${PREFIX:?}"/share
mv "$WORK/log" "$PREFIX/log"
rm -rf "$WORK"
printf '%s\n' "${SOURCES[@]}" >"$PREFIX/VERSIONS"
echo "$CFLAGS" >"$PREFIX/CFLAGS"
touch "$PREFIX/.complete"
say "done in $(($(date +%s) - start)) s"
echo "$PREFIX"
