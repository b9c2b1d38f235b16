#!/usr/bin/env bash
# coco-secret measure against the launch-digest vectors of
# ../shared/vectors/sev/VECTORS.md section 1 (sev-snp-measure's test
# suite) and section 2's digests (sevctl's): every expected value is
# written here as the vectors give it. Also: the padded SEV hashes table
# and the SEV-ES VMSAs, checked through digests the test computes itself
# with sha256sum, and the refusals.
. "$TOP/tests/secret/lib.sh"
need_sev_vectors
cd "$FIX" || exit 1

AMDSEV=$VEC/ovmf_AmdSev_suffix.bin
OVMFX64=$VEC/ovmf_OvmfX64_suffix.bin
EL9=$VEC/ovmf_amdsev_el9_suffix.bin
: >empty
APPEND='console=ttyS0 loglevel=7'

# --- section 1: sev ---------------------------------------------------
is_digest "sev, AmdSev, empty kernel and initrd, '$APPEND'" \
	82a3ee5d537c3620628270c292ae30cb40c3c878666a7890ee7ef2a08fb535ff \
	measure --mode sev --ovmf "$AMDSEV" --kernel empty --initrd empty --append "$APPEND"
is_digest "sev, AmdSev, empty kernel, no initrd, no append" \
	77f613d7bbcdf12a73782ea9e88b0172aeda50d1a54201cb903594ff52846898 \
	measure --mode sev --ovmf "$AMDSEV" --kernel empty
is_digest "sev, OvmfX64, no kernel" \
	b4c021e085fb83ceffe6571a3d357b4a98773c83c474e47f76c876708fe316da \
	measure --mode sev --ovmf "$OVMFX64"

# --- section 1: seves (KVM_SEV_INIT2's FPU fields) ----------------------
is_digest "seves, AmdSev, 1 EPYC-v4, init2" \
	13810ae661ea11e2bb205621f582fee268f0367c8f97bc297b7fadef3e12002c \
	measure --mode seves --ovmf "$AMDSEV" --kernel empty --initrd empty --append "" \
	--vcpus 1 --vcpu-type EPYC-v4 --vmsa-fpu init2
is_digest "seves, AmdSev, 4 EPYC-v4, init2" \
	0dccbcaba8e90b261bd0d2e1863a2f9da714768b7b2a19363cd6ae35aa90de91 \
	measure --mode seves --ovmf "$AMDSEV" --kernel empty --initrd empty --append "" \
	--vcpus 4 --vcpu-type EPYC-v4 --vmsa-fpu init2
is_digest "seves, EPYC-v4 given as --vcpu-sig 0x800f12" \
	0dccbcaba8e90b261bd0d2e1863a2f9da714768b7b2a19363cd6ae35aa90de91 \
	measure --mode seves --ovmf "$AMDSEV" --kernel empty --initrd empty --append "" \
	--vcpus 4 --vcpu-sig 0x800f12 --vmsa-fpu init2
is_digest "seves, EPYC-v4 given as family 23 model 1 stepping 2" \
	0dccbcaba8e90b261bd0d2e1863a2f9da714768b7b2a19363cd6ae35aa90de91 \
	measure --mode seves --ovmf "$AMDSEV" --kernel empty --initrd empty --append "" \
	--vcpus 4 --vcpu-family 23 --vcpu-model 1 --vcpu-stepping 2 --vmsa-fpu init2

# --- section 1: snp ---------------------------------------------------
snp() { # NAME DIGEST FEATURES VCPUS FIRMWARE [KERNEL ARGS...]
	local name=$1 want=$2 gf=$3 n=$4 fw=$5
	shift 5
	is_digest "$name" "$want" measure --mode snp --ovmf "$fw" --vcpus "$n" \
		--vcpu-type EPYC-v4 --guest-features "$gf" "$@"
}
snp "snp 0x21, 1 vCPU, kernel, '$APPEND'" \
	803f691094946e42068aaa3a8f9e26a5c89f36f7b73ecfb28c653360fe4b3aba7e534442e7e1e17895dfe778d0228977 \
	0x21 1 "$AMDSEV" --kernel empty --initrd empty --append "$APPEND"
