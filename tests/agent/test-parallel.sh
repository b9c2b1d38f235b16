#!/usr/bin/env bash
# Several volumes at once (agent/workers.c): the same results, messages
# and wipes as --serial; a worker killed with SIGKILL (or SIGTERM) leaves
# no secret and no "already gone"; argon2 keyslots run side by side only
# while their memory fits the budget (lowered here with the test knob
# --parallel-memory), PBKDF2 ones always; a secret a late device needs is
# still there for it. The worker lines are rd.coco.debug's.
. "$(dirname "$0")/lib.sh"

CPUS=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)
G1=10000001-0000-4000-8000-000000000001
G2=10000002-0000-4000-8000-000000000002
GT=10000003-0000-4000-8000-000000000003
GW=10000004-0000-4000-8000-000000000004
GF=10000005-0000-4000-8000-000000000005
GE=10000006-0000-4000-8000-000000000006
GU=10000007-0000-4000-8000-000000000007
for k in key-1 key-2 key-3 key-t pass0 wrong other; do new_secret >"$FIX/$k"; done
: >"$FIX/empty"

# copy IMG NEW: a copy of IMG with a UUID of its own (two devices with one
# UUID would both be refused).
copy() {
	cp --sparse=always "$1" "$2"
	cryptsetup luksUUID -q --uuid "$(cat /proc/sys/kernel/random/uuid)" "$2"
}

# --- the mix: named keys, LUKS1, a token, a wrong key, a shared secret, the
# --- conventional GUID for two volumes, an empty secret, a refused header
make_luks "$DEVICES/v1.img" luks2 "$FIX/key-1"
make_luks "$DEVICES/v2.img" luks1 "$FIX/key-2"
make_luks "$DEVICES/tok.img" luks2 "$FIX/pass0"
add_keyslot "$DEVICES/tok.img" "$FIX/pass0" "$FIX/key-t" 1
add_token "$DEVICES/tok.img" 1 "$GT"
copy "$DEVICES/v1.img" "$DEVICES/twin.img"		# G1 as well
copy "$DEVICES/v1.img" "$DEVICES/wrong.img"		# GW holds the wrong key
copy "$DEVICES/v1.img" "$DEVICES/empty.img"		# GE is empty
copy "$DEVICES/v1.img" "$DEVICES/forged.img"		# GF: refused by the policy
"$TOP/tests/lib/luks2-forge.py" "$DEVICES/forged.img" set segments.0.encryption '"cipher_null-ecb"'
make_luks "$DEVICES/conv.img" luks2 "$FIX/key-3"	# the disk-passphrase GUID
copy "$DEVICES/v2.img" "$DEVICES/conv-wrong.img"	# that GUID does not open it
u() { luks_uuid "$DEVICES/$1.img"; }
MIX="rd.luks.uuid=$(u v1) rd.coco.key=$(u v1):$G1 rd.luks.name=$(u v2)=second rd.coco.key=$(u v2):$G2
rd.luks.uuid=$(u tok) rd.luks.uuid=$(u twin) rd.coco.key=$(u twin):$G1
rd.luks.uuid=$(u wrong) rd.coco.key=$(u wrong):$GW rd.luks.uuid=$(u empty) rd.coco.key=$(u empty):$GE
rd.luks.uuid=$(u forged) rd.coco.key=$(u forged):$GF rd.luks.uuid=$(u conv) rd.luks.uuid=$(u conv-wrong)"
# shellcheck disable=SC2086
MIX=$(printf '%s ' $MIX)	# one line (word splitting on purpose)
mix_secrets() {
	clear_secrets
	put_secret "$G1" "$FIX/key-1"
	put_secret "$G2" "$FIX/key-2"
	put_secret "$GT" "$FIX/key-t"
	put_secret "$GW" "$FIX/wrong"
	put_secret "$GE" "$FIX/empty"
	put_secret "$GF" "$FIX/key-1"
	put_secret "$DISK_GUID" "$FIX/key-3"
	put_secret "$GU" "$FIX/other"
}

# outcome NAME: what a run left, to compare: status, its lines sorted, the
# secrets left, the GUIDs recorded for the late wipe.
outcome() {
	{
		echo "status $RC"
		sort "$OUT"
		echo "-- left:"
		ls "$SECRETS"
		echo "-- recorded:"
		sort -u "$STATE/wipe" 2>/dev/null
	} >"$FIX/outcome-$1"
}

