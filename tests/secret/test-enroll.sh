#!/usr/bin/env bash
# coco-secret enroll, list and remove on LUKS image files: the keyslot
# the secret opens, the token, every old passphrase still working, the
# LUKS1 rules, the last keyslot, and enrolls killed half-way.
. "$TOP/tests/secret/lib.sh"
cd "$FIX" || exit 1

new_secret passA
new_secret passB
new_secret s1
new_secret wrong
make_luks v2.img luks2 passA
add_keyslot v2.img passA passB

old_passphrases_open() {
	opens "$1" passA && opens "$1" passB
}

# --- enroll ------------------------------------------------------------
cs enroll v2.img --guid "$DISK_GUID" --secret-file s1 --unlock-key-file passA
expect "enroll with a secret file" 0 "enrolled $DISK_GUID on v2.img: keyslot 2, token 0"
tap_check "the secret opens the new keyslot" opens v2.img s1 2
tap_check "both old passphrases still open the volume" old_passphrases_open v2.img
tap_is "the token is the documented JSON" \
	"{\"type\":\"coco-efi-secret\",\"keyslots\":[\"2\"],\"guid\":\"$DISK_GUID\",\"mac\":\"$(token_mac v2.img 2 $DISK_GUID s1)\"}" \
	"$(token_json v2.img 0)"
dump=$(cryptsetup luksDump v2.img | sed -n '/^  2: luks2/,/^  [0-9]*: \|^Tokens:/p')
tap_check "the keyslot uses PBKDF2" grep -q 'PBKDF:[[:space:]]*pbkdf2' <<<"$dump"
tap_check "with the minimum of 1000 iterations" grep -q 'Iterations:[[:space:]]*1000$' <<<"$dump"

cs enroll v2.img --guid "$GUID_A" --generate gen1 --unlock-key-file passB
expect "enroll with --generate" 0 "enrolled $GUID_A on v2.img: keyslot 3, token 1"
remember_secret gen1
tap_is "the generated secret is 32 bytes, mode 0600" "32 600" "$(stat -c '%s %a' gen1)"
tap_check "the generated secret opens its keyslot" opens v2.img gen1 3
tap_is "its token names keyslot 3 and the GUID" \
	"{\"type\":\"coco-efi-secret\",\"keyslots\":[\"3\"],\"guid\":\"$GUID_A\",\"mac\":\"$(token_mac v2.img 3 $GUID_A gen1)\"}" \
	"$(token_json v2.img 1)"

cs list v2.img
tap_check "list shows the first secret's keyslot, token and GUID" \
	grep -qE "^2 +pbkdf2 +0 +$DISK_GUID\$" "$OUT"
tap_check "list shows the generated secret's keyslot" grep -qE "^3 +pbkdf2 +1 +$GUID_A\$" "$OUT"
tap_check "list shows keyslots without a token" grep -qE '^0 +pbkdf2 +- +-$' "$OUT"

# The passphrase asked for on a terminal (script(1) makes one), not echoed.
(sleep 1; printf '%s\n' "$(cat passB)") |
	script -qec "'$COCO_SECRET' enroll v2.img --guid $GUID_B --secret-file s1" /dev/null \
	>"$FIX/tty-out" 2>&1
RC=$?
OUT=$FIX/tty-out
cat "$OUT" >>"$ALL_OUTPUT"
expect "enroll asks for the passphrase on the terminal" 0 "Enter an existing passphrase for v2.img"
tap_check "and enrolls with it" opens v2.img s1 4
cs remove v2.img --guid "$GUID_B"

# --- refusals that must leave the header alone -------------------------
before=$(keyslot_count v2.img)
cs enroll v2.img --guid "$DISK_GUID" --secret-file s1 --unlock-key-file passA
expect "enroll refuses a GUID already enrolled" 1 "is already enrolled on v2.img (token 0)"
cs enroll v2.img --guid "$GUID_B" --secret-file s1 --unlock-key-file wrong
expect "enroll refuses a wrong passphrase" 1 "that passphrase opens no keyslot"
cp gen1 gen1.copy
cs enroll v2.img --guid "$GUID_B" --generate gen1 --unlock-key-file passA
expect "--generate refuses an existing file" 1 "gen1 already exists"
tap_check "and leaves it as it was" cmp -s gen1 gen1.copy
ln -s nowhere link
cs enroll v2.img --guid "$GUID_B" --generate link --unlock-key-file passA
expect "--generate refuses a symbolic link" 1 "link already exists"
cs enroll v2.img --guid "$GUID_B" --generate gen-wrong --unlock-key-file wrong
failed_without "a failed --generate enroll leaves no secret file" gen-wrong
setsid -w "$COCO_SECRET" enroll v2.img --guid "$GUID_B" --secret-file s1 >"$FIX/out" 2>&1 </dev/null
RC=$?
cat "$FIX/out" >>"$ALL_OUTPUT"
expect "without a terminal or --unlock-key-file, a clear error" 1 "no terminal"
tap_is "no refused enroll added a keyslot" "$before" "$(keyslot_count v2.img)"
: >emptysecret
cs enroll v2.img --guid "$GUID_B" --secret-file emptysecret --unlock-key-file passA
expect "enroll refuses an empty secret" 1 "emptysecret is empty"
cs enroll v2.img --guid "$GUID_B" --secret-file s1 --generate x --unlock-key-file passA
expect "--secret-file and --generate together: usage error" 2 "one of --secret-file"
cs enroll v2.img --secret-file s1 --unlock-key-file passA
expect "enroll without --guid: usage error" 2 "enroll needs --guid"
cs enroll v2.img --guid nope --secret-file s1
expect "enroll with a bad GUID: usage error" 2 "not a GUID"
cs enroll v2.img --guid "$GUID_B" --secret-file s1 --bogus
expect "an unknown option: usage error" 2 "unknown option"
cs enroll notthere.img --guid "$GUID_B" --secret-file s1 --unlock-key-file passA
expect "enroll on a missing device" 1 "notthere.img"

