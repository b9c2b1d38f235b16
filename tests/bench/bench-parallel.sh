#!/usr/bin/env bash
# Figures from one QEMU guest run with 2 vCPUs (not pass/fail): the static
# coco-unlock ($BUILD/static/coco-unlock.stripped) unlocking several
# volumes at once (the default, agent/workers.c) against --serial, timed
# inside the guest by tests/boot/bench-parallel-init, with --dry-run (the
# KDF work is done; no mapping):
#   - 8 volumes enrolled as `coco-secret enroll` does (a token with a MAC,
#     its keyslot PBKDF2-SHA256 with 1000 iterations), found by their UUIDs;
#   - 4 volumes with an argon2id 64 MiB/4 keyslot, named keys;
#   - and, to tell the crypto backend from the rest, the 8 PBKDF2 ones with
#     the dynamic build ($BUILD/coco-unlock, Debian's libcryptsetup and
#     its user-space crypto) when it is there.
# It prints each time, the ratio parallel/serial (target for the 8 PBKDF2
# volumes: at most 0.6), the failed runs, and the guest's OOM lines; and a
# baseline, two shell loops at once against one after the other, for how
# much the host let the two vCPUs run at once (0.5 on an idle host).
# Under TCG the times are emulated and the host's other load shows in
# them: good for the ratio, not as real-hardware times.
# Environment as for the boot tests (TOP, BUILD, CACHE, COCO_SECRET);
# skips with a message when the static build, coco-secret, the test kernel
# or the injector is missing.
set -u
: "${TOP:?}" "${BUILD:?}"
# Taken before lib.sh gives it its default for tests (180 s).
BENCH_TIMEOUT=${BOOT_TIMEOUT:-900}
. "$TOP/tests/boot/lib.sh"

STATIC=$BUILD/static/coco-unlock.stripped
DYNAMIC=$BUILD/coco-unlock
COCO_SECRET=${COCO_SECRET:-$BUILD/coco-secret}
RUNS=${BENCH_PARALLEL_RUNS:-4}
PBKDF2_VOLUMES=8 ARGON2_VOLUMES=4
echo "== several volumes at once (QEMU TCG, 2 vCPUs): parallel vs --serial"
bench_ready bench-parallel "$STATIC" "$COCO_SECRET" "$INJECTOR" || exit 0
boot_kernel || exit 1

RUN=$BOOT_WORK/runs/bench-parallel
rm -rf "$RUN"
mkdir -p "$RUN"
root=$RUN/initrd-tree
mkdir -p "$root"/{proc,sys,dev,run,tmp,etc,bench}
busybox_tree "$root" || exit 1
install -m 0755 "$BOOT_SRC/bench-parallel-init" "$root/init"
install -D -m 0755 "$STATIC" "$root/bench/static/coco-unlock"
sets="pbkdf2 argon2"
if [ -f "$DYNAMIC" ]; then
	copy_with_libs "$root" "$DYNAMIC" bench/dynamic/coco-unlock || exit 1
	sets="$sets pbkdf2-dynamic"
fi
echo "$RUNS" >"$root/bench/runs"
echo "$sets" >"$root/bench/sets"
: >"$RUN/secrets.txt"

# secret NAME: a random secret (text, 44 bytes), remembered to look for on
# the console; never printed.
secret() {
	head -c 33 /dev/urandom | base64 | tr -d '\n' >"$1"
	cat "$1" >>"$RUN/secrets.txt"
	echo >>"$RUN/secrets.txt"
}
# small_luks IMG KEYFILE [luksFormat options]: a 4 MiB LUKS2 image (1 MiB
# of keyslots: room for two), so twelve of them fit in the guest's memory.
small_luks() {
	local img=$1 key=$2
	shift 2
	truncate -s 4M "$img"
	cryptsetup luksFormat -q --type luks2 --disable-locks --luks2-metadata-size 16k \
		--luks2-keyslots-size 1m "$@" --key-file "$key" "$img" >/dev/null
}

set_dir=$root/bench/pbkdf2
mkdir -p "$set_dir/dev" "$set_dir/secrets"
cmdline=
for i in $(seq "$PBKDF2_VOLUMES"); do
	guid=$(printf 'c0c0%04x-0000-4000-8000-00000000%04x' "$i" "$i")
	secret "$RUN/pass-$i"
	secret "$set_dir/secrets/$guid"
	small_luks "$set_dir/dev/v$i.img" "$RUN/pass-$i" --pbkdf pbkdf2 --pbkdf-force-iterations 1000 || exit 1
	"$COCO_SECRET" enroll "$set_dir/dev/v$i.img" --guid "$guid" --secret-file "$set_dir/secrets/$guid" \
		--unlock-key-file "$RUN/pass-$i" >/dev/null 2>>"$RUN/coco-secret.log" ||
		{ cat "$RUN/coco-secret.log"; exit 1; }
	cmdline="$cmdline rd.luks.uuid=$(cryptsetup luksUUID "$set_dir/dev/v$i.img")"
