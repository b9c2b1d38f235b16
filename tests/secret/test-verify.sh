#!/usr/bin/env bash
# coco-secret verify against the measurement-blob vectors of
# ../shared/vectors/sev/VECTORS.md section 2 (sevctl's test suite), its
# policy checks, and its diagnosis: the SEV-ES blob is verified with
# launches that differ in one or more ways the host chooses, and each
# difference must be named.
. "$TOP/tests/secret/lib.sh"
need_sev_vectors
cd "$FIX" || exit 1

EL9=$VEC/ovmf_amdsev_el9_suffix.bin
TIK=$VEC/measurement/tik1.bin
BLOB_DIGEST=lswbxWxI9gckya16JQvdFtpYmNO4b+3inAPpqsgoBI7DE/q1EcIWsVBbGy6pkDxA
BLOB_FW=oMDewIouJSpbpNRHj7Mk3p08H2dPZQdsZMU14qIymBnDE/q1EcIWsVBbGy6pkDxA
BLOB_KERNEL=h3auYbWQnVW7EGLWN4Hf9SN0oEYMPU2sK4bLnefWPwvDE/q1EcIWsVBbGy6pkDxA
BLOB_ES=/o0nzDKE5XgtVnUZWPhUea/WZYrTKLExR7KCwuMdbActvpWfXTFk21KMZIAAhQny
FAKE=(--kernel "$VEC/measurement/vmlinuz-fake" --initrd "$VEC/measurement/initrd-fake"
	--append "foo bar baz fake kernel=cmdline")
SEV_HOST=(--tik "$TIK" --api-major 1 --api-minor 40 --build-id 40 --policy 3)
ES_HOST=(--tik "$TIK" --api-major 1 --api-minor 49 --build-id 6 --policy 5 --allow-policy noks)
ES_LAUNCH=(--mode seves --ovmf "$EL9" --vcpu-type EPYC-Milan)

verified() { # NAME ARGS...: verify ARGS exits 0 saying so
	local name=$1
	shift
	cs verify "$@"
	expect "$name" 0 "measurement verified"
}

# --- section 2: the four blobs ------------------------------------------
verified "the blob of digest xkvR... (base64 digest)" "${SEV_HOST[@]}" \
	--launch-measure-blob "$BLOB_DIGEST" --launch-digest xkvRAfyaSizgonxAjZIAkR8TmolUabBKQKb6KJCDDSM=
verified "the same digest given in hex" "${SEV_HOST[@]}" --launch-measure-blob "$BLOB_DIGEST" \
	--launch-digest "$(printf xkvRAfyaSizgonxAjZIAkR8TmolUabBKQKb6KJCDDSM= | base64 -d | od -An -tx1 -v | tr -d ' \n')"
verified "the blob of the el9 firmware alone, measured here" "${SEV_HOST[@]}" \
	--launch-measure-blob "$BLOB_FW" --mode sev --ovmf "$EL9"
verified "the blob of el9 with the fake kernel, initrd and command line" "${SEV_HOST[@]}" \
	--launch-measure-blob "$BLOB_KERNEL" --mode sev --ovmf "$EL9" "${FAKE[@]}"
verified "the SEV-ES blob: el9, 4 vCPUs of family 25 model 1 stepping 1, legacy VMSAs" \
	"${ES_HOST[@]}" --launch-measure-blob "$BLOB_ES" --mode seves --ovmf "$EL9" --vcpus 4 \
	--vcpu-family 25 --vcpu-model 1 --vcpu-stepping 1 --vmsa-fpu legacy
verified "the SEV-ES blob with the default --vmsa-fpu and --vcpu-type EPYC-Milan" \
	"${ES_HOST[@]}" --launch-measure-blob "$BLOB_ES" "${ES_LAUNCH[@]}" --vcpus 4

# --- not verified -------------------------------------------------------
cs verify "${SEV_HOST[@]}" --launch-measure-blob "$BLOB_FW" --mode sev --ovmf "$EL9" "${FAKE[@]}"
expect "a kernel the host did not boot: not verified, firmware/kernel/initrd/cmdline named" 1 \
	"firmware, kernel, initrd or command line differ"
