#!/usr/bin/env bash
# Figures from one QEMU guest boot (not pass/fail): the static
# ($BUILD/static/coco-unlock.stripped, musl, cryptsetup's kernel AF_ALG
# backend) against the dynamic ($BUILD/coco-unlock, glibc, Debian's
# libcryptsetup) build, timed inside the guest by tests/boot/bench-init:
# start-up (--version) and a --dry-run that verifies a PBKDF2-1000 and an
# argon2id (64 MiB, 4 iterations) keyslot. Then, on the host: the static
# dependencies' build time from cache and the stripped sizes.
# The guest runs under TCG (no KVM here): its times are emulated, good for
# comparing the two builds with each other, not as real-hardware times.
# Environment as for the boot tests (TOP, BUILD, CACHE); skips with a
# message when the static build, the test kernel or the injector is missing.
set -u
: "${TOP:?}" "${BUILD:?}"
. "$TOP/tests/boot/lib.sh"

STATIC=$BUILD/static/coco-unlock.stripped
DYNAMIC=$BUILD/coco-unlock
echo "== coco-unlock in a guest (QEMU TCG): static vs dynamic build"
for f in "$STATIC" "$DYNAMIC" "$INJECTOR"; do
	if [ ! -f "$f" ]; then
		echo "bench-boot: skipped: no $f (make static boot-prereqs)"
		exit 0
	fi
done
if ! ls "$CACHE"/kernel-*/done >/dev/null 2>&1; then
	echo "bench-boot: skipped: no test kernel in $CACHE (make boot-prereqs)"
	exit 0
fi
boot_kernel || exit 1

RUN=$BOOT_WORK/runs/bench
rm -rf "$RUN"
mkdir -p "$RUN"
root=$RUN/initrd-tree
mkdir -p "$root"/{proc,sys,dev,run,tmp,etc,bench/dev}
busybox_tree "$root" || exit 1
install -m 0755 "$BOOT_SRC/bench-init" "$root/init"
install -D -m 0755 "$STATIC" "$root/bench/static/coco-unlock"
# The dynamic build with its libraries (and libgcc_s.so.1) as the harness
# did before the static build.
copy_with_libs "$root" "$DYNAMIC" bench/dynamic/coco-unlock || exit 1

# The keyslots, made with the cryptsetup CLI; the passphrase is random and
# never printed.
head -c 24 /dev/urandom | base64 | tr -d '\n' >"$root/bench/key"
truncate -s 20M "$root/bench/dev/pbkdf2.img" "$root/bench/dev/argon2.img"
cryptsetup luksFormat -q --type luks2 --disable-locks --pbkdf pbkdf2 --pbkdf-force-iterations 1000 \
	--hash sha256 --key-file "$root/bench/key" "$root/bench/dev/pbkdf2.img" || exit 1
cryptsetup luksFormat -q --type luks2 --disable-locks --pbkdf argon2id --pbkdf-memory 65536 \
	--pbkdf-force-iterations 4 --pbkdf-parallel 1 --key-file "$root/bench/key" \
	"$root/bench/dev/argon2.img" || exit 1
INITRD=$RUN/initrd.img
(cd "$root" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0 | gzip -1 >"$INITRD") || exit 1
cp "$root/bench/key" "$RUN/key"
rm -rf "$root"

esp_image "$RUN/esp.img" "$BOOT_CMDLINE_BASE" || exit 1
BOOT_TIMEOUT=${BOOT_TIMEOUT:-300}
if ! boot_vm "$RUN/serial.log" "$RUN/esp.img"; then
	echo "bench-boot: the guest run failed (log: $RUN/serial.log.txt)"
	exit 1
fi
log=$RUN/serial.log.txt
if grep -aqF -- "$(cat "$RUN/key")" "$log"; then
	echo "bench-boot: the secret appeared on the console!"
	exit 1
fi
grep -aq '^BENCH secret-still-there' "$log" || echo "note: the secret was wiped during the runs"

# value KIND WHAT: "<ms per run>" (and "FAILED(status)" when the last run failed).
value() {
	awk -v k="$1" -v w="$2" '$1 == "BENCH" && $2 == k && $3 == w {
		for (i = 4; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		if (v["status"] != 0) { printf "FAILED(%s)", v["status"]; exit }
		printf "%.2f", v["total-ms"] / v["runs"]; exit
	}' "$log"
}
runs() {
	grep -aE "^BENCH static $1 " "$log" | grep -o 'runs=[0-9]*' | cut -d= -f2
}
printf '%-46s %12s %12s\n' "per run, ms (guest, TCG)" static dynamic
printf '%-46s %12s %12s\n' "start-up: --version ($(runs version) runs)" "$(value static version)" "$(value dynamic version)"
printf '%-46s %12s %12s\n' "--dry-run, PBKDF2-1000 keyslot ($(runs pbkdf2) runs)" "$(value static pbkdf2)" "$(value dynamic pbkdf2)"
printf '%-46s %12s %12s\n' "--dry-run, argon2id 64 MiB/4 keyslot ($(runs argon2) runs)" "$(value static argon2)" "$(value dynamic argon2)"
echo "(guest boot: ${BOOT_SECONDS}s; timer /proc/uptime, 10 ms steps)"

echo "== build and size"
t0=$(date +%s%N)
if prefix=$(CACHE=$CACHE "$TOP/tools/static/build-static-deps.sh" 2>/dev/null); then
	t1=$(date +%s%N)
	echo "static dependencies from cache (build-static-deps.sh): $(((t1 - t0) / 1000000)) ms ($prefix)"
else
	echo "static dependencies: build-static-deps.sh failed"
fi
strip -o "$RUN/dynamic.stripped" "$DYNAMIC"
printf 'stripped size: static %s bytes (%s MiB), dynamic %s bytes (+ shared libraries)\n' \
	"$(stat -c %s "$STATIC")" "$(awk -v s="$(stat -c %s "$STATIC")" 'BEGIN { printf "%.2f", s / 1048576 }')" \
	"$(stat -c %s "$RUN/dynamic.stripped")"
libs=0
for l in $(ldd "$DYNAMIC" | grep -o '/[^ ]*'); do
	libs=$((libs + $(stat -L -c %s "$l")))
done
echo "dynamic build's shared libraries (ldd, unstripped as installed): $libs bytes"