# --- remove ------------------------------------------------------------
cs remove v2.img --guid "$DISK_GUID"
expect "remove a GUID" 0 "removed $DISK_GUID from v2.img: keyslot 2, token 0"
tap_check "its secret no longer opens the volume" refuses v2.img s1
no_token "its token is gone" v2.img 0
tap_check "the other coco keyslot still opens" opens v2.img gen1 3
tap_check "both old passphrases still open after remove" old_passphrases_open v2.img
cs remove v2.img --guid "$DISK_GUID"
expect "remove of a GUID not enrolled" 1 "no coco-efi-secret token for $DISK_GUID"
cs remove v2.img --guid "$GUID_A"
tap_is "remove the second" 0 "$RC"
tap_is "the volume is back to its two keyslots" 2 "$(keyslot_count v2.img)"
cs list v2.img
out_lacks "list shows no coco token any more" "$GUID_A|$DISK_GUID"

# The last keyslot: a volume whose only keyslot is a coco one.
new_secret s2
make_luks last.img luks2 passA
cs enroll last.img --guid "$GUID_B" --secret-file s2 --unlock-key-file passA
cryptsetup luksKillSlot -q last.img 0 >/dev/null 2>&1
cs remove last.img --guid "$GUID_B"
expect "remove refuses the last keyslot" 1 "keyslot 1 is the last keyslot of last.img"
tap_check "which still opens" opens last.img s2 1
tap_is "and keeps its token" \
	"{\"type\":\"coco-efi-secret\",\"keyslots\":[\"1\"],\"guid\":\"$GUID_B\",\"mac\":\"$(token_mac last.img 1 $GUID_B s2)\"}" \
	"$(token_json last.img 0)"

# --- LUKS1 -------------------------------------------------------------
make_luks v1.img luks1 passA
cs enroll v1.img --guid "$DISK_GUID" --secret-file s1 --unlock-key-file passA
expect "LUKS1: enroll with a token is refused clearly" 1 "v1.img is LUKS1, which has no tokens"
tap_is "and adds no keyslot" 1 "$(keyslot_count v1.img)"
cs enroll v1.img --guid "$DISK_GUID" --secret-file s1 --unlock-key-file passA --no-token
expect "LUKS1: --no-token adds a keyslot" 0 "enrolled on v1.img: keyslot 1, no token"
tap_check "LUKS1: the secret opens it" opens v1.img s1 1
tap_check "LUKS1: the old passphrase still opens" opens v1.img passA 0
cs remove v1.img --guid "$DISK_GUID"
expect "LUKS1: remove points at luksKillSlot" 1 "luksKillSlot"
for _ in 2 3 4 5 6 7; do
	add_keyslot v1.img passA passB
done
cs enroll v1.img --guid "$DISK_GUID" --generate gen-full --unlock-key-file passA --no-token
expect "LUKS1 with all 8 keyslots used: enroll fails" 1 "cannot add a keyslot to v1.img"
failed_without "and removes the secret it generated" gen-full

# --- a token that cannot be added takes its keyslot with it -------------
make_luks full.img luks2 passA
for i in $(seq 0 31); do
	printf '{"type":"other-%d","keyslots":[]}' "$i" | cryptsetup token import full.img >/dev/null
done
cs enroll full.img --guid "$DISK_GUID" --generate gen-tok --unlock-key-file passA
expect "all 32 tokens used: enroll fails" 1 "cannot add a token to full.img"
tap_is "and removes the keyslot it added" 1 "$(keyslot_count full.img)"
failed_without "and the secret it generated" gen-tok
tap_check "the old passphrase still opens" opens full.img passA 0