snp "snp 0x1, 1 vCPU, kernel, '$APPEND'" \
	6d287813eb5222d770f75005c664e34c204f385ce832cc2ce7d0d6f354454362f390ef83a92046c042e706363b4b08fa \
	0x1 1 "$AMDSEV" --kernel empty --initrd empty --append "$APPEND"
snp "snp 0x21, 1 vCPU, no kernel" \
	e1e1ca029dd7973ab9513295be68198472dcd4fc834bd9af9b63f6e8a1674dbf281a9278a4a2ebe0eed9f22adbcd0e2b \
	0x21 1 "$AMDSEV"
snp "snp 0x1, 1 vCPU, no kernel" \
	19358ba9a7615534a9a1e2f0dfc29384dcd4dcb7062ff9c6013b26869a5fc6ecabe033c48dd6f6db5d6d76e7c5df632d \
	0x1 1 "$AMDSEV"
snp "snp 0x21, 4 vCPUs, kernel, empty append" \
	4953b1fb416fa874980e8442b3706d345926d5f38879134e00813c5d7abcbe78eafe7b422907be0b4698e2414a631942 \
	0x21 4 "$AMDSEV" --kernel empty --initrd empty --append ""
snp "snp 0x1, 4 vCPUs, kernel, empty append" \
	5061fffb019493a903613d56d54b94912a1a2f9e4502385f5c194616753720a92441310ba6c4933de877c36e23046ad5 \
	0x1 4 "$AMDSEV" --kernel empty --initrd empty --append ""
snp "snp 0x21, OvmfX64, 1 vCPU, no kernel" \
	28797ae0afaba4005a81e629acebfb59e6687949d6be44007cd5506823b0dd66f146aaae26ff291eed7b493d8a64c385 \
	0x21 1 "$OVMFX64"

# --- section 2's digests (sevctl), and the legacy VMSAs ----------------
is_digest "sev, el9 firmware, no kernel: the firmware's sha256" \
	"$(sha256sum <"$EL9" | cut -c1-64)" measure --mode sev --ovmf "$EL9"
is_digest "sev, el9 firmware, fake kernel, initrd and command line" \
	4b47fec6f851487c33714c8a00a832a1b705ad0a7cac4a647388eccfa9f0c570 \
	measure --mode sev --ovmf "$EL9" --kernel "$VEC/measurement/vmlinuz-fake" \
	--initrd "$VEC/measurement/initrd-fake" --append "foo bar baz fake kernel=cmdline"
is_digest "seves, el9, 4 vCPUs family 25 model 1 stepping 1, legacy FPU (the default)" \
	847b5ab6db136ea67dc5a95478ebe7e5ebbe93e9e74bdb1284165f9007a4e367 \
	measure --mode seves --ovmf "$EL9" --vcpus 4 --vcpu-family 25 --vcpu-model 1 --vcpu-stepping 1
# The same digest from sevctl's own VMSA files: the pages built here are theirs.
is_digest "seves legacy VMSAs are vmsa0.bin (BSP) and vmsa1.bin (APs), byte for byte" \
	"$(cat "$EL9" "$VEC/vmsa0.bin" "$VEC/vmsa1.bin" "$VEC/vmsa1.bin" "$VEC/vmsa1.bin" |
		sha256sum | cut -c1-64)" \
	measure --mode seves --ovmf "$EL9" --vcpus 4 --vcpu-type EPYC-Milan --vmsa-fpu legacy
is_digest "seves, 1 vCPU: the BSP's VMSA is vmsa0.bin" \
	"$(cat "$EL9" "$VEC/vmsa0.bin" | sha256sum | cut -c1-64)" \
	measure --mode seves --ovmf "$EL9" --vcpus 1 --vcpu-sig 0xa00f11

# --- the padded hashes table, as the vectors write it ------------------
write_hex table.bin \
	06d63894224fc94cb479a793d411fd21a800 \
	d82dd09720bd944caa78e7714d36ab2a3200321c8eec6a77bad179511397f913a083067ad8cb737bb260aacbfe8df70fc50a \
	31f7ba442f3ad74b9af141e29169781d3200e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 \
	3794e74dd2ab7f42b835d5b172d2045b3200e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 \
	0000000000000000
