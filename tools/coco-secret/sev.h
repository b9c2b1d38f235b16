/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * coco-secret's side of an SEV launch: what the guest owner computes to
 * decide whether the host launched the guest it expects (measure,
 * verify), and the LAUNCH_SECRET packet it sends when it did (package).
 * The later commands (session, launch) build on the same pieces: the
 * firmware's footer table, the launch digest and its variants, the
 * measurement blob and the packet.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "secure-mem.h"
#include "sha256.h"

#define PAGE_SIZE_4K 4096
#define VMSA_SIZE PAGE_SIZE_4K
#define SHA256_LEN 32
#define SHA384_LEN 48
#define LAUNCH_DIGEST_MAX SHA384_LEN
/* The padded SEV hashes table QEMU writes with kernel-hashes=on. */
#define SEV_HASHES_TABLE_SIZE 176
/* The most vCPUs measure takes, and the range verify tries. */
#define MAX_VCPUS 512
#define DIAGNOSE_MAX_VCPUS 64
/* Firmware images are a few MiB; refuse what cannot be one. */
#define MAX_FIRMWARE_SIZE (64u << 20)
#define MAX_SNP_SECTIONS 32

/* Transport key sizes (SEV API: TEK and TIK are 128-bit). */
#define TIK_SIZE 16
#define TEK_SIZE 16
#define MNONCE_SIZE 16
#define MEASURE_SIZE 32
#define LAUNCH_BLOB_SIZE (MEASURE_SIZE + MNONCE_SIZE)
#define SECRET_IV_SIZE 16
#define PACKET_HEADER_SIZE 52	/* flags u32, IV, MAC */

/* SEV guest policy bits (SEV API, section 3). */
#define POLICY_NODBG 0x01u
#define POLICY_NOKS 0x02u
#define POLICY_ES 0x04u

/* SNP guest features (the VMSA's SEV_FEATURES). */
#define SEV_FEATURE_SNP_ACTIVE 0x01u
#define SEV_FEATURE_DEBUG_SWAP 0x20u

enum sev_mode { SEV_MODE_SEV, SEV_MODE_SEVES, SEV_MODE_SNP };

/*
 * The x87/SSE control words of the VMSA KVM builds: zero through the
 * legacy KVM_SEV_ES_INIT, their reset values through KVM_SEV_INIT2.
 */
enum vmsa_fpu { VMSA_FPU_LEGACY, VMSA_FPU_INIT2 };

/* ovmf-footer.c: an OVMF image and what its footer table says. */
struct snp_section {
	uint32_t gpa;
	uint32_t size;
	uint32_t type;
};

#define SNP_SECTION_SEC_MEM 1
#define SNP_SECTION_SECRETS 2
#define SNP_SECTION_CPUID 3
#define SNP_SECTION_SVSM_CAA 4
#define SNP_SECTION_KERNEL_HASHES 0x10

struct ovmf {
	const char *path;
	uint8_t *data;
	size_t size;
	bool has_reset_eip;
	uint32_t reset_eip;
	bool has_hashes_area;		/* present and non-zero */
	uint32_t hashes_gpa;
	uint32_t hashes_size;
	bool has_secret_area;		/* present and non-zero */
	uint32_t secret_gpa;
	uint32_t secret_size;
	bool has_snp_metadata;
	struct snp_section sections[MAX_SNP_SECTIONS];
	size_t n_sections;
};

int ovmf_load(const char *path, struct ovmf *fw);
void ovmf_free(struct ovmf *fw);
/* The guest-physical address of the image's first byte: it ends at 4 GiB. */
uint64_t ovmf_gpa(const struct ovmf *fw);
bool ovmf_has_snp_section(const struct ovmf *fw, uint32_t type);

/* sev-hashes.c: the kernel, initrd and command line hashes. */
struct boot_hashes {
	uint8_t kernel[SHA256_LEN];
	uint8_t initrd[SHA256_LEN];
	uint8_t cmdline[SHA256_LEN];
};

int file_sha256(const char *path, uint8_t out[SHA256_LEN]);
int boot_hashes_compute(const char *kernel, const char *initrd, const char *append,
			struct boot_hashes *h);
void sev_hashes_table(const struct boot_hashes *h, uint8_t out[SEV_HASHES_TABLE_SIZE]);

/* vcpu-types.c: QEMU's CPU models and their CPUID signatures. */
struct vcpu_type {
	const char *name;
	uint32_t sig;
};

uint32_t vcpu_sig_from_fms(unsigned family, unsigned model, unsigned stepping);
bool vcpu_sig_by_name(const char *name, uint32_t *sig);
/* The distinct signatures, for the diagnosis; NULL-named at the end. */
extern const struct vcpu_type vcpu_families[];
const char *vcpu_name_of_sig(uint32_t sig);

/* vmsa.c */
#define BSP_RESET_EIP 0xfffffff0u

struct vmsa_params {
	uint32_t eip;
	uint32_t vcpu_sig;
	uint64_t sev_features;
	enum vmsa_fpu fpu;
};

void vmsa_build(const struct vmsa_params *p, uint8_t page[VMSA_SIZE]);

/* launch-digest.c: what the PSP measures, split so variants reuse the prefix. */
struct vcpu_config {
	unsigned vcpus;
	uint32_t vcpu_sig;
	uint64_t guest_features;
	enum vmsa_fpu fpu;
};

