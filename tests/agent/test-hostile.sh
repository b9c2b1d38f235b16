#!/usr/bin/env bash
# The host is the adversary: headers it forged (tests/lib/luks2-forge.py
# rewrites the JSON and recomputes both checksums, as a host would), disks
# it cloned or added. Each case checks the reason coco-unlock gives, its
# exit status, which secrets were unlinked (the ones meant for the volume
# go, as after a wrong key; the others stay) and that no image changed.
# Genuine volumes, from cryptsetup's defaults and from coco-secret, still
# open.
. "$(dirname "$0")/lib.sh"

FORGE=$TOP/tests/lib/luks2-forge.py
new_secret >"$FIX/key"		# the owner's disk secret (GUID_A)
new_secret >"$FIX/other"	# an unrelated secret (GUID_B)
new_secret >"$FIX/key-c"	# a token's secret (GUID_C)
new_secret >"$FIX/host"		# the host's own passphrase for volumes it makes
make_luks "$FIX/good.img" luks2 "$FIX/key"
U=$(luks_uuid "$FIX/good.img")
cryptsetup luksDump -q --dump-volume-key --volume-key-file "$FIX/good.vk" --key-file "$FIX/key" \
	"$FIX/good.img" >/dev/null

# copy_of IMG NAME [forge ops...]: $FIX/disks/NAME/disk.img, a (forged) copy of IMG.
copy_of() {
	local img=$1 name=$2
	shift 2
	rm -rf "$FIX/disks/$name"
	mkdir -p "$FIX/disks/$name"
	cp --sparse=always "$img" "$FIX/disks/$name/disk.img"
	[ $# -eq 0 ] || "$FORGE" "$FIX/disks/$name/disk.img" "$@"
}
disk() { copy_of "$FIX/good.img" "$@"; }

fresh_secrets() {
	clear_secrets
	put_secret "$GUID_A" "$FIX/key"
	put_secret "$GUID_B" "$FIX/other"
}

# run_on NAME CMDLINE DIR [ARGS...]: run_agent on the images of DIR (as
# --devices-dir), and check that the run changed no byte of them.
run_on() {
	local name=$1 cmdline=$2 dir=$3 before
	shift 3
	before=$(sha256sum "$dir"/*.img | sha256sum)
	run_agent "$name" "$cmdline" --devices-dir "$dir" "$@"
	tap_is "$name: no byte of its disks changed" "$before" "$(sha256sum "$dir"/*.img | sha256sum)"
}

# refused NAME CMDLINE REASON-ERE [ARGS...]: the run on disks/NAME is
# refused (exit 1) with REASON; the disk's secret is gone, the other one
# kept, and no byte of the disk changed.
refused() {
	local name=$1 cmdline=$2 reason=$3
	shift 3
	fresh_secrets
	run_on "$name" "$cmdline" "$FIX/disks/$name" "$@"
	rc_is "$name" 1
	out_has "$name: refused, with its reason" "$reason"
	tap_check "$name: the volume's secret is wiped" secret_gone "$GUID_A"
	tap_check "$name: the unrelated secret stays" secret_present "$GUID_B"
}

KEYED="rd.luks.uuid=$U rd.coco.key=$GUID_A"

# --- the genuine volume opens (the control for every case below) ----------------
disk genuine
fresh_secrets
run_on genuine "$KEYED" "$FIX/disks/genuine"
# The static build's crypto is user space (libgcrypt): it opens volumes on
# a host whose kernel has no AF_ALG as well as anywhere.
out_lacks "genuine: the crypto backend starts" "Cannot initialize crypto backend"
# opens NAME RC ERE...: the run's status and lines.
opens() {
	local name=$1 rc=$2
	shift 2
	rc_is "$name" "$rc"
	while [ $# -gt 0 ]; do
		out_has "$name: $1" "$2"
		shift 2
	done
}
opens genuine 0 "opened" "luks-$U: key verified"

# --- a keyslot encrypted with cipher_null (CVE-2025-59054) --------------------------
disk keyslot-null null-keyslot 0 "$FIX/good.vk"
tap_is "keyslot-null (control): its area gives the volume key without any passphrase" \
	"$(sha256sum <"$FIX/good.vk" | cut -d' ' -f1)" "$("$FORGE" "$FIX/disks/keyslot-null/disk.img" null-key 0)"
cryptsetup open --test-passphrase --key-file "$FIX/host" "$FIX/disks/keyslot-null/disk.img" \
	>"$FIX/cli.out" 2>&1
tap_diag "plain cryptsetup 2.6.1 with the host's passphrase: status $? ($(tr '\n' ' ' <"$FIX/cli.out"))"
tap_diag "(on this host its userspace keyslot path lacks cipher_null; tests/boot/test-forged.sh shows it opening in a guest)"
refused keyslot-null "$KEYED" "keyslot 0: area encryption cipher_null-ecb with a 512-bit key is not allowed"

# --- the owner's keyslot kept, the data segment switched to cipher_null ---------------
disk segment-null set segments.0.encryption '"cipher_null-ecb"'
tap_check "segment-null (control): the owner's secret still verifies with plain cryptsetup" \
	cryptsetup open --test-passphrase --key-file "$FIX/key" "$FIX/disks/segment-null/disk.img"
refused segment-null "$KEYED" "segment 0: encryption cipher_null-ecb is not allowed"

disk segment-ecb set segments.0.encryption '"aes-ecb"'
refused segment-ecb "$KEYED" "segment 0: encryption aes-ecb is not allowed"

disk segment-integrity set segments.0.integrity '{"type":"hmac(sha256)","journal_encryption":"none","journal_integrity":"none"}'
refused segment-integrity "$KEYED" "segment 0 has integrity protection"

disk two-segments set segments.1 '{"type":"linear","offset":"0","size":"dynamic"}'
refused two-segments "$KEYED" "it has 2 data segments"

# Self-encrypting drives (cryptsetup 2.7's hw-opal segment types, as its
# luksFormat --hw-opal and --hw-opal-only write them): the disk, the host's
# device, would do the encryption, with a key that crosses the host's bus.
opal='"opal_segment_number":1,"opal_key_size":32,"opal_segment_offset":"32768","opal_segment_size":"dynamic"'
disk hw-opal-crypt set segments.0.type '"hw-opal-crypt"' set segments.0.opal_segment_number 1 \
	set segments.0.opal_key_size 32 set config.requirements '{"mandatory":["opal"]}'
refused hw-opal-crypt "$KEYED" "it requires opal \(reencryption, or a feature"
# The segment alone, without the requirement flag 2.7 sets beside it.
disk hw-opal-segment set segments.0.type '"hw-opal-crypt"' set segments.0.opal_segment_number 1 \
	set segments.0.opal_key_size 32
refused hw-opal-segment "$KEYED" "segment 0 is of type hw-opal-crypt, not crypt"
disk hw-opal set segments.0 "{\"type\":\"hw-opal\",\"offset\":\"16777216\",\"size\":\"dynamic\",$opal}"
refused hw-opal "$KEYED" "segment 0 is of type hw-opal, not crypt"

# --- reencryption and unknown requirements --------------------------------------------
disk reencrypt set config.requirements '{"mandatory":["online-reencrypt-v2"]}'
refused reencrypt "$KEYED" "it requires online-reencrypt-v2"

# --- header copies: one broken, or the two saying different things ----------------------
disk broken-second break-second
refused broken-second "$KEYED" "the second LUKS2 header copy has a bad checksum"
cp --sparse=always "$FIX/disks/broken-second/disk.img" "$FIX/cli-repair.img"
before=$(sha256sum <"$FIX/cli-repair.img")
cryptsetup open --test-passphrase --key-file "$FIX/key" "$FIX/cli-repair.img" >/dev/null 2>&1
tap_check "broken-second (control): plain cryptsetup rewrites the broken copy; coco-unlock did not" \
	test "$before" != "$(sha256sum <"$FIX/cli-repair.img")"
disk copies-differ --only-first set config.flags '["no-read-workqueue"]'
refused copies-differ "$KEYED" "the two LUKS2 header copies differ"

# --- KDF costs over the budget --------------------------------------------------------------
disk pbkdf2-2g31 set keyslots.0.kdf.iterations 2147483648
refused pbkdf2-2g31 "$KEYED" "keyslot 0: pbkdf2 iterations 2147483648 are over the budget of 16777216"
digest=$(cryptsetup luksDump "$FIX/good.img" | sed -n 's/^  \([0-9]*\): pbkdf2$/\1/p' | head -n 1)
disk digest-2g31 set "digests.$digest.iterations" 2147483648
refused digest-2g31 "$KEYED" "digest $digest: pbkdf2 iterations 2147483648 are over the budget"
# Digest keys "00" and "0": the policy and the MAC judged the owner's "00",
# libcryptsetup read it as 0 and used the host's "0" (2^25 iterations: a
# stall of about 20 s per try here, before the fix). Refused at once.
disk digest-00 copy "digests.$digest" digests.00 set "digests.$digest.keyslots" '[]' \
	set "digests.$digest.iterations" 33554432
refused digest-00 "$KEYED" "its digests has a member named 00, not a canonical number"
disk ref-00 set "digests.$digest.keyslots" '["00"]'
refused ref-00 "$KEYED" "digests $digest refers to a keyslot or segment not by a canonical number"
disk keyslot-01 copy keyslots.0 keyslots.01 del keyslots.0
refused keyslot-01 "$KEYED" "its keyslots has a member named 01, not a canonical number"
# Two digests over one keyslot: libcryptsetup and the MAC take the first.
disk two-digests copy "digests.$digest" digests.7
refused two-digests "$KEYED" "keyslot 0 is covered by more than one digest"
# A cipher name with a blank: words smuggled into the dm-crypt table.
disk cipher-words set segments.0.encryption '"aes-xts-plain64 00 0 /dev/vdc 0"'
refused cipher-words "$KEYED" "segment 0: encryption aes-xts-plain64 00 0 /dev/vdc 0 has characters no cipher name has"

# A volume's KDF work together: keyslots 0-2 of other passphrases and 3 of
# the key, 6000 iterations each (digest 1000), under a PBKDF2 budget of
# 10000 a try costs 0.7 of one keyslot's budget; the volume has 2, so the
# third try is not made and the volume stays closed. With 100000, it opens.
disk budget
for slot in 1 2 3; do
	new_secret >"$FIX/budget-$slot"
	cryptsetup luksAddKey -q --pbkdf pbkdf2 --pbkdf-force-iterations 6000 --key-file "$FIX/key" \
		--key-slot "$slot" "$FIX/disks/budget/disk.img" "$FIX/budget-$slot" >/dev/null
done
cryptsetup luksChangeKey -q --pbkdf pbkdf2 --pbkdf-force-iterations 6000 --key-file "$FIX/key" \
	--key-slot 0 "$FIX/disks/budget/disk.img" "$FIX/budget-1" >/dev/null
cryptsetup luksAddKey -q --pbkdf pbkdf2 --pbkdf-force-iterations 6000 --key-file "$FIX/budget-1" \
	--key-slot 4 "$FIX/disks/budget/disk.img" "$FIX/key" >/dev/null
UB=$(luks_uuid "$FIX/disks/budget/disk.img")
fresh_secrets
run_on budget-over "rd.luks.uuid=$UB rd.coco.key=$GUID_A" "$FIX/disks/budget" --pbkdf2-budget 10000
opens budget-over 1 "the third try is not made" \
	"keyslot 2 is not tried with secret $GUID_A: the volume's KDF budget \(twice one keyslot's\) is spent" \
	"left closed" "left closed for the passphrase prompt"
out_lacks "budget-over: keyslot 4 is never reached" "keyslot 4\)"
fresh_secrets
run_on budget-within "rd.luks.uuid=$UB rd.coco.key=$GUID_A" "$FIX/disks/budget" --pbkdf2-budget 100000
opens budget-within 0 "within the budget the fifth keyslot opens (the control)" \
	"key verified for .* \(named key, keyslot 4\)"

# One keyslot over the budget beside a good one: that one is never tried,
# the volume opens through the other (the host cannot stall it so).
disk one-bad-keyslot
add_keyslot "$FIX/disks/one-bad-keyslot/disk.img" "$FIX/key" "$FIX/other" 1
"$FORGE" "$FIX/disks/one-bad-keyslot/disk.img" set keyslots.1.kdf.iterations 2147483648 \
	set keyslots.1.priority 2
fresh_secrets
AGENT_WRAPPER="timeout 60" run_on one-bad-keyslot "$KEYED" "$FIX/disks/one-bad-keyslot"
out_has "one-bad-keyslot: the over-budget keyslot is not tried" \
	"keyslot 1 is not tried: keyslot 1: pbkdf2 iterations 2147483648 are over the budget"
opens one-bad-keyslot 0 "the volume opens through the good one" "luks-$U: key verified .*keyslot 0\)"
make_luks_argon() { # IMG KEY
	truncate -s 20M "$1"
	cryptsetup luksFormat -q --type luks2 --pbkdf argon2id --pbkdf-memory 32768 \
		--pbkdf-force-iterations 4 --pbkdf-parallel 1 --key-file "$2" "$1" >/dev/null
}
rm -rf "$FIX/disks/argon2-64g"
mkdir -p "$FIX/disks/argon2-64g"
make_luks_argon "$FIX/disks/argon2-64g/disk.img" "$FIX/key"
cryptsetup luksUUID -q --uuid "$U" "$FIX/disks/argon2-64g/disk.img"
"$FORGE" "$FIX/disks/argon2-64g/disk.img" set keyslots.0.kdf.memory 67108864
refused argon2-64g "$KEYED" "keyslot 0: argon2id memory 67108864 KiB is over the budget of [0-9]+ KiB \(half of MemAvailable"

# --- the header's persistent flags are the host's: ignored, not refused --------------------
disk persistent-discards set config.flags '["allow-discards"]'
fresh_secrets
run_on persistent-discards "$KEYED rd.coco.debug" "$FIX/disks/persistent-discards"
opens persistent-discards 0 "opened with our flags only" "luks-$U: activation flags: ignore-persistent$"
fresh_secrets
run_on persistent-discards-ours "$KEYED rd.coco.debug rd.luks.allow-discards" "$FIX/disks/persistent-discards"
opens persistent-discards-ours 0 "discards when the owner asks" "activation flags: ignore-persistent allow-discards$"

# --- a host string in a reason is escaped: no forged log line, no terminal sequence -------
disk escaped set segments.0.encryption '"aes\u001b[31m-ecb\nFORGED LINE"'
refused escaped "$KEYED" 'encryption aes\\x1b\[31m-ecb\\x0aFORGED LINE has characters no cipher name has'
out_lacks "escaped: no line starts with the forged text" "^FORGED"

# --- a cloned UUID: two devices, nobody can say which is the owner's ------------------------
disk cloned
make_luks "$FIX/disks/cloned/clone.img" luks2 "$FIX/host"
cryptsetup luksUUID -q --uuid "$U" "$FIX/disks/cloned/clone.img"
refused cloned "$KEYED" "both carry LUKS UUID $U: nobody can say which is the owner's"

# --- LUKS1 with a cipher outside the allow-list ----------------------------------------------
rm -rf "$FIX/disks/luks1-ecb"
mkdir -p "$FIX/disks/luks1-ecb"
truncate -s 20M "$FIX/disks/luks1-ecb/disk.img"
cryptsetup luksFormat -q --type luks1 --cipher aes-ecb --key-size 256 --pbkdf-force-iterations 1000 \
	--key-file "$FIX/key" "$FIX/disks/luks1-ecb/disk.img" >/dev/null
U1=$(luks_uuid "$FIX/disks/luks1-ecb/disk.img")
refused luks1-ecb "rd.luks.uuid=$U1 rd.coco.key=$GUID_A" "cipher aes-ecb with a 256-bit key is not allowed"

# --- the pin: a header replaced by one the secret also opens ------------------------------------
PIN=$(volume_key_pin "$FIX/good.img" "$FIX/key" "luks-$U")
disk pinned
fresh_secrets
run_on pinned "$KEYED rd.coco.volume-key=$U:$PIN" "$FIX/disks/pinned"
opens pinned 0 "the genuine volume matches its pin" "luks-$U: key verified"
rm -rf "$FIX/disks/replaced"
mkdir -p "$FIX/disks/replaced"
make_luks "$FIX/disks/replaced/disk.img" luks2 "$FIX/key"
cryptsetup luksUUID -q --uuid "$U" "$FIX/disks/replaced/disk.img"
refused replaced "$KEYED rd.coco.volume-key=$U:$PIN" "its volume key does not match the pin"
printf 'root UUID=%s /sys/kernel/security/secrets/coco/%s luks,fixate-volume-key=%s\n' "$U" "$GUID_A" \
	"$(volume_key_pin "$FIX/good.img" "$FIX/key" root)" >"$FIX/crypttab"
rm -rf "$FIX/disks/replaced-crypttab"
cp -a "$FIX/disks/replaced" "$FIX/disks/replaced-crypttab"
refused replaced-crypttab "" "root: .*does not match the pin"
rm -f "$FIX/crypttab"

# --- the token's MAC: sealed by coco-secret, checked before any KDF ---------------------------------
if [ -x "${COCO_SECRET:-}" ]; then
	make_luks "$FIX/sealed.img" luks2 "$FIX/host"
	"$COCO_SECRET" enroll "$FIX/sealed.img" --guid "$GUID_C" --secret-file "$FIX/key-c" \
		--unlock-key-file "$FIX/host" >/dev/null
	US=$(luks_uuid "$FIX/sealed.img")
	sealed() { copy_of "$FIX/sealed.img" "$@"; }
	sealed_secrets() {
		clear_secrets
		put_secret "$GUID_C" "$FIX/key-c"
		put_secret "$GUID_B" "$FIX/other"
	}
	sealed sealed-genuine
	sealed_secrets
	run_on sealed-genuine "rd.coco.require-mac" "$FIX/disks/sealed-genuine"
	opens sealed-genuine 0 "found by its token, MAC checked, opened" "luks-$US: key verified .*\(token, keyslot 1\)"

	sealed mac-mismatch set segments.0.sector_size 512
	sealed_secrets
	run_on mac-mismatch "" "$FIX/disks/mac-mismatch"
	rc_is mac-mismatch 1
	out_has "mac-mismatch: the changed header is refused by the MAC" "token 0: its MAC does not match secret $GUID_C"
	out_lacks "mac-mismatch: the secret never met its KDF" "does not open it|key verified"
	tap_check "mac-mismatch: the token's secret is wiped" secret_gone "$GUID_C"
	tap_check "mac-mismatch: the unrelated secret stays" secret_present "$GUID_B"

	# The host adds one of its keyslots to a sealed token: the MAC covers one keyslot.
	sealed extra-keyslot
	add_keyslot "$FIX/disks/extra-keyslot/disk.img" "$FIX/host" "$FIX/host" 5
	json=$(cryptsetup token export --token-id 0 "$FIX/disks/extra-keyslot/disk.img" |
		sed 's/"keyslots":\["1"\]/"keyslots":["1","5"]/')
	cryptsetup token remove --token-id 0 "$FIX/disks/extra-keyslot/disk.img"
	printf '%s' "$json" | cryptsetup token import --token-id 0 "$FIX/disks/extra-keyslot/disk.img"
	sealed_secrets
	run_on extra-keyslot "" "$FIX/disks/extra-keyslot"
	rc_is extra-keyslot 1
	out_has "extra-keyslot: a sealed token naming two keyslots is not followed" "token 0: its MAC does not match"
	out_lacks "extra-keyslot: the secret never met the host's keyslot" "does not open it|key verified"

	# A host-made volume with a token that looks right: a MAC it cannot compute.
	rm -rf "$FIX/disks/host-made"
	mkdir -p "$FIX/disks/host-made"
	make_luks "$FIX/disks/host-made/disk.img" luks2 "$FIX/host"
	printf '{"type":"coco-efi-secret","keyslots":["0"],"guid":"%s","mac":"%064d"}' "$GUID_C" 0 |
		cryptsetup token import "$FIX/disks/host-made/disk.img"
	sealed_secrets
	run_on host-made "" "$FIX/disks/host-made"
	rc_is host-made 1
	out_has "host-made: its MAC does not match" "its MAC does not match secret $GUID_C"
	out_lacks "host-made: the secret never met the host's keyslot" "does not open it|key verified"

	# Stripping the token cannot downgrade when the MAC is mandatory.
	sealed stripped
	cryptsetup token remove --token-id 0 "$FIX/disks/stripped/disk.img"
	clear_secrets
	put_secret "$GUID_A" "$FIX/key-c"
	put_secret "$GUID_B" "$FIX/other"
	run_on stripped-optional "rd.luks.uuid=$US rd.coco.key=$GUID_A" "$FIX/disks/stripped"
	opens stripped-optional 0
	fresh_secrets
	put_secret "$GUID_A" "$FIX/key-c"
	run_on stripped "rd.luks.uuid=$US rd.coco.key=$GUID_A rd.coco.require-mac" "$FIX/disks/stripped"
	rc_is stripped 1
	out_has "stripped: no MAC, no try" "x-coco.require-mac wants a token with a MAC"
	out_lacks "stripped: the secret never met a KDF" "does not open it|key verified"
	tap_check "stripped: the secret is wiped" secret_gone "$GUID_A"
	printf 'data UUID=%s /sys/kernel/security/secrets/coco/%s luks,x-coco.require-mac\n' "$US" "$GUID_A" >"$FIX/crypttab"
	fresh_secrets
	put_secret "$GUID_A" "$FIX/key-c"
	run_on stripped-crypttab "" "$FIX/disks/stripped"
	rc_is stripped-crypttab 1
	out_has "stripped-crypttab: x-coco.require-mac in crypttab too" "data: secret $GUID_A .* skipped: x-coco.require-mac"
	rm -f "$FIX/crypttab"

	# 32 disks the host made, each with a token naming the owner's GUID, and the real one.
	rm -rf "$FIX/disks/fakes"
	mkdir -p "$FIX/disks/fakes"
	make_luks "$FIX/fake.img" luks2 "$FIX/host"
	printf '{"type":"coco-efi-secret","keyslots":["0"],"guid":"%s"}' "$GUID_C" |
		cryptsetup token import "$FIX/fake.img"
	for i in $(seq -w 1 32); do
		cp --sparse=always "$FIX/fake.img" "$FIX/disks/fakes/fake$i.img"
		cryptsetup luksUUID -q --uuid "fa4e0000-0000-4000-8000-0000000000$i" "$FIX/disks/fakes/fake$i.img"
	done
	cp --sparse=always "$FIX/sealed.img" "$FIX/disks/fakes/real.img"
	sealed_secrets
	start=$(date +%s)
	run_on fakes "" "$FIX/disks/fakes"
	opens fakes 1 "the real disk is not pushed out" "luks-$US: key verified .*\(token, keyslot 1\)"
	tap_is "fakes: all 33 were found by scan, and said so" 33 "$(grep -c 'by scan' "$OUT")"
	tap_is "fakes: each fake was left closed" 32 "$(grep -c 'luks-fa4e.*left closed' "$OUT")"
	sealed_secrets
	run_on fakes-mac "rd.coco.require-mac" "$FIX/disks/fakes"
	opens fakes-mac 1 "the real disk opens" "luks-$US: key verified"
	out_lacks "fakes-mac: with a mandatory MAC no fake meets the secret's KDF" "does not open it"
	tap_diag "32 fakes took $(( $(date +%s) - start )) s for both runs"
else
	tap_skip "MAC cases" "no coco-secret binary (COCO_SECRET)"
fi

# --- genuine volumes still open ------------------------------------------------------------------
rm -rf "$FIX/disks/defaults"
mkdir -p "$FIX/disks/defaults"
truncate -s 40M "$FIX/disks/defaults/disk.img"
cryptsetup luksFormat -q --type luks2 --key-file "$FIX/key" "$FIX/disks/defaults/disk.img" >/dev/null
UD=$(luks_uuid "$FIX/disks/defaults/disk.img")
fresh_secrets
run_on defaults "rd.luks.uuid=$UD rd.coco.key=$GUID_A" "$FIX/disks/defaults"
opens defaults 0 "a volume of cryptsetup luksFormat's defaults (argon2id, benchmarked) opens" "luks-$UD: key verified"

# --- a detached header in the (measured) initramfs: the disk has none -----------------------
rm -rf "$FIX/disks/detached"
mkdir -p "$FIX/disks/detached"
truncate -s 8M "$FIX/disks/detached/data.img"
truncate -s 16M "$FIX/detached.hdr"
cryptsetup luksFormat -q --type luks2 --pbkdf pbkdf2 --pbkdf-force-iterations 1000 \
	--header "$FIX/detached.hdr" --key-file "$FIX/key" "$FIX/disks/detached/data.img" >/dev/null
printf 'data %s /sys/kernel/security/secrets/coco/%s luks,header=%s\n' "$FIX/disks/detached/data.img" \
	"$GUID_A" "$FIX/detached.hdr" >"$FIX/crypttab"
before=$(sha256sum "$FIX/disks/detached/data.img" "$FIX/detached.hdr")
fresh_secrets
run_on detached "" "$FIX/disks/detached"
opens detached 0 "crypttab header= opens a disk without a header" "data: key verified for .*data.img"
rm -f "$FIX/crypttab"
fresh_secrets
run_on cryptheader "cryptdevice=$FIX/disks/detached/data.img:data cryptheader=rootfs:$FIX/detached.hdr rd.coco.key=$GUID_A" \
	"$FIX/disks/detached"
opens cryptheader 0 "mkinitcpio's cryptheader=rootfs: too" "data: key verified for .*data.img"
fresh_secrets
run_on no-header "cryptdevice=$FIX/disks/detached/data.img:data rd.coco.key=$GUID_A" "$FIX/disks/detached"
rc_is no-header 1
out_has "no-header: without it the disk is not LUKS" "data.img is not a LUKS volume"
tap_check "no-header: the secret meant for it is wiped all the same" secret_gone "$GUID_A"
tap_is "detached: neither the disk nor the header changed" "$before" \
	"$(sha256sum "$FIX/disks/detached/data.img" "$FIX/detached.hdr")"

# --- a FIFO in the secrets directory does not block ------------------------------------------------
clear_secrets
mkfifo "$SECRETS/$GUID_A"
echo "$GUID_A" >>"$FIX/placed"
AGENT_WRAPPER="timeout 20" run_on fifo "$KEYED" "$FIX/disks/genuine"
opens fifo 1 "refused at once, not read" "cannot read secret $GUID_A"
rm -f "$SECRETS/$GUID_A"

tap_done