mix_secrets
rm -rf "$STATE"
run_agent mix-serial "$MIX" --serial
rc_is mix-serial 1
outcome serial
for want in "luks-$(u v1): key verified .* with secret $G1 \(named key" \
	"second: key verified .* with secret $G2" \
	"luks-$(u tok): key verified .* with secret $GT \(token, keyslot 1\)" \
	"luks-$(u twin): key verified .* with secret $G1" \
	"luks-$(u wrong): secret $GW \(named key\) does not open it" \
	"secret $GE is empty, skipped" \
	"luks-$(u forged): .* refused by the header policy" \
	"luks-$(u conv): key verified .* with secret $DISK_GUID \(disk-passphrase GUID" \
	"luks-$(u conv-wrong): secret $DISK_GUID \(disk-passphrase GUID\) does not open it"; do
	out_has "mix-serial: $want" "$want"
done
tap_check "mix-serial: only the unrelated secret is left" test "$(ls "$SECRETS")" = "$GU"

for i in 1 2 3; do
	mix_secrets
	rm -rf "$STATE"
	run_agent "mix-parallel-$i" "$MIX"
	outcome "parallel-$i"
	if cmp -s "$FIX/outcome-serial" "$FIX/outcome-parallel-$i"; then
		tap_ok "mix-parallel-$i: status, messages, wipes and record as --serial"
	else
		tap_not_ok "mix-parallel-$i: status, messages, wipes and record as --serial"
		diff "$FIX/outcome-serial" "$FIX/outcome-parallel-$i" | sed 's/^/#   /'
	fi
	out_lacks "mix-parallel-$i: no secret said to be already gone" "already gone"
done

mix_secrets
run_agent mix-debug "$MIX rd.coco.debug"
rc_is mix-debug 1
if [ "$CPUS" -ge 2 ]; then
	tap_is "mix-debug: one worker per volume" 9 "$(grep -cE 'worker [0-9]+ started' "$OUT")"
	out_has "mix-debug: at most one per CPU" "unlocking 9 volumes, at most $((CPUS < 9 ? CPUS : 9)) at once"
	out_has "mix-debug: two run at once" "worker [0-9]+ started: .*, 2 running"
	out_has "mix-debug: PBKDF2 volumes count no memory" "luks-$(u v1): worker [0-9]+ started: argon2 memory 0 KiB"
else
	tap_skip "mix-debug: workers" "one CPU online: no worker, as --serial"
fi
mix_secrets
run_agent serial-debug "$MIX rd.coco.debug" --serial
out_lacks "serial-debug: --serial starts no worker" "worker [0-9]+ started|unlocking [0-9]+ volumes"

# --- killed workers ---------------------------------------------------------
# Two slow keyslots; the worker of the first is killed before or after its
# read. Its secret is gone either way (unlink-first, or the parent's wipe
# of what the plan named); the other volume still opens.
GS1=20000001-0000-4000-8000-000000000001
GS2=20000002-0000-4000-8000-000000000002
mkdir -p "$FIX/slow"
for n in 1 2; do
	truncate -s 20M "$FIX/slow/s$n.img"
	cryptsetup luksFormat -q --type luks2 --pbkdf pbkdf2 --pbkdf-force-iterations 3000000 \
		--key-file "$FIX/key-$n" "$FIX/slow/s$n.img" >/dev/null
