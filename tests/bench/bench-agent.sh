#!/usr/bin/env bash
# Figures for the agent on this machine (not pass/fail): binary size,
# start-up time, and the time to verify a PBKDF2 and an argon2id keyslot
# with --dry-run, each the median of several runs.
set -eu
: "${COCO_UNLOCK:?}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
runs=${BENCH_RUNS:-9}

# median_ms CMD...: runs CMD $runs times, prints the median wall time in ms.
median_ms() {
	local i t0 t1 times=()
	for ((i = 0; i < runs; i++)); do
		t0=$(date +%s%N)
		"$@" >/dev/null 2>&1 || true
		t1=$(date +%s%N)
		times+=($(((t1 - t0) / 1000)))
	done
	printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.2f", a[int((NR+1)/2)]/1000}'
}

size=$(stat -c %s "$COCO_UNLOCK")
strip -o "$work/stripped" "$COCO_UNLOCK"
echo "coco-unlock (dynamic): $size bytes, $(stat -c %s "$work/stripped") bytes stripped"
echo "start-up (--version): $(median_ms "$COCO_UNLOCK" --version) ms median of $runs"

mkdir -p "$work/secrets" "$work/dev"
head -c 48 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$work/key"
truncate -s 20M "$work/dev/pbkdf2.img" "$work/dev/argon2.img"
cryptsetup luksFormat -q --type luks2 --pbkdf pbkdf2 --pbkdf-force-iterations 1000 \
	--key-file "$work/key" "$work/dev/pbkdf2.img"
cryptsetup luksFormat -q --type luks2 --pbkdf argon2id --pbkdf-memory 65536 \
	--pbkdf-force-iterations 4 --key-file "$work/key" "$work/dev/argon2.img"
: >"$work/crypttab"
for kind in pbkdf2 argon2; do
	echo "cryptdevice=$work/dev/$kind.img:bench rd.coco.wipe=none" >"$work/cmdline"
	cp "$work/key" "$work/secrets/736869e5-84f0-4973-92ec-06879ce3da0b"
	t=$(median_ms "$COCO_UNLOCK" --secrets-dir "$work/secrets" --cmdline "$work/cmdline" \
		--crypttab "$work/crypttab" --devices-dir "$work/dev" --dry-run)
	case $kind in
	pbkdf2) echo "verify a PBKDF2-1000 keyslot (--dry-run, whole run): $t ms" ;;
	argon2) echo "verify an argon2id 64 MiB/4 keyslot (--dry-run, whole run): $t ms" ;;
	esac
done
