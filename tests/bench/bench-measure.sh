#!/usr/bin/env bash
# Figures, not a test: coco-secret measure on a 64 MiB initrd against
# sha256sum of the same file. The launch digest hashes the initrd once
# (its entry in the SEV hashes table), so the two should take about the
# same time: a ratio far above 1 would mean measure reads or hashes it
# badly. Medians of BENCH_RUNS runs (default 7), the file in the page
# cache for both.
set -eu
: "${COCO_SECRET:?}"
fw=$TOP/../shared/vectors/sev/ovmf_AmdSev_suffix.bin
if [ ! -x "$COCO_SECRET" ] || [ ! -f "$fw" ]; then
	echo "bench-measure: skipped: needs $COCO_SECRET and $fw"
	exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
runs=${BENCH_RUNS:-7}
mib=64
head -c $((mib << 20)) /dev/urandom >"$work/initrd.img"
printf 'fake kernel\n' >"$work/vmlinuz"

# median_us CMD...: the median wall time of $runs runs, in microseconds.
median_us() {
	local i t0 times=()
	"$@" >/dev/null
	for ((i = 0; i < runs; i++)); do
		t0=$(date +%s%N)
		"$@" >/dev/null
		times+=($((($(date +%s%N) - t0) / 1000)))
	done
	printf '%s\n' "${times[@]}" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'
}

measure=$(median_us "$COCO_SECRET" measure --mode sev --ovmf "$fw" --kernel "$work/vmlinuz" \
	--initrd "$work/initrd.img" --append "root=/dev/vda2 ro")
sha=$(median_us sha256sum "$work/initrd.img")
# OpenSSL's own tool too: the same libcrypto SHA-256 as coco-secret, while
# coreutils' sha256sum has its own (no SHA extensions).
ossl=$(median_us openssl dgst -sha256 "$work/initrd.img")
awk -v m="$measure" -v s="$sha" -v o="$ossl" -v mib="$mib" -v runs="$runs" 'BEGIN {
	printf "measure, %d MiB initrd:   coco-secret measure   %7.1f ms (%5.0f MiB/s)\n", mib, m / 1000, mib / (m / 1e6)
	printf "                          sha256sum             %7.1f ms (%5.0f MiB/s)  ratio %.2f\n", s / 1000, mib / (s / 1e6), m / s
	printf "                          openssl dgst -sha256  %7.1f ms (%5.0f MiB/s)  ratio %.2f\n", o / 1000, mib / (o / 1e6), m / o
	printf "                          (ratio: measure / it; medians of %d runs)\n", runs
}'