done
US1=$(luks_uuid "$FIX/slow/s1.img")
US2=$(luks_uuid "$FIX/slow/s2.img")
SLOW="rd.luks.uuid=$US1 rd.coco.key=$US1:$GS1 rd.luks.uuid=$US2 rd.coco.key=$US2:$GS2 rd.coco.debug"
slow_secrets() {
	clear_secrets
	put_secret "$GS1" "$FIX/key-1"
	put_secret "$GS2" "$FIX/key-2"
	put_secret "$GU" "$FIX/other"
}
# kill_worker NAME SIGNAL AFTER-ERE
kill_worker() {
	local name=$1 sig=$2 after=$3 pid worker
	slow_secrets
	printf '%s\n' "$SLOW" >"$FIX/cmdline"
	: >"$FIX/out"
	"$COCO_UNLOCK" --secrets-dir "$SECRETS" --cmdline "$FIX/cmdline" --crypttab /dev/null \
		--devices-dir "$FIX/slow" --state-dir "$STATE" --dry-run >"$FIX/out" 2>&1 &
	pid=$!
	worker=
	if wait_for_line "luks-$US1: worker [0-9]+ started" && wait_for_line "$after"; then
		worker=$(grep -oE "luks-$US1: worker [0-9]+ started" "$FIX/out" | grep -oE '[0-9]+ started' |
			cut -d' ' -f1)
		kill -s "$sig" "$worker"
	fi
	wait "$pid"
	RC=$?
	OUT=$FIX/out
	agent_ran_mark
	show_output "$name"
	check_no_secret_bytes "$name"
	tap_check "$name: a worker was there to kill" test -n "$worker"
	rc_is "$name" 1
	out_has "$name: the parent says so" "luks-$US1: its worker was killed by signal $(kill -l "$sig"); left closed"
	out_has "$name: the other volume opens" "luks-$US2: key verified"
	tap_check "$name: the killed worker's secret is gone" secret_gone "$GS1"
	tap_check "$name: the other volume's secret is gone" secret_gone "$GS2"
	tap_check "$name: the unrelated one stays" secret_present "$GU"
}
if [ "$CPUS" -ge 2 ]; then
	kill_worker sigkill-early KILL "luks-$US1: worker [0-9]+ started"
	kill_worker sigkill-after-read KILL "wiped secret $GS1 \(read into locked memory first\)"
	out_lacks "sigkill-after-read: the secret it unlinked is not said to be already gone" "already gone"
	tap_is "sigkill-after-read: its secret is wiped once" 1 "$(grep -c "wiped secret $GS1" "$OUT")"
	kill_worker sigterm-after-read TERM "wiped secret $GS1 \(read into locked memory first\)"
	out_lacks "sigterm-after-read: nothing said to be already gone" "already gone"
else
	tap_skip "killed workers" "one CPU online: no worker"
fi

# --- argon2 within the memory budget ------------------------------------------
# Three argon2id keyslots of 32 MiB; a token volume whose token keyslot is
# PBKDF2 beside an argon2 passphrase keyslot (its plan tries the token's
# only: no memory); a PBKDF2 volume.
GA=30000001-0000-4000-8000-000000000001
mkdir -p "$FIX/argon"
for n in 1 2 3; do
	truncate -s 20M "$FIX/argon/a$n.img"
	cryptsetup luksFormat -q --type luks2 --pbkdf argon2id --pbkdf-memory 32768 \
		--pbkdf-force-iterations 4 --pbkdf-parallel 1 --key-file "$FIX/key-$n" \
		"$FIX/argon/a$n.img" >/dev/null
done
truncate -s 20M "$FIX/argon/tok.img"
cryptsetup luksFormat -q --type luks2 --pbkdf argon2id --pbkdf-memory 32768 --pbkdf-force-iterations 4 \
	--pbkdf-parallel 1 --key-file "$FIX/pass0" "$FIX/argon/tok.img" >/dev/null