tap_is "the vectors' hashes table is 176 bytes" 176 "$(stat -c %s table.bin)"
is_digest "sev measures the firmware, then exactly that padded table" \
	"$(cat "$AMDSEV" table.bin | sha256sum | cut -c1-64)" \
	measure --mode sev --ovmf "$AMDSEV" --kernel empty --initrd empty --append "$APPEND"

# --- output forms -------------------------------------------------------
is_digest "--output-format base64" \
	"$(printf 77f613d7bbcdf12a73782ea9e88b0172aeda50d1a54201cb903594ff52846898 | xxd -r -p | base64)" \
	measure --mode sev --ovmf "$AMDSEV" --kernel empty --output-format base64

# --- refusals -----------------------------------------------------------
cs measure --mode sev --ovmf "$OVMFX64" --kernel empty
expect "sev: OvmfX64 with a kernel is refused (no hashes-table area)" 1 "no SEV hashes-table area"
cs measure --mode seves --ovmf "$OVMFX64" --kernel empty --vcpus 1 --vcpu-type EPYC-v4
expect "seves: OvmfX64 with a kernel is refused (no hashes-table area)" 1 "no SEV hashes-table area"
cs measure --mode snp --ovmf "$OVMFX64" --kernel empty --vcpus 1 --vcpu-type EPYC-v4
expect "snp: OvmfX64 with a kernel is refused (no SNP_KERNEL_HASHES section)" 1 \
	"no SNP_KERNEL_HASHES section"
cs measure --mode sev --ovmf "$AMDSEV" --initrd empty
expect "--initrd without --kernel is a usage error" 2 "only with --kernel"
cs measure --mode sev --ovmf "$AMDSEV" --append x
expect "--append without --kernel is a usage error" 2 "only with --kernel"
cs measure --mode seves --ovmf "$AMDSEV" --vcpu-type EPYC-v4
expect "seves without --vcpus" 2 "need --vcpus"
cs measure --mode seves --ovmf "$AMDSEV" --vcpus 1
expect "seves without a vCPU type" 2 "give the vCPU type once"
cs measure --mode seves --ovmf "$AMDSEV" --vcpus 1 --vcpu-type EPYC-v4 --vcpu-sig 1
expect "two vCPU types" 2 "give the vCPU type once"
cs measure --mode seves --ovmf "$AMDSEV" --vcpus 1 --vcpu-family 25
expect "a family without model and stepping" 2 "go together"
cs measure --mode seves --ovmf "$AMDSEV" --vcpus 1 --vcpu-type Skylake
expect "an unknown vCPU type" 2 "unknown --vcpu-type"
cs measure --mode snp --ovmf "$AMDSEV" --vcpus 1 --vcpu-type EPYC-v4 --vmsa-fpu legacy
expect "snp with the legacy FPU" 2 "KVM_SEV_INIT2"
cs measure --mode sev --ovmf "$AMDSEV" --vcpus 2
expect "sev with vCPU options" 2 "measures no vCPU state"
cs measure --mode sevx --ovmf "$AMDSEV"
expect "an unknown mode" 2 "--mode is sev, seves or snp"
cs measure --ovmf "$AMDSEV"
expect "no mode" 2 "needs --mode"
cs measure --mode sev
expect "no firmware" 2 "needs --ovmf"
cs measure --mode sev --ovmf "$AMDSEV" --tik x
expect "an option of another command" 2 "measure does not take --tik"
head -c 4096 /dev/zero >zeros.bin
cs measure --mode sev --ovmf zeros.bin
expect "a firmware without a footer table" 1 "no OVMF footer table"
cs measure --mode sev --ovmf missing.bin
expect "a firmware that is not there" 1 "firmware missing.bin"
cs measure --mode sev --ovmf "$AMDSEV" --kernel missing-kernel
expect "a kernel that is not there" 1 "missing-kernel"
# A footer entry whose length runs past the table's start.
cp "$AMDSEV" bad-entry.bin
printf '\xff\x00' | dd of=bad-entry.bin bs=1 seek=$((4096 - 50 - 18)) conv=notrunc 2>/dev/null
cs measure --mode sev --ovmf bad-entry.bin
expect "a footer entry longer than the table" 1 "out of bounds"

tap_done
