#!/usr/bin/env bash
# coco-secret session: the real Naples and Rome chains of
# ../shared/vectors/sev/certs (VECTORS.md section 5) verify up to the
# built-in ARK, chains a host could forge do not, and a session made
# against a test platform (tests/secret/sev-platform.py, Python's
# cryptography: written apart from coco-secret) unwraps there to the very
# TEK and TIK coco-secret kept, with the policy's MAC. Pair by pair
# signatures and the section 4 KDF vector: test-launch-units.sh.
. "$TOP/tests/secret/lib.sh"
need_sev_vectors
cd "$FIX" || exit 1
C=$VEC/certs
PLATFORM=$TOP/tests/secret/sev-platform.py

chain() { # OUT PRODUCT NAME...: the named certificates of PRODUCT, in order
	local out=$1 p=$2 n
	shift 2
	: >"$out"
	for n in "$@"; do cat "$C/$p/$n.cert" >>"$out"; done
}

# --- genuine chains ------------------------------------------------------
for p in naples rome; do
	chain $p-full.chain $p pdh pek oca cek ask ark
	cs session --pdh $p-full.chain --policy 3 --name $p
	expect "$p: the full chain (sevctl export --full) verifies up to AMD's $p ARK" 0 \
		"chain verified: PDH, PEK, OCA, CEK up to AMD's ARK ($p)"
	tap_is "$p: the four files are written, 0600" "600 600 600 600" \
		"$(stat -c %a ${p}_godh.b64 ${p}_session.b64 ${p}_tek.bin ${p}_tik.bin | tr '\n' ' ' | sed 's/ $//')"
	chain $p.chain $p pdh pek oca cek
	cs session --pdh $p.chain --policy 3 --name $p-short
	expect "$p: PDH, PEK, OCA, CEK alone verify against the built-in keys" 0 "($p)"
done
tap_is "a GODH certificate is 2084 bytes" 2084 "$(base64 -d rome_godh.b64 | wc -c)"
tap_is "a session blob is 128 bytes" 128 "$(base64 -d rome_session.b64 | wc -c)"
tap_is "TEK and TIK are 16 bytes" "16 16" "$(stat -c %s rome_tek.bin rome_tik.bin | tr '\n' ' ' | sed 's/ $//')"
tap_check "each session has fresh keys" test "$(hex_of rome_tik.bin)" != "$(hex_of naples_tik.bin)"
cs session --pdh rome.chain --policy 3 --name explicit --ark "$C/rome/ark.cert" --ask "$C/rome/ask.cert"
expect "--ark/--ask with Rome's own files" 0 "up to AMD's ARK (the --ark file)"

# --- forged or broken chains: nothing written --------------------------
refused() { # NAME TEXT CHAIN [OPTIONS...]
	local name=$1 text=$2 file=$3
	shift 3
	cs session --pdh "$file" --policy 3 --name out "$@"
	expect "$name" 1 "$text"
	failed_without "... and no key file" out_tik.bin
}
chain swapped.chain rome pek pdh oca cek
refused "PEK and PDH swapped" "certificate 1 is not a PDH" swapped.chain
head -c 8000 rome.chain >truncated.chain
refused "a truncated chain" "is not sevctl export's layout" truncated.chain
cp rome.chain pdh-flip.chain
printf "\x01" | dd of=pdh-flip.chain bs=1 seek=5 conv=notrunc 2>/dev/null
refused "a PDH whose API version was changed: the PEK does not sign it" "the PEK does not sign the PDH" \
	pdh-flip.chain
cp rome.chain point-flip.chain
printf '\x01' | dd of=point-flip.chain bs=1 seek=100 conv=notrunc 2>/dev/null
refused "a PDH whose point is off the curve" "the PDH (certificate 1) is truncated, foreign or has an unusable key" \
	point-flip.chain
cp rome.chain cek-flip.chain
printf '\x01' | dd of=cek-flip.chain bs=1 seek=$((3 * 2084 + 1000)) conv=notrunc 2>/dev/null
refused "a CEK not signed by any built-in ASK" "no built-in AMD signing key" cek-flip.chain
{ cat "$C/rome/pdh.cert" "$C/naples/pek.cert" "$C/rome/oca.cert" "$C/rome/cek.cert"; } >mixed.chain
refused "another platform's PEK" "does not sign the PEK" mixed.chain
{ cat rome.chain "$C/milan/ask.cert" "$C/milan/ark.cert"; } >milan-root.chain
refused "Rome's certificates with Milan's ASK and ARK appended" "the host's ASK is not AMD's ASK" \
	milan-root.chain
refused "--ark/--ask of Milan for a Rome chain" "the ASK does not sign the CEK" rome.chain \
	--ark "$C/milan/ark.cert" --ask "$C/milan/ask.cert"
refused "--ark and --ask exchanged" "not an AMD" rome.chain --ark "$C/rome/ask.cert" \
	--ask "$C/rome/ark.cert"
refused "a chain file that is not there" "chain missing.chain" missing.chain

# --- the owner's session, unwrapped by an independent test platform ----
python3 "$PLATFORM" make plat
cs session --pdh plat/chain --ark plat/ark.cert --ask plat/ask.cert --policy 0x7 --name owner
expect "the test platform's chain verifies up to its --ark" 0 "the --ark file"
got=$(cd "$FIX" && python3 "$PLATFORM" unwrap plat owner 0x7 2>&1)
tap_is "the platform unwraps the owner's TEK and TIK (wrap_mac and policy_mac verify)" \
	"$(hex_of owner_tek.bin) $(hex_of owner_tik.bin)" "$got"
got=$(cd "$FIX" && python3 "$PLATFORM" unwrap plat owner 0x5 2>&1)
tap_check "another policy's MAC does not verify" grep -q "policy_mac does not verify" <<<"$got"
cs session --pdh plat/chain --policy 0x7 --name nope
expect "the test platform without --ark/--ask: no built-in key signs its CEK" 1 \
	"no built-in AMD signing key"

# --- --insecure-no-chain -------------------------------------------------
cs session --pdh "$C/rome/pdh.cert" --policy 3 --name insecure --insecure-no-chain
expect "--insecure-no-chain takes a lone PDH, saying so" 0 "WARNING: --insecure-no-chain"
cs session --pdh plat/chain --policy 3 --name insecure2 --insecure-no-chain
expect "--insecure-no-chain warns on every run" 0 "the PDH is not verified"
cs session --pdh "$C/rome/pdh.cert" --policy 3 --name lone
expect "a lone PDH without --insecure-no-chain is refused" 1 "is not sevctl export's layout"

# --- usage ---------------------------------------------------------------
cs session --pdh rome.chain --policy 3
expect "no --name" 2 "needs --pdh CHAIN, --policy N and --name NAME"
cs session --pdh rome.chain --policy 3 --name x --ark "$C/rome/ark.cert"
expect "--ark without --ask" 2 "--ark and --ask go together"
cs session --pdh rome.chain --policy 3 --name x --tik y
expect "an option of another command" 2 "session does not take --tik"

remember_secret owner_tek.bin
remember_secret owner_tik.bin
remember_secret rome_tik.bin
no_secret_in_output "no TEK or TIK byte in any output"

tap_done