out_lacks "not verified prints no 'measurement verified'" "measurement verified"
cs verify "${SEV_HOST[@]}" --launch-measure-blob "$BLOB_KERNEL" --mode sev --ovmf "$EL9" \
	"${FAKE[@]:0:4}" --append "foo bar baz fake kernel=cmdline rd.coco.wipe=none"
expect "an appended rd.coco.wipe=none: not verified" 1 "command line differ"
cs verify --tik "$TIK" --api-major 1 --api-minor 40 --build-id 41 --policy 3 \
	--launch-measure-blob "$BLOB_FW" --mode sev --ovmf "$EL9"
expect "another build ID than the launch's: not verified" 1 "not verified"
cs verify "${SEV_HOST[@]}" --launch-measure-blob "$BLOB_DIGEST" \
	--launch-digest 0000000000000000000000000000000000000000000000000000000000000000
expect "another digest: not verified, and a hint to give the measure options" 1 \
	"give the measure options"
cp "$TIK" tik-other
printf '\x01' | dd of=tik-other bs=1 seek=0 conv=notrunc 2>/dev/null
cs verify --tik tik-other --api-major 1 --api-minor 40 --build-id 40 --policy 3 \
	--launch-measure-blob "$BLOB_FW" --mode sev --ovmf "$EL9"
expect "another TIK: not verified" 1 "not verified"

# --- the diagnosis (SEV-ES) ---------------------------------------------
cs verify "${ES_HOST[@]}" --launch-measure-blob "$BLOB_ES" "${ES_LAUNCH[@]}" --vcpus 2
expect "2 vCPUs expected: names the host's 4" 1 "the host launched 4 vCPUs, you expected 2"
cs verify "${ES_HOST[@]}" --launch-measure-blob "$BLOB_ES" "${ES_LAUNCH[@]}" --vcpus 64
expect "64 vCPUs expected: names the host's 4" 1 "the host launched 4 vCPUs, you expected 64"
cs verify "${ES_HOST[@]}" --launch-measure-blob "$BLOB_ES" "${ES_LAUNCH[@]}" --vcpus 4 \
	--vmsa-fpu init2
expect "init2 expected: names the legacy VMSAs" 1 \
	"built the VMSAs as --vmsa-fpu legacy (KVM_SEV_ES_INIT), you expected init2"
out_lacks "init2 expected, right count: no vCPU count named" "vCPUs, you expected"
cs verify "${ES_HOST[@]}" --launch-measure-blob "$BLOB_ES" "${ES_LAUNCH[@]}" --vcpus 4 \
	--guest-features 0x20
expect "DebugSwap expected: names its absence" 1 "SEV features 0x0 (DebugSwap off), you expected 0x20"
cs verify "${ES_HOST[@]}" --launch-measure-blob "$BLOB_ES" --mode seves --ovmf "$EL9" \
	--vcpu-type EPYC-Rome --vcpus 4
expect "EPYC-Rome expected: names EPYC-Milan" 1 \
	"vCPU type is EPYC-Milan (0xa00f11), you expected EPYC-Rome (0x830f10)"
cs verify "${ES_HOST[@]}" --launch-measure-blob "$BLOB_ES" --mode seves --ovmf "$EL9" \
	--vcpu-type EPYC-v4 --vcpus 1 --vmsa-fpu init2 --guest-features 0x20
expect "four differences at once: the count" 1 "the host launched 4 vCPUs, you expected 1"
expect "four differences at once: the FPU" 1 "--vmsa-fpu legacy"
expect "four differences at once: DebugSwap" 1 "DebugSwap off"
expect "four differences at once: the type" 1 "vCPU type is EPYC-Milan"
cs verify "${ES_HOST[@]}" --launch-measure-blob "$BLOB_ES" "${ES_LAUNCH[@]}" --vcpus 4 \
	--kernel "$VEC/measurement/vmlinuz-fake"
expect "SEV-ES with a kernel the host did not boot: no variant explains it" 1 \
	"no vCPU count (1-64), --vmsa-fpu, DebugSwap or vCPU type explains"
expect "... and the firmware/kernel/initrd/cmdline are named" 1 "kernel, initrd or command line differ"

