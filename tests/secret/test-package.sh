#!/usr/bin/env bash
# coco-secret package: it verifies first, refuses what does not fit the
# measured firmware's secret area, and writes the LAUNCH_SECRET packet as
# ../shared/vectors/sev/VECTORS.md section 3 defines it. The payload is
# the vector's (same TEK, IV and table); the header's MAC, over another
# launch's MEASURE, is recomputed here in Python's hmac, and the payload
# decrypted with the openssl CLI, independently of coco-secret's code.
# (The section 3 headers themselves: test-launch-units.sh.)
. "$TOP/tests/secret/lib.sh"
need_sev_vectors
cd "$FIX" || exit 1

EL9=$VEC/ovmf_amdsev_el9_suffix.bin
BLOB_FW=oMDewIouJSpbpNRHj7Mk3p08H2dPZQdsZMU14qIymBnDE/q1EcIWsVBbGy6pkDxA
HOST=(--tik "$VEC/measurement/tik1.bin" --api-major 1 --api-minor 40 --build-id 40 --policy 3
	--launch-measure-blob "$BLOB_FW")
LAUNCH=(--mode sev --ovmf "$EL9")
TEK=$VEC/secret/tek1.bin
IV=rFR07U3TLH2YnsUj2SVZ7A==
S1=736869e5-84f0-4973-92ec-06879ce3da0b
S2=736869e5-aaaa-4973-92ec-06879ce3da0b
remember_secret "$VEC/secret/secret1.txt"
remember_secret "$VEC/secret/secret2.txt"
remember_secret "$TEK"

# --- the packet ---------------------------------------------------------
cs package "${HOST[@]}" "${LAUNCH[@]}" --tek "$TEK" --iv "$IV" "$S1=$VEC/secret/secret1.txt" \
	--header-out hdr --payload-out payload --qmp-out qmp.json
expect "package of a verified launch exits 0" 0 "measurement verified"
tap_is "the payload is section 3 row 1's (same TEK, IV and table)" \
	0U3e5PcXv0UW+H4tSBFKOdCYfKE1+j38Bc2fuO16mYiyI+sWx7INfn+lgYj56GL12yyinDa+lVfCCwD/2w5cPA== \
	"$(cat payload)"
key_hex=$(hex_of "$TEK")
iv_hex=$(printf %s "$IV" | base64 -d | od -An -tx1 -v | tr -d ' \n')
tap_is "the payload decrypts (openssl CLI) to the vectors' plaintext table" \
	42f5741edd71664d963eef4287ff173b3a000000e5696873f084734992ec06879ce3da0b260000004d592d4c554b532d50415353504852415345000000000000 \
	"$(base64 -d payload | openssl enc -d -aes-128-ctr -K "$key_hex" -iv "$iv_hex" |
		od -An -tx1 -v | tr -d ' \n')"
want_hdr=$(python3 - "$VEC/measurement/tik1.bin" "$BLOB_FW" "$IV" "$(cat payload)" <<'PY'
import base64, hashlib, hmac, struct, sys
tik = open(sys.argv[1], "rb").read()
measure = base64.b64decode(sys.argv[2])[:32]
iv = base64.b64decode(sys.argv[3])
c = base64.b64decode(sys.argv[4])
flags = struct.pack("<I", 0)
mac = hmac.new(tik, b"\x01" + flags + iv + struct.pack("<II", len(c), len(c)) + c + measure,
               hashlib.sha256).digest()
print(base64.b64encode(flags + iv + mac).decode())
PY
)
tap_is "the header is FLAGS || IV || HMAC(TIK, 0x01 ... MEASURE), recomputed in Python" \
	"$want_hdr" "$(cat hdr)"