struct measure_input {
	enum sev_mode mode;
	const struct ovmf *fw;
	const struct boot_hashes *hashes;	/* NULL: no kernel given */
	struct vcpu_config cpu;
};

struct launch_prefix;

/* The part of the digest vCPUs do not change; NULL after saying why. */
struct launch_prefix *launch_prefix_new(const struct measure_input *in);
void launch_prefix_free(struct launch_prefix *p);
/* The digest with @cpu's VMSAs (ignored for SEV): its length, or -1. */
int launch_digest_finish(const struct launch_prefix *p, const struct vcpu_config *cpu,
			 uint8_t out[LAUNCH_DIGEST_MAX]);
int launch_digest(const struct measure_input *in, uint8_t out[LAUNCH_DIGEST_MAX]);
/* SEV-ES: the digests for 1 to @max vCPUs of @cpu's kind, in one pass. */
int launch_digest_counts(const struct launch_prefix *p, const struct vcpu_config *cpu,
			 unsigned max, uint8_t (*out)[SHA256_LEN]);

/* snp-gctx.c: the SNP digest, page by page (SNP ABI's PAGE_INFO types). */
enum snp_page_type {
	SNP_PAGE_NORMAL = 1,
	SNP_PAGE_VMSA = 2,
	SNP_PAGE_ZERO = 3,
	SNP_PAGE_UNMEASURED = 4,
	SNP_PAGE_SECRETS = 5,
	SNP_PAGE_CPUID = 6,
};

int gctx_normal_pages(uint8_t ld[SHA384_LEN], uint64_t gpa, const uint8_t *data, size_t len);
int gctx_unmeasured_pages(uint8_t ld[SHA384_LEN], enum snp_page_type type, uint64_t gpa,
			  size_t len);
int gctx_vmsa_page(uint8_t ld[SHA384_LEN], const uint8_t page[VMSA_SIZE]);

/* codec.c: hex and base64, as the owner's tools print them (hex_encode: hex.h). */
/* Exactly @len bytes of hex (either case), or false. */
bool hex_decode(const char *text, uint8_t *out, size_t len);
/* Standard base64 with padding; @out has room for 4 * ceil(len / 3) + 1. */
void base64_encode(const uint8_t *p, size_t len, char *out);
/* Decoded length, or -1 when @text is not base64; @out has strlen(text) room. */
int base64_decode(const char *text, uint8_t *out, size_t room);
#define BASE64_LEN(n) (((n) + 2) / 3 * 4)

/* crypto.c: libcrypto's HMAC-SHA256 over parts, and AES-128-CTR. */
struct byte_span {
	const uint8_t *p;
	size_t len;
};

int sev_hmac_sha256(const struct secret_buf *key, const struct byte_span *parts, size_t n,
		uint8_t out[SHA256_LEN]);
int aes128_ctr(const struct secret_buf *key, const uint8_t iv[16], const uint8_t *in,
	       size_t len, uint8_t *out);

/* launch-blob.c: the host's measurement (query-sev-launch-measure). */
struct launch_blob {
	uint8_t measure[MEASURE_SIZE];
	uint8_t mnonce[MNONCE_SIZE];
};

struct platform_info {
	uint8_t api_major;
	uint8_t api_minor;
	uint8_t build_id;
	uint32_t policy;
};

bool launch_blob_parse(const char *b64, struct launch_blob *blob);
int launch_measure_mac(const struct secret_buf *tik, const struct platform_info *pi,
		       const uint8_t digest[SHA256_LEN], const uint8_t mnonce[MNONCE_SIZE],
		       uint8_t out[MEASURE_SIZE]);
/* 1 when the blob is the MAC of @digest, 0 when not, -1 on error. */
int launch_blob_matches(const struct launch_blob *blob, const struct secret_buf *tik,
			const struct platform_info *pi, const uint8_t digest[SHA256_LEN]);

/* secret-packet.c: the LAUNCH_SECRET packet. */
struct secret_packet {
	uint8_t header[PACKET_HEADER_SIZE];
	uint8_t *payload;		/* as long as the table */
	size_t payload_len;
};

int secret_packet_build(const struct secret_buf *tik, const struct secret_buf *tek,
			const uint8_t iv[SECRET_IV_SIZE], const uint8_t measure[MEASURE_SIZE],
			const uint8_t *table, size_t table_len, struct secret_packet *pkt);
void secret_packet_free(struct secret_packet *pkt);

/* session-keys.c: the LAUNCH_START session blob. */
#define SESSION_BLOB_SIZE 128

int sev_kdf(const struct secret_buf *key, const char *label, const uint8_t *ctx, size_t ctx_len,
	    struct secret_buf *out);
int session_blob_build(const struct secret_buf *z, const struct secret_buf *tek,
		       const struct secret_buf *tik, uint32_t policy, const uint8_t nonce[16],
		       const uint8_t wrap_iv[16], uint8_t blob[SESSION_BLOB_SIZE]);

/* key-file.c: TIK and TEK files, into locked memory. */
int key_file_read(const char *what, const char *path, size_t size, struct secret_buf *key);


/* measure.c, verify.c, package.c: the commands, with their own options. */
void print_digest(const uint8_t *d, size_t len, bool base64);
int cmd_measure(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_package(int argc, char **argv);
int cmd_session(int argc, char **argv);
/* launch.c */
int cmd_launch(int argc, char **argv);
