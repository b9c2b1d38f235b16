#!/usr/bin/env bash
# The agent against LUKS1 and LUKS2 image files: key choice, retries,
# several volumes, waiting, discovery, and what gets wiped.
. "$(dirname "$0")/lib.sh"

# --- fixtures -------------------------------------------------------------
new_secret >"$FIX/key-a"		# opens luks2.img
new_secret >"$FIX/key-b"		# opens luks1.img
new_secret >"$FIX/key-c"		# keyslot 3 of token.img, by token
new_secret >"$FIX/wrong"
new_secret >"$FIX/pass0"		# token.img's ordinary passphrase

make_luks "$DEVICES/luks2.img" luks2 "$FIX/key-a"
make_luks "$DEVICES/luks1.img" luks1 "$FIX/key-b"
make_luks "$DEVICES/token.img" luks2 "$FIX/pass0"
add_keyslot "$DEVICES/token.img" "$FIX/pass0" "$FIX/key-c" 3
add_token "$DEVICES/token.img" 3 "$GUID_C"
U2=$(luks_uuid "$DEVICES/luks2.img")
U1=$(luks_uuid "$DEVICES/luks1.img")
UT=$(luks_uuid "$DEVICES/token.img")
MISSING_UUID=0e0e0e0e-1111-4222-8333-444444444444
images_sum() { sha256sum "$DEVICES"/*.img | sha256sum; }
before=$(images_sum)

# --- key choice -----------------------------------------------------------
clear_secrets
put_secret "$GUID_A" "$FIX/key-a"
put_secret "$GUID_B" "$FIX/key-b"
run_agent right-key "rd.luks.uuid=$U2 rd.coco.key=$GUID_A"
rc_is right-key 0
out_has "right-key: LUKS2 volume reported unlocked with the named secret" \
	"luks-$U2: key verified for .*luks2.img with secret $GUID_A \(named key, keyslot 0\)"
tap_check "right-key: used secret wiped" secret_gone "$GUID_A"
tap_check "right-key: other secret kept" secret_present "$GUID_B"

clear_secrets
put_secret "$DISK_GUID" "$FIX/key-b"
run_agent luks1-conventional "rd.luks.uuid=$U1"
rc_is luks1-conventional 0
out_has "luks1-conventional: LUKS1 volume opened by the disk-passphrase GUID" \
	"luks-$U1: key verified for .* with secret $DISK_GUID \(disk-passphrase GUID"
tap_check "luks1-conventional: wiped" secret_gone "$DISK_GUID"

clear_secrets
put_secret "$GUID_A" "$FIX/wrong"
run_agent wrong-key "rd.luks.uuid=$U2 rd.coco.key=$GUID_A"
rc_is wrong-key 1
out_has "wrong-key: says the secret does not open it" "secret $GUID_A \(named key\) does not open it"
out_has "wrong-key: volume left closed" "luks-$U2: no secret opened .*left closed"
tap_check "wrong-key: secret wiped all the same" secret_gone "$GUID_A"

for t in nul newline; do
	clear_secrets
	cp "$FIX/key-a" "$FIX/term"
	if [ $t = nul ]; then printf '\0' >>"$FIX/term"; else printf '\n' >>"$FIX/term"; fi
	put_secret "$GUID_A" "$FIX/term"
	run_agent "trailing-$t" "rd.luks.uuid=$U2 rd.coco.key=$GUID_A rd.coco.debug"
	rc_is "trailing-$t" 0
	out_has "trailing-$t: retried without the last byte" "secret $GUID_A: trying again without its last byte"
	tap_check "trailing-$t: wiped" secret_gone "$GUID_A"
done

clear_secrets
{ cat "$FIX/key-a"; printf '\n\n'; } >"$FIX/term"
put_secret "$GUID_A" "$FIX/term"
run_agent two-newlines "rd.luks.uuid=$U2 rd.coco.key=$GUID_A"
rc_is two-newlines 1

clear_secrets
put_secret "$GUID_C" "$FIX/key-c"
run_agent token "rd.luks.uuid=$UT"
rc_is token 0
out_has "token: opened through the token's keyslot" \
	"luks-$UT: key verified for .* with secret $GUID_C \(token, keyslot 3\)"
tap_check "token: wiped" secret_gone "$GUID_C"

# A token that points at the wrong keyslot must not fall back to others.
cp "$DEVICES/token.img" "$FIX/token-slot0.img"
cryptsetup token remove --token-id 0 "$FIX/token-slot0.img"
add_token "$FIX/token-slot0.img" 0 "$GUID_C"
mkdir -p "$FIX/dev2" && mv "$FIX/token-slot0.img" "$FIX/dev2/"
clear_secrets
put_secret "$GUID_C" "$FIX/key-c"
run_agent token-slot-only "cryptdevice=$FIX/dev2/token-slot0.img:t0"
rc_is token-slot-only 1
out_lacks "token-slot-only: never opened through another keyslot" "key verified"

clear_secrets
put_secret "$GUID_A" "$FIX/key-a"
put_secret "$GUID_B" "$FIX/key-b"
put_secret "$GUID_C" "$FIX/wrong"
run_agent two-volumes "rd.luks.uuid=$U2 rd.luks.name=$U1=data rd.coco.key=$U2:$GUID_A rd.coco.key=$U1:$GUID_B"
rc_is two-volumes 0
out_has "two-volumes: first volume" "luks-$U2: key verified for .* with secret $GUID_A"
out_has "two-volumes: second volume, named by rd.luks.name" "data: key verified for .* with secret $GUID_B"
tap_check "two-volumes: both keys wiped" eval "secret_gone $GUID_A && secret_gone $GUID_B"
tap_check "two-volumes: unrelated secret kept" secret_present "$GUID_C"

clear_secrets
put_secret "$GUID_A" "$FIX/key-a"
run_agent duplicate "rd.luks.uuid=$U2 rd.luks.uuid=luks-$U2 rd.coco.key=$GUID_A"
rc_is duplicate 0
tap_is "duplicate: one volume tried once" 1 "$(grep -c 'key verified' "$OUT")"

clear_secrets
put_secret "$GUID_A" "$FIX/key-a"
start=$(date +%s)
run_agent missing-device "rd.luks.uuid=$U2 rd.luks.uuid=$MISSING_UUID rd.coco.key=$GUID_A rd.coco.timeout=1"
took=$(($(date +%s) - start))
rc_is missing-device 1
out_has "missing-device: gives up on the missing one" "luks-$MISSING_UUID: device $MISSING_UUID did not appear within 1 s"
out_has "missing-device: the present one is unlocked" "luks-$U2: key verified"
tap_check "missing-device: gave up within 5 s (took ${took}s)" test "$took" -le 5
tap_check "missing-device: used secret wiped" secret_gone "$GUID_A"

clear_secrets
put_secret "$DISK_GUID" "$FIX/key-a"
: >"$FIX/empty"
put_secret "$GUID_A" "$FIX/empty"
run_agent zero-length "rd.luks.uuid=$U2 rd.coco.key=$GUID_A"
rc_is zero-length 1
out_has "zero-length: reported empty" "secret $GUID_A is empty, skipped"
tap_check "zero-length: the empty secret is wiped" secret_gone "$GUID_A"
tap_check "zero-length: first match wins, the conventional secret untouched" secret_present "$DISK_GUID"

clear_secrets
head -c 4097 /dev/zero | tr '\0' 'x' >"$FIX/big"
put_secret "$GUID_A" "$FIX/big"
run_agent too-large "rd.luks.uuid=$U2 rd.coco.key=$GUID_A"
rc_is too-large 1
out_has "too-large: refused" "secret $GUID_A is larger than 4096 bytes"
tap_check "too-large: wiped" secret_gone "$GUID_A"

# A 4096-byte key file is still a key.
head -c 4096 /dev/urandom | od -An -tx1 | tr -d ' \n' | head -c 4096 >"$FIX/key-4k"
head -c 40 "$FIX/key-4k" >>"$SECRET_LIST"; echo >>"$SECRET_LIST"
mkdir -p "$FIX/dev3"
make_luks "$FIX/dev3/big.img" luks2 "$FIX/key-4k"
clear_secrets
put_secret "$GUID_A" "$FIX/key-4k"
run_agent max-size "cryptdevice=$FIX/dev3/big.img:big rd.coco.key=$GUID_A"
rc_is max-size 0

# --- where volumes come from ----------------------------------------------
clear_secrets
put_secret "$GUID_A" "$FIX/key-a"
printf '# root from crypttab\nroot UUID=%s /sys/kernel/security/secrets/coco/%s luks,discard\n' \
	"$U2" "$GUID_A" >"$FIX/crypttab"
run_agent crypttab ""
rc_is crypttab 0
out_has "crypttab: volume named by crypttab, key from its key file" \
	"root: key verified for .* with secret $GUID_A \(named key"
tap_check "crypttab: wiped" secret_gone "$GUID_A"
clear_secrets
put_secret "$GUID_A" "$FIX/key-a"
run_agent crypttab-off "rd.luks.crypttab=0"
out_lacks "crypttab-off: rd.luks.crypttab=0 ignores crypttab" "root:"
rm -f "$FIX/crypttab"

clear_secrets
put_secret "$DISK_GUID" "$FIX/key-a"
run_agent cryptdevice "cryptdevice=$DEVICES/luks2.img:cryptroot:allow-discards"
rc_is cryptdevice 0
out_has "cryptdevice: mkinitcpio's cryptdevice= unlocks" "cryptroot: key verified for .*luks2.img"

clear_secrets
put_secret "$DISK_GUID" "$FIX/key-a"
run_agent cryptdevice-uuid "cryptdevice=UUID=$U2:cryptroot"
rc_is cryptdevice-uuid 0
out_has "cryptdevice-uuid: UUID= found by scanning headers" "cryptroot: key verified"

clear_secrets
put_secret "$GUID_C" "$FIX/key-c"
put_secret "$DISK_GUID" "$FIX/key-b"
run_agent discovery ""
rc_is discovery 0
out_has "discovery: the token volume is found, and says it was by scan" "found .*token.img by scan: it has a coco-efi-secret token"
out_has "discovery: and unlocked" "luks-$UT: key verified .* \(token, keyslot 3\)"
out_lacks "discovery: volumes without a token are left alone" "luks-($U1|$U2)"

clear_secrets
put_secret "$GUID_B" "$FIX/wrong"
put_secret "$GUID_C" "$FIX/key-b"
run_agent no-match "rd.luks.uuid=$U1"
rc_is no-match 1
out_has "no-match: says no secret applies" "luks-$U1: no secret for"
tap_check "no-match: nothing read, nothing wiped" eval "secret_present $GUID_B && secret_present $GUID_C"
# try-all only where the header is bound to the owner: here by a pin.
run_agent try-all-unpinned "rd.luks.uuid=$U1 rd.coco.try-all"
rc_is try-all-unpinned 2
out_has "try-all-unpinned: refused as a configuration error" "rd.coco.try-all: volume luks-$U1 has no pin"
clear_secrets
put_secret "$GUID_B" "$FIX/wrong"
put_secret "$GUID_C" "$FIX/key-b"
run_agent try-all "rd.luks.uuid=$U1 rd.coco.volume-key=$U1:$(volume_key_pin "$DEVICES/luks1.img" "$FIX/key-b" "luks-$U1") rd.coco.try-all"
rc_is try-all 0
out_has "try-all: every secret tried" "luks-$U1: key verified .* with secret $GUID_C \(try-all"
tap_check "try-all: both secrets read, both wiped" eval "secret_gone $GUID_B && secret_gone $GUID_C"

clear_secrets
put_secret "$GUID_A" "$FIX/key-a"
run_agent disabled "rd.coco=0 rd.luks.uuid=$U2 rd.coco.key=$GUID_A"
rc_is disabled 0
out_has "disabled: says so" "disabled on the kernel command line"
tap_check "disabled: nothing wiped" secret_present "$GUID_A"

clear_secrets
put_secret "$GUID_A" "$FIX/key-a"
mkdir -p "$FIX/empty-dev"
run_agent no-volumes "rd.coco.key=$GUID_A" --devices-dir "$FIX/empty-dev"
rc_is no-volumes 0
out_has "no-volumes: says there is nothing to do" "no volume to unlock"

tap_is "no image was modified" "$before" "$(images_sum)"
tap_done