# --- interrupted enrolls -----------------------------------------------
make_luks int.img luks2 passA
add_keyslot int.img passA passB
COCO_SECRET_TEST_PAUSE_AFTER_KEYSLOT=30 "$COCO_SECRET" enroll int.img --guid "$DISK_GUID" \
	--secret-file s1 --unlock-key-file passA >"$FIX/int-out" 2>&1 &
pid=$!
for _ in $(seq 1 200); do
	grep -q pausing "$FIX/int-out" && break
	sleep 0.05
done
kill -9 "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
cat "$FIX/int-out" >>"$ALL_OUTPUT"
tap_check "the test hook paused enroll after the keyslot" grep -q "pausing 30 s after keyslot 2" "$FIX/int-out"
tap_check "killed between keyslot and token: old passphrases open" old_passphrases_open int.img
tap_check "the keyslot was written whole" opens int.img s1 2
no_token "and there is no token" int.img 0
cs list int.img
tap_check "list shows the keyslot without a token" grep -qE '^2 +pbkdf2 +- +-$' "$OUT"
cs enroll int.img --guid "$DISK_GUID" --secret-file s1 --unlock-key-file passA
expect "enroll again after the interruption" 0 "enrolled $DISK_GUID on int.img: keyslot 3, token 0"

# Kills at arbitrary points: whatever was written, the old keys open.
make_luks kill.img luks2 passA
add_keyslot kill.img passA passB
ok=1
for delay in 0 0.005 0.01 0.02 0.03 0.05; do
	"$COCO_SECRET" enroll kill.img --guid "$(printf 'aaaaaaaa-1111-4111-8111-%012d' "${delay#0.}")" \
		--secret-file s1 --unlock-key-file passA >>"$ALL_OUTPUT" 2>&1 &
	pid=$!
	sleep "$delay"
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	old_passphrases_open kill.img || { ok=0; echo "# old passphrase lost after kill at $delay s"; }
done
tap_is "old passphrases open after enrolls killed at 6 moments" 1 "$ok"

# --- weak secrets: refused, or stretched with argon2id when asked -------
printf 'short-secret' >weak
remember_secret weak
make_luks weak.img luks2 passA
cs enroll weak.img --guid "$GUID_A" --secret-file weak --unlock-key-file passA
expect "a 12-byte secret is refused" 1 "weak has 12 bytes: a secret under 32 bytes could be guessed"
tap_is "and adds no keyslot" 1 "$(keyslot_count weak.img)"
cs enroll weak.img --guid "$GUID_A" --secret-file weak --unlock-key-file passA --weak-secret
expect "--weak-secret enrolls it" 0 "enrolled $GUID_A on weak.img: keyslot 1, token 0"
tap_check "with argon2id, not PBKDF2-1000" \
	sh -c "cryptsetup luksDump weak.img | sed -n '/^  1: luks2/,/^Tokens:/p' | grep -q 'PBKDF:.*argon2id'"
tap_check "and the weak secret opens it" opens weak.img weak 1

# --- the pin: systemd's fixate-volume-key= value ---------------------------
make_luks pin.img luks2 passA
cs enroll pin.img --guid "$GUID_B" --secret-file s1 --unlock-key-file passA
want=$(volume_key_pin pin.img passA "luks-$(cryptsetup luksUUID pin.img)")
tap_check "enroll prints the pin, as openssl computes systemd's id" out_has "fixate-volume-key=$want"
cs pin pin.img --unlock-key-file passA --name cryptroot
expect "pin for another mapping name" 0 "fixate-volume-key=$(volume_key_pin pin.img passA cryptroot)"
cs pin pin.img --secret-file s1
expect "pin from the enrolled secret, default name" 0 "fixate-volume-key=$want"
cs pin pin.img --secret-file wrong
expect "pin with a wrong secret fails" 1 "opens no keyslot"

# --- seal: the MAC of an existing token ---------------------------------------
make_luks seal.img luks2 passA
add_keyslot seal.img passA s1 1
add_token seal.img 1 "$GUID_A"
cs seal seal.img --guid "$GUID_A" --secret-file s1
expect "seal writes the MAC of a token made without one" 0 "sealed token 0 of seal.img ($GUID_A, keyslot 1)"
tap_is "the token now carries the MAC the format defines" "$(token_mac seal.img 1 "$GUID_A" s1)" \
	"$(token_json seal.img 0 | sed -n 's/.*"mac":"\([0-9a-f]*\)".*/\1/p')"
cs seal seal.img --guid "$GUID_A" --secret-file wrong
expect "seal with a secret that does not open the keyslot fails" 1 "does not open keyslot 1"
cs seal seal.img --guid "$GUID_B" --secret-file s1
expect "seal of a GUID without a token fails" 1 "no coco-efi-secret token for $GUID_B"

no_secret_in_output "no secret or passphrase bytes in any output"
tap_done