# --- policy -------------------------------------------------------------
cs verify --tik "$TIK" --api-major 1 --api-minor 49 --build-id 6 --policy 5 \
	--launch-measure-blob "$BLOB_ES" "${ES_LAUNCH[@]}" --vcpus 4
expect "policy 0x5 (NOKS clear) is refused without --allow-policy=noks" 1 "NOKS clear"
out_lacks "a refused policy is not verified" "measurement verified"
cs verify --tik "$TIK" --api-major 1 --api-minor 40 --build-id 40 --policy 2 \
	--launch-measure-blob "$BLOB_FW" --mode sev --ovmf "$EL9"
expect "policy 0x2 (NODBG clear: debugging allowed) is refused" 1 "lets the host debug the guest"
cs verify --tik "$TIK" --api-major 1 --api-minor 40 --build-id 40 --policy 2 \
	--allow-policy noks --launch-measure-blob "$BLOB_FW" --mode sev --ovmf "$EL9"
expect "--allow-policy noks does not allow debugging" 1 "NODBG clear"
cs verify --tik "$TIK" --api-major 1 --api-minor 49 --build-id 6 --policy 3 \
	--launch-measure-blob "$BLOB_ES" "${ES_LAUNCH[@]}" --vcpus 4
expect "seves measured, policy without ES: refused" 1 "lacks ES"
cs verify --tik "$TIK" --api-major 1 --api-minor 40 --build-id 40 --policy 7 \
	--launch-measure-blob "$BLOB_FW" --mode sev --ovmf "$EL9"
expect "sev measured, policy with ES: refused, measure seves" 1 "--mode seves"
cs verify "${SEV_HOST[@]}" --allow-policy nodbg,bogus --launch-measure-blob "$BLOB_FW" \
	--mode sev --ovmf "$EL9"
expect "--allow-policy with an unknown name" 2 "--allow-policy names nodbg, noks or es"

# --- usage --------------------------------------------------------------
cs verify "${SEV_HOST[@]}" --launch-measure-blob "${BLOB_FW:4}" --mode sev --ovmf "$EL9"
expect "a blob that is not 48 bytes of base64 (45)" 2 "not 48 bytes of base64"
cs verify "${SEV_HOST[@]}" --launch-measure-blob "${BLOB_FW:0:60}!!!!" --mode sev --ovmf "$EL9"
expect "a blob with characters outside base64" 2 "not 48 bytes of base64"
cs verify "${SEV_HOST[@]}" --launch-measure-blob "$BLOB_FW"
expect "neither --launch-digest nor the measure options" 2 "either as --launch-digest"
cs verify "${SEV_HOST[@]}" --launch-measure-blob "$BLOB_FW" --launch-digest x --mode sev --ovmf "$EL9"
expect "both --launch-digest and the measure options" 2 "not both"
cs verify "${SEV_HOST[@]}" --launch-measure-blob "$BLOB_FW" --mode snp --ovmf "$EL9" --vcpus 1 \
	--vcpu-type EPYC-v4
expect "snp has no launch measurement to verify" 2 "--mode is sev or seves"
cs verify --tik "$TIK" --launch-measure-blob "$BLOB_FW" --mode sev --ovmf "$EL9"
expect "no --api-major" 2 "needs --api-major"
cs verify "${SEV_HOST[@]}" --launch-measure-blob "$BLOB_DIGEST" --launch-digest abcd
expect "a digest of the wrong length" 2 "--launch-digest is 32 bytes"
head -c 15 "$TIK" >tik-short
cs verify --tik tik-short --api-major 1 --api-minor 40 --build-id 40 --policy 3 \
	--launch-measure-blob "$BLOB_FW" --mode sev --ovmf "$EL9"
expect "a 15-byte TIK is named" 1 "TIK tik-short: 15 bytes, a TIK is 16"
cs verify "${SEV_HOST[@]}" --launch-measure-blob "$BLOB_FW" --mode sev --ovmf "$EL9" --policy 0x100000000
expect "a policy over 32 bits" 2 "--policy wants a number"
cs verify "${SEV_HOST[@]}" --launch-measure-blob "$BLOB_FW" --mode sev --ovmf "$EL9" --tek x
expect "an option of package" 2 "verify does not take --tek"

tap_done