add_keyslot "$FIX/argon/tok.img" "$FIX/pass0" "$FIX/key-t" 1
add_token "$FIX/argon/tok.img" 1 "$GT"
make_luks "$FIX/argon/p.img" luks2 "$FIX/key-3"
ua() { luks_uuid "$FIX/argon/$1.img"; }
ARGON="rd.luks.uuid=$(ua a1) rd.coco.key=$(ua a1):$G1 rd.luks.uuid=$(ua a2) rd.coco.key=$(ua a2):$G2
rd.luks.uuid=$(ua a3) rd.coco.key=$(ua a3):$GA rd.luks.uuid=$(ua tok) rd.luks.uuid=$(ua p) rd.coco.key=$(ua p):$GU"
# shellcheck disable=SC2086
ARGON="$(printf '%s ' $ARGON)rd.coco.timeout=5"	# one line
argon_secrets() {
	clear_secrets
	put_secret "$G1" "$FIX/key-1"
	put_secret "$G2" "$FIX/key-2"
	put_secret "$GA" "$FIX/key-3"
	put_secret "$GT" "$FIX/key-t"
	put_secret "$GU" "$FIX/key-3"
}
# within: each argon2 worker started with the argon2 memory in use within
# the budget, or alone (in use: its own memory). PBKDF2 ones add nothing.
within() {
	awk '/worker [0-9]+ started: argon2 memory/ {
		for (i = 1; i <= NF; i++) {
			if ($i == "memory") mine = $(i + 1)
			if ($i == "of") { used = $(i - 1); budget = $(i + 1) }
		}
		if (mine + 0 == 0) next
		n++
		if (used + 0 > budget + 0 && used + 0 != mine + 0) bad++
	} END { exit !(n == 3 && bad == 0) }' "$OUT"
}
if [ "$CPUS" -ge 2 ]; then
	argon_secrets
	run_agent argon-serial "$ARGON" --serial --devices-dir "$FIX/argon"
	rc_is argon-serial 0
	tap_is "argon-serial: five volumes verified" 5 "$(grep -c 'key verified' "$OUT")"
	for budget in 70000 40000 20000; do
		argon_secrets
		run_agent "argon-$budget" "$ARGON rd.coco.debug" --parallel-memory "$budget" \
			--devices-dir "$FIX/argon"
		rc_is "argon-$budget" 0
		tap_is "argon-$budget: five volumes verified" 5 "$(grep -c 'key verified' "$OUT")"
		out_has "argon-$budget: the budget is the knob's" "argon2 within $budget KiB"
		tap_check "argon-$budget: argon2 in use never over the budget (but alone)" within
		out_has "argon-$budget: the token volume counts only its PBKDF2 token keyslot" \
			"luks-$(ua tok): worker [0-9]+ started: argon2 memory 0 KiB"
		tap_check "argon-$budget: every secret used is gone" \
			eval "secret_gone $G1 && secret_gone $G2 && secret_gone $GA && secret_gone $GT && secret_gone $GU"
	done
	# 70000: two of 32 MiB fit together; 40000: one at a time, and the others say they wait.
	argon_secrets
	run_agent argon-fits "$ARGON rd.coco.debug" --parallel-memory 70000 --devices-dir "$FIX/argon"
	out_has "argon-fits: two argon2 keyslots side by side" "argon2 memory 32768 KiB, 65536 of 70000 KiB in use"
	argon_secrets
	run_agent argon-waits "$ARGON rd.coco.debug" --parallel-memory 40000 --devices-dir "$FIX/argon"
	out_has "argon-waits: a volume waits for memory" \
		"waits for memory: its argon2 keyslots take 32768 KiB, 32768 of 40000 KiB are in use"
	out_lacks "argon-waits: never two argon2 keyslots at once" "argon2 memory 32768 KiB, 65536 of"
	out_has "argon-waits: PBKDF2 volumes start beside an argon2 one" \
		"worker [0-9]+ started: argon2 memory 0 KiB, 32768 of 40000 KiB in use"
	run_agent bad-knob "$ARGON" --parallel-memory 0 --devices-dir "$FIX/argon"
	rc_is bad-knob 2
else
	tap_skip "argon2 budget" "one CPU online: no worker"
fi

# --- a device that comes late needs a secret the first ones used ------------
# v1 and v2 are unlocked at once while late.img (G1 again) is not there yet:
# the parent must still hold G1's copy when it comes.
mkdir -p "$FIX/latedev"
cp "$DEVICES/v1.img" "$DEVICES/v2.img" "$FIX/latedev/"
copy "$DEVICES/v1.img" "$FIX/late.img"
UL=$(luks_uuid "$FIX/late.img")
clear_secrets
put_secret "$G1" "$FIX/key-1"
put_secret "$G2" "$FIX/key-2"
printf '%s\n' "rd.luks.uuid=$(u v1) rd.coco.key=$(u v1):$G1 rd.luks.uuid=$(u v2) rd.coco.key=$(u v2):$G2 rd.luks.uuid=$UL rd.coco.key=$UL:$G1 rd.coco.timeout=20" >"$FIX/cmdline"
: >"$FIX/out"
"$COCO_UNLOCK" --secrets-dir "$SECRETS" --cmdline "$FIX/cmdline" --crypttab /dev/null \
	--devices-dir "$FIX/latedev" --state-dir "$STATE" --dry-run >"$FIX/out" 2>&1 &
pid=$!
wait_for_line "waiting up to"
mv "$FIX/late.img" "$FIX/latedev/"
wait "$pid"
RC=$?
OUT=$FIX/out
agent_ran_mark
show_output late-device
check_no_secret_bytes late-device
rc_is late-device 0
out_has "late-device: the late volume opens with the secret the first one used" \
	"luks-$UL: key verified .* with secret $G1"
tap_check "late-device: both secrets gone" eval "secret_gone $G1 && secret_gone $G2"
tap_done
