#!/usr/bin/env bash
# rd.coco.wipe policies, --wipe-only, and the wipe on fatal signals.
. "$(dirname "$0")/lib.sh"

new_secret >"$FIX/key"
new_secret >"$FIX/other"
new_secret >"$FIX/key-t"
new_secret >"$FIX/pass0"
make_luks "$DEVICES/disk.img" luks2 "$FIX/key"
U=$(luks_uuid "$DEVICES/disk.img")
mkdir -p "$FIX/tokdev"
make_luks "$FIX/tokdev/tok.img" luks2 "$FIX/pass0"
add_keyslot "$FIX/tokdev/tok.img" "$FIX/pass0" "$FIX/key-t" 1
add_token "$FIX/tokdev/tok.img" 1 "$GUID_C"

setup() {
	clear_secrets
	put_secret "$GUID_A" "$FIX/key"
	put_secret "$GUID_B" "$FIX/other"
	put_secret "$GUID_C" "$FIX/key-t"
}

for policy in used all none; do
	setup
	run_agent "wipe=$policy" "rd.luks.uuid=$U rd.coco.key=$GUID_A rd.coco.wipe=$policy"
	rc_is "wipe=$policy" 0
	case $policy in
	used) tap_check "wipe=used: only the used secret gone" \
		eval "secret_gone $GUID_A && secret_present $GUID_B && secret_present $GUID_C" ;;
	all) tap_check "wipe=all: every secret gone" \
		eval "secret_gone $GUID_A && secret_gone $GUID_B && secret_gone $GUID_C" ;;
	none) tap_check "wipe=none: every secret kept" \
		eval "secret_present $GUID_A && secret_present $GUID_B && secret_present $GUID_C" ;;
	esac
done

# A failure path wipes too: the secret was read, the volume stays closed.
setup
cp "$FIX/other" "$SECRETS/$GUID_A"
run_agent wipe-on-failure "rd.luks.uuid=$U rd.coco.key=$GUID_A"
rc_is wipe-on-failure 1
tap_check "wipe-on-failure: read secret gone" secret_gone "$GUID_A"

# One secret for two volumes: unlinked only after the last one used it.
cp "$DEVICES/disk.img" "$FIX/tokdev/copy.img"
cryptsetup luksUUID -q --uuid 5eeeeeee-0000-4000-8000-000000000001 "$FIX/tokdev/copy.img"
setup
run_agent shared-secret "rd.luks.uuid=$U cryptdevice=$FIX/tokdev/copy.img:copy rd.coco.key=$GUID_A"
rc_is shared-secret 0
tap_is "shared-secret: both volumes opened by the one secret" 2 "$(grep -c "key verified .* $GUID_A" "$OUT")"
tap_check "shared-secret: gone afterwards" secret_gone "$GUID_A"
rm -f "$FIX/tokdev/copy.img"

# --wipe-only: no unlocking, just the secrets the key choice names.
setup
run_agent wipe-only "rd.luks.uuid=$U rd.coco.key=$GUID_A" --wipe-only
rc_is wipe-only 0
out_lacks "wipe-only: no unlock attempted" "key verified|does not open"
tap_check "wipe-only: the named secret gone, others kept" \
	eval "secret_gone $GUID_A && secret_present $GUID_B && secret_present $GUID_C"

setup
run_agent wipe-only-token "" --wipe-only --devices-dir "$FIX/tokdev"
rc_is wipe-only-token 0
tap_check "wipe-only-token: the token's secret gone, others kept" \
	eval "secret_gone $GUID_C && secret_present $GUID_A && secret_present $GUID_B"

setup
run_agent wipe-only-all "rd.coco.wipe=all" --wipe-only
tap_check "wipe-only-all: everything gone" \
	eval "secret_gone $GUID_A && secret_gone $GUID_B && secret_gone $GUID_C"

setup
run_agent wipe-only-none "rd.coco.wipe=none rd.luks.uuid=$U rd.coco.key=$GUID_A" --wipe-only
tap_check "wipe-only-none: everything kept" \
	eval "secret_present $GUID_A && secret_present $GUID_B && secret_present $GUID_C"

# Killed while waiting for a device: the signal handler still wipes.
for sig in TERM INT; do
	setup
	printf '%s\n' "rd.luks.uuid=0e0e0e0e-1111-4222-8333-444444444444 rd.coco.timeout=60 rd.coco.wipe=all" >"$FIX/cmdline"
	"$COCO_UNLOCK" --secrets-dir "$SECRETS" --cmdline "$FIX/cmdline" --crypttab /dev/null \
		--devices-dir "$DEVICES" --dry-run >"$FIX/out" 2>&1 &
	pid=$!
	for _ in $(seq 100); do
		grep -q "waiting up to" "$FIX/out" && break
		sleep 0.1
	done
	kill -"$sig" "$pid"
	wait "$pid"
	rc=$?
	RC=$rc OUT=$FIX/out agent_ran_mark
	tap_is "SIG$sig: killed by the signal" $((128 + $(kill -l "$sig"))) "$rc"
	tap_check "SIG$sig: every secret wiped (wipe=all)" \
		eval "secret_gone $GUID_A && secret_gone $GUID_B && secret_gone $GUID_C"
done
tap_done