done
echo "${cmdline# } rd.coco.timeout=5" >"$set_dir/cmdline"
echo /bench/static/coco-unlock >"$set_dir/bin"
if [ -f "$DYNAMIC" ]; then
	mkdir -p "$root/bench/pbkdf2-dynamic"
	for f in dev secrets cmdline; do ln -s "../pbkdf2/$f" "$root/bench/pbkdf2-dynamic/$f"; done
	echo /bench/dynamic/coco-unlock >"$root/bench/pbkdf2-dynamic/bin"
fi

set_dir=$root/bench/argon2
mkdir -p "$set_dir/dev" "$set_dir/secrets"
cmdline=
for i in $(seq "$ARGON2_VOLUMES"); do
	guid=$(printf 'a2a2%04x-0000-4000-8000-00000000%04x' "$i" "$i")
	secret "$set_dir/secrets/$guid"
	small_luks "$set_dir/dev/a$i.img" "$set_dir/secrets/$guid" --pbkdf argon2id --pbkdf-memory 65536 \
		--pbkdf-force-iterations 4 --pbkdf-parallel 1 || exit 1
	uuid=$(cryptsetup luksUUID "$set_dir/dev/a$i.img")
	cmdline="$cmdline rd.luks.uuid=$uuid rd.coco.key=$uuid:$guid"
done
echo "${cmdline# } rd.coco.timeout=5" >"$set_dir/cmdline"
echo /bench/static/coco-unlock >"$set_dir/bin"

INITRD=$RUN/initrd.img
(cd "$root" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0 | gzip -1 >"$INITRD") || exit 1
rm -rf "$root"

esp_image "$RUN/esp.img" "$BOOT_CMDLINE_BASE" || exit 1
BOOT_TIMEOUT=$BENCH_TIMEOUT
if ! BOOT_SMP=2 boot_vm "$RUN/serial.log" "$RUN/esp.img"; then
	echo "bench-parallel: the guest run failed (log: $RUN/serial.log.txt)"
	exit 1
fi
log=$RUN/serial.log.txt
leaked=0
while IFS= read -r s; do
	[ -n "$s" ] && grep -aqF -- "$s" "$log" && leaked=1
done <"$RUN/secrets.txt"
if [ "$leaked" = 1 ]; then
	echo "bench-parallel: a secret appeared on the console!"
	exit 1
fi
if ! grep -aq '^GUEST-DONE' "$log"; then
	echo "bench-parallel: the guest did not finish (log: $log)"
	exit 1
fi

# stat SET MODE EXPECTED: "<mean ms> <runs> <failed>"; a run fails unless
# it exits 0, verifies EXPECTED volumes and leaves no secret.
stat() {
	awk -v s="$1" -v m="$2" -v want="$3" '$1 == "BENCH" && $2 == s && $3 == m {
		for (i = 4; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		n++; total += v["ms"]
		if (v["status"] != 0 || v["verified"] != want || v["left"] != 0) failed++
	} END { printf "%.0f %d %d\n", n ? total / n : 0, n, failed }' "$log"
}
row() { # LABEL SET EXPECTED
	local p pf s sf
	read -r p _ pf <<<"$(stat "$2" parallel "$3")"
	read -r s _ sf <<<"$(stat "$2" serial "$3")"
	FAILED=$((FAILED + pf + sf))
	printf '%-44s %9s %9s %9s\n' "$1" "$p" "$s" \
		"$(awk -v a="$p" -v b="$s" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')"
}
FAILED=0
echo "guest: $(grep -a '^BENCH-CPUS' "$log" | cut -d' ' -f2) CPUs online, ${BOOT_MEM_MIB:-1024} MiB; $RUNS runs of each, in turns; ms per run (/proc/uptime, 10 ms steps)"
printf '%-44s %9s %9s %9s\n' "static build" parallel serial ratio
row "$PBKDF2_VOLUMES volumes, PBKDF2-1000 (coco-secret enroll)" pbkdf2 "$PBKDF2_VOLUMES"
row "$ARGON2_VOLUMES volumes, argon2id 64 MiB/4" argon2 "$ARGON2_VOLUMES"
[ -f "$DYNAMIC" ] && row "  the $PBKDF2_VOLUMES PBKDF2 ones, dynamic build" pbkdf2-dynamic "$PBKDF2_VOLUMES"
row "baseline: 2 shell loops, at once / in turn" baseline 2
echo "(target: ratio <= 0.6 for the $PBKDF2_VOLUMES PBKDF2 volumes)"
echo "failed runs: $FAILED; OOM lines in the guest's kernel log: $(grep -a '^BENCH-OOM' "$log" | cut -d' ' -f2)"
echo "what the scheduler did (one rd.coco.debug run each):"
grep -a '^BENCH-DEBUG' "$log" | sed 's/^BENCH-DEBUG /  /; s/coco-unlock: //'
echo "(guest run: ${BOOT_SECONDS}s; log: $log)"
