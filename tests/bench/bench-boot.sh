#!/usr/bin/env bash
# Figures from one QEMU guest boot (not pass/fail): the static build
# ($BUILD/static/coco-unlock.stripped, musl, libgcrypt) and the dynamic one
# ($BUILD/coco-unlock, glibc, Debian's libcryptsetup) against the tool a
# user would otherwise run, Debian's cryptsetup CLI (`open
# --test-passphrase --key-file`, copied into the image with its libraries),
# timed inside the guest by tests/boot/bench-init on the same keyslots:
# PBKDF2-1000, argon2id 64 MiB/4, and one made in the guest by
# `cryptsetup luksFormat` with its defaults. Each time is printed with its
# ratio to the CLI's. Then, on the host: the static dependencies' build
# time from cache and the stripped sizes.
# BENCH_EXTRA="NAME=BINARY ..." adds more builds to the same guest run
# (how the static crypto backend was chosen: scripts/static/build-static-deps.sh).
# The guest runs under TCG (no KVM here): its times are emulated, good for
# comparing builds with each other in one run, not as real-hardware times.
# Environment as for the boot tests (TOP, BUILD, CACHE); skips with a
# message when the static build, the test kernel or the injector is missing.
set -u
: "${TOP:?}" "${BUILD:?}"
. "$TOP/tests/boot/lib.sh"

STATIC=$BUILD/static/coco-unlock.stripped
DYNAMIC=$BUILD/coco-unlock
CLI=$(command -v cryptsetup || echo /sbin/cryptsetup)
echo "== coco-unlock in a guest (QEMU TCG): static and dynamic builds against the cryptsetup CLI"
bench_ready bench-boot "$STATIC" "$DYNAMIC" "$INJECTOR" "$CLI" || exit 0
boot_kernel || exit 1

RUN=$BOOT_WORK/runs/bench
rm -rf "$RUN"
mkdir -p "$RUN"
root=$RUN/initrd-tree
mkdir -p "$root"/{proc,sys,dev,run,tmp,etc,bench/dev}
busybox_tree "$root" || exit 1
install -m 0755 "$BOOT_SRC/bench-init" "$root/init"
kinds=(static)
install -D -m 0755 "$STATIC" "$root/bench/static/coco-unlock"
for extra in ${BENCH_EXTRA:-}; do
	install -D -m 0755 "${extra#*=}" "$root/bench/${extra%%=*}/coco-unlock" || exit 1
	kinds+=("${extra%%=*}")
done
# The dynamic build and the CLI with their libraries (and libgcc_s.so.1).
copy_with_libs "$root" "$DYNAMIC" bench/dynamic/coco-unlock || exit 1
copy_with_libs "$root" "$CLI" bench/cli/cryptsetup || exit 1
kinds+=(dynamic)

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
# lib.sh set 180 s for tests; the bench runs longer.
BOOT_TIMEOUT=${BENCH_BOOT_TIMEOUT:-900}
# Room for the luksFormat defaults' argon2 memory and coco-unlock's budget
# (half of MemAvailable).
export BOOT_MEM_MIB=${BOOT_MEM_MIB:-2048}
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

# ms KIND WHAT: milliseconds per run over every batch, or FAILED(status).
ms() {
	awk -v k="$1" -v w="$2" '$1 == "BENCH" && $2 == k && $3 == w {
		for (i = 4; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		if (v["status"] != 0) failed = v["status"]
		runs += v["runs"]; total += v["total-ms"]
	} END {
		if (failed != "") printf "FAILED(%s)", failed
		else if (runs > 0) printf "%.1f", total / runs
		else printf "none"
	}' "$log"
}
runs() {
	awk -v w="$1" '$1 == "BENCH" && $2 == "cli" && $3 == w { for (i = 4; i <= NF; i++) if ($i ~ /^runs=/) n += substr($i, 6) } END { print n + 0 }' "$log"
}
# ratio A B: A / B to three places, or "-" when either is not a number.
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 > 0 && b + 0 > 0 && a ~ /^[0-9.]+$/ && b ~ /^[0-9.]+$/) printf "%.3fx", a / b; else printf "-" }'
}
sed -n 's/^BENCH-DEFAULTS /luksFormat defaults in the guest: /p' "$log" | tr -d '\r'
printf '%-44s' "ms per run (guest, TCG)"
for k in "${kinds[@]}"; do printf ' %16s' "$k"; done
printf ' %10s\n' cli
for what in pbkdf2 argon2 defaults; do
	case $what in
	pbkdf2) label="PBKDF2-1000 keyslot" ;;
	argon2) label="argon2id 64 MiB/4 keyslot" ;;
	defaults) label="luksFormat defaults keyslot" ;;
	esac
	cli=$(ms cli "$what")
	printf '%-44s' "$label ($(runs "$what") runs each)"
	for k in "${kinds[@]}"; do
		t=$(ms "$k" "$what")
		printf ' %16s' "$t ($(ratio "$t" "$cli"))"
	done
	printf ' %10s\n' "$cli"
done
printf '%-44s' "start-up: --version"
for k in "${kinds[@]}"; do printf ' %16s' "$(ms "$k" version)"; done
printf '\n(ratios: each build to the cryptsetup CLI; coco-unlock --dry-run, cli open --test-passphrase; guest boot %ss; timer /proc/uptime, 10 ms steps)\n' "$BOOT_SECONDS"

echo "== build and size"
t0=$(date +%s%N)
if prefix=$(CACHE=$CACHE "$TOP/scripts/static/build-static-deps.sh" 2>/dev/null); then
	t1=$(date +%s%N)
	echo "static dependencies from cache (build-static-deps.sh): $(((t1 - t0) / 1000000)) ms ($prefix)"
else
	echo "static dependencies: build-static-deps.sh failed"
fi
strip -o "$RUN/dynamic.stripped" "$DYNAMIC"
printf 'stripped size: static %s bytes (%s MiB), dynamic %s bytes (+ shared libraries)\n' \
	"$(stat -c %s "$STATIC")" "$(awk -v s="$(stat -c %s "$STATIC")" 'BEGIN { printf "%.2f", s / 1048576 }')" \
	"$(stat -c %s "$RUN/dynamic.stripped")"
for extra in ${BENCH_EXTRA:-}; do
	echo "stripped size: ${extra%%=*} $(stat -c %s "${extra#*=}") bytes"
done
libs=0
for l in $(ldd "$DYNAMIC" | grep -o '/[^ ]*'); do
	libs=$((libs + $(stat -L -c %s "$l")))
done
echo "dynamic build's shared libraries (ldd, unstripped as installed): $libs bytes"