tap_is "the header file is 52 bytes of base64" 52 "$(base64 -d hdr | wc -c)"
qmp=$(python3 -c '
import json, sys
c = json.load(open(sys.argv[1]))
a = c["arguments"]
print(c["execute"], a["packet-header"], a["secret"], hex(a["gpa"]))' qmp.json)
tap_is "--qmp-out: sev-inject-launch-secret with header, payload and the footer's secret area" \
	"sev-inject-launch-secret $(cat hdr) $(cat payload) 0x80c000" "$qmp"
tap_is "output files are mode 0600" "600 600 600" "$(stat -c %a hdr payload qmp.json | tr '\n' ' ' | sed 's/ $//')"

cs package "${HOST[@]}" "${LAUNCH[@]}" --tek "$TEK" --iv "$IV" "$S1=$VEC/secret/secret1.txt" \
	"$S2=$VEC/secret/secret2.txt" --header-out hdr2 --payload-out payload2
tap_is "two secrets: the payload is section 3 row 2's" \
	0U3e5PcXv0UW+H4tSBFKObWYfKE1+j38Bc2fuO16mYiyI+sWx7INfn+lgYj56GL12yyinDa+lVfCC+WWs332lpLNUX1ZI3YK7vYgtys4X+uGxEIlkIQ90v8/w8ZFmQMe \
	"$(cat payload2)"

"$COCO_SECRET" build -o t.table "$S1=$VEC/secret/secret1.txt" 2>/dev/null
cs package "${HOST[@]}" "${LAUNCH[@]}" --tek "$TEK" --iv "$IV" --table t.table --qmp-out q3
tap_is "--table FILE packages the same payload as GUID=FILE" "$(cat payload)" \
	"$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["arguments"]["secret"])' q3)"

cs package "${HOST[@]}" "${LAUNCH[@]}" --tek "$TEK" "$S1=$VEC/secret/secret1.txt" \
	--header-out r1 --payload-out p1
cs package "${HOST[@]}" "${LAUNCH[@]}" --tek "$TEK" "$S1=$VEC/secret/secret1.txt" \
	--header-out r2 --payload-out p2
tap_check "without --iv each packet has a fresh IV" test "$(cat r1)" != "$(cat r2)"

cs package --tik "$VEC/measurement/tik1.bin" --api-major 1 --api-minor 40 --build-id 40 \
	--policy 3 --launch-measure-blob lswbxWxI9gckya16JQvdFtpYmNO4b+3inAPpqsgoBI7DE/q1EcIWsVBbGy6pkDxA \
	--launch-digest xkvRAfyaSizgonxAjZIAkR8TmolUabBKQKb6KJCDDSM= --area-size 64 \
	--tek "$TEK" "$S1=$VEC/secret/secret1.txt" --qmp-out q4
expect "--launch-digest and --area-size: packaged" 0 "measurement verified"
tap_check "... without a gpa (QEMU takes the firmware's secret area)" \
	python3 -c 'import json,sys; sys.exit("gpa" in json.load(open(sys.argv[1]))["arguments"])' q4

# --- refusals: nothing is written ---------------------------------------
cs package "${HOST[@]}" "${LAUNCH[@]}" --kernel "$VEC/measurement/vmlinuz-fake" --tek "$TEK" \
	"$S1=$VEC/secret/secret1.txt" --header-out no1 --payload-out no1p --qmp-out no1q
expect "an unverified launch: nothing packaged" 1 "nothing packaged"
failed_without "... and no header file" no1
failed_without "... and no QMP file" no1q
cs package "${HOST[@]}" "${LAUNCH[@]}" --tek "$TEK" "$S1=$VEC/secret/secret3.txt" --qmp-out no2
expect "a table of 16 KiB over the firmware's 3072-byte secret area" 1 \
	"the table is 16384 bytes, larger than the firmware's secret area (3072 bytes)"
failed_without "... leaves no file" no2
cs package "${HOST[@]}" "${LAUNCH[@]}" --tek "$TEK" "$S1=$VEC/secret/secret4.txt" --qmp-out no3
expect "secret4 (a table over 16 KiB) is refused too" 1 "larger than the firmware's secret area"
"$COCO_SECRET" build -o big.table --area-size 20000 "$S1=$VEC/secret/secret3.txt" 2>/dev/null
cs package "${HOST[@]}" "${LAUNCH[@]}" --tek "$TEK" --table big.table --qmp-out no4
expect "a --table over the area" 1 "the table is 16384 bytes, larger than the firmware's secret area (3072 bytes)"
failed_without "... leaves no file" no4
"$COCO_SECRET" build --no-pad -o nopad.table "$S1=$VEC/secret/secret1.txt" 2>/dev/null
cs package "${HOST[@]}" "${LAUNCH[@]}" --tek "$TEK" --table nopad.table --qmp-out no5
expect "an unpadded table" 1 "not a multiple of 16"
head -c 15 "$TEK" >tek-short
cs package "${HOST[@]}" "${LAUNCH[@]}" --tek tek-short "$S1=$VEC/secret/secret1.txt" --qmp-out no6
expect "a 15-byte TEK" 1 "TEK tek-short: 15 bytes"
failed_without "... leaves no file" no6
cs package "${HOST[@]}" "${LAUNCH[@]}" --tek "$TEK" "$S1=$VEC/secret/secret1.txt" \
	--header-out ok-hdr --payload-out missing-dir/payload
failed_without "a payload that cannot be written takes the header file away" ok-hdr

# --- usage --------------------------------------------------------------
cs package "${HOST[@]}" "${LAUNCH[@]}" --tek "$TEK" "$S1=$VEC/secret/secret1.txt"
expect "no output named" 2 "needs somewhere to write"
cs package "${HOST[@]}" "${LAUNCH[@]}" --tek "$TEK" "$S1=$VEC/secret/secret1.txt" --header-out x
expect "--header-out without --payload-out" 2 "go together"
cs package "${HOST[@]}" "${LAUNCH[@]}" "$S1=$VEC/secret/secret1.txt" --qmp-out x
expect "no --tek" 2 "needs --tek"
cs package "${HOST[@]}" "${LAUNCH[@]}" --tek "$TEK" --qmp-out x
expect "no secrets" 2 "--table FILE or as GUID=FILE"
cs package "${HOST[@]}" "${LAUNCH[@]}" --tek "$TEK" --table t.table "$S1=x" --qmp-out x
expect "both --table and GUID=FILE" 2 "one of the two"
cs package "${HOST[@]}" "${LAUNCH[@]}" --tek "$TEK" --iv AAAA "$S1=x" --qmp-out x
expect "an --iv that is not 16 bytes" 2 "--iv is 16 bytes of base64"
cs package "${HOST[@]}" "${LAUNCH[@]}" --tek "$TEK" not-a-guid=x --qmp-out x
expect "a bad GUID=FILE" 2 "expected GUID=FILE"
cs package "${HOST[@]}" "${LAUNCH[@]}" --area-size 100 --tek "$TEK" "$S1=x" --qmp-out x
expect "--area-size with --ovmf" 2 "read from the --ovmf firmware"
tap_check "no usage error wrote a file" test ! -e x

no_secret_in_output "no secret, table or TEK byte in any output"

tap_done
