// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The launch digest the PSP computes, in the order QEMU feeds it:
 *   SEV     SHA-256(firmware || hashes table)
 *   SEV-ES  SHA-256(firmware || hashes table || VMSA of each vCPU)
 *   SNP     the page-by-page SHA-384 (snp-gctx.c) of the firmware, the
 *           SNP metadata pages (the hashes page among them), the VMSAs
 * The hashes table is there only when a kernel is given (kernel-hashes=on).
 *
 * Split into a prefix and a finish: verify's diagnosis recomputes the
 * digest for many vCPU counts and types, and only the VMSAs change.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "coco-secret.h"
#include "sev.h"

struct launch_prefix {
	enum sev_mode mode;
	EVP_MD_CTX *sha256;		/* SEV, SEV-ES: firmware and table hashed */
	uint8_t ld[SHA384_LEN];		/* SNP: all but the VMSAs folded in */
	uint32_t ap_eip;
};

static int check_firmware(const struct measure_input *in)
{
	const struct ovmf *fw = in->fw;

	/* SNP places the table through its metadata: say that first. */
	if (in->hashes && in->mode == SEV_MODE_SNP &&
	    !ovmf_has_snp_section(fw, SNP_SECTION_KERNEL_HASHES)) {
		err("firmware %s: no SNP_KERNEL_HASHES section in its SNP metadata: "
		    "a kernel cannot be measured with it (use an AmdSev OVMF)", fw->path);
		return -1;
	}
	if (in->hashes && !fw->has_hashes_area) {
		err("firmware %s: its footer table has no SEV hashes-table area (or a zero one): "
		    "a kernel cannot be measured with it (use an AmdSev OVMF)", fw->path);
		return -1;
	}
	if (in->hashes && fw->hashes_size < SEV_HASHES_TABLE_SIZE) {
		err("firmware %s: its hashes-table area (%u bytes) is smaller than the table (%d)",
		    fw->path, fw->hashes_size, SEV_HASHES_TABLE_SIZE);
		return -1;
	}
	if (in->mode != SEV_MODE_SEV && !fw->has_reset_eip) {
		err("firmware %s: no SEV-ES reset block in its footer table: it cannot boot SEV-ES "
		    "or SNP vCPUs", fw->path);
		return -1;
	}
	return 0;
}

static int prefix_sha256(struct launch_prefix *p, const struct measure_input *in)
{
	uint8_t table[SEV_HASHES_TABLE_SIZE];

	p->sha256 = EVP_MD_CTX_new();
	if (p->sha256 == NULL || !EVP_DigestInit_ex(p->sha256, EVP_sha256(), NULL) ||
	    !EVP_DigestUpdate(p->sha256, in->fw->data, in->fw->size))
		return -1;
	if (in->hashes) {
		sev_hashes_table(in->hashes, table);
		if (!EVP_DigestUpdate(p->sha256, table, sizeof(table)))
			return -1;
	}
	return 0;
}

/* The SNP_KERNEL_HASHES page: the table at its area's offset in the page, or zeros. */
static int snp_hashes_page(struct launch_prefix *p, const struct measure_input *in,
			   const struct snp_section *s)
{
	uint8_t page[PAGE_SIZE_4K] = { 0 };
	size_t offset = in->fw->hashes_gpa % PAGE_SIZE_4K;

	if (in->hashes == NULL)
		return gctx_unmeasured_pages(p->ld, SNP_PAGE_ZERO, s->gpa, s->size);
	if (s->size != PAGE_SIZE_4K || offset + SEV_HASHES_TABLE_SIZE > PAGE_SIZE_4K) {
		err("firmware %s: its SNP kernel-hashes section is not one page holding the table",
		    in->fw->path);
		return -1;
	}
	sev_hashes_table(in->hashes, page + offset);
	return gctx_normal_pages(p->ld, s->gpa, page, sizeof(page));
}

static int snp_section(struct launch_prefix *p, const struct measure_input *in,
		       const struct snp_section *s)
{
	switch (s->type) {
	case SNP_SECTION_SEC_MEM:
	case SNP_SECTION_SVSM_CAA:
		return gctx_unmeasured_pages(p->ld, SNP_PAGE_ZERO, s->gpa, s->size);
	case SNP_SECTION_SECRETS:
		return gctx_unmeasured_pages(p->ld, SNP_PAGE_SECRETS, s->gpa, PAGE_SIZE_4K);
	case SNP_SECTION_CPUID:
		return gctx_unmeasured_pages(p->ld, SNP_PAGE_CPUID, s->gpa, PAGE_SIZE_4K);
	case SNP_SECTION_KERNEL_HASHES:
		return snp_hashes_page(p, in, s);
	}
	return -1;
}

static int prefix_snp(struct launch_prefix *p, const struct measure_input *in)
{
	const struct ovmf *fw = in->fw;
	size_t i;

	if (fw->size % PAGE_SIZE_4K) {
		err("firmware %s: %zu bytes is not whole pages, as SNP needs", fw->path, fw->size);
		return -1;
	}
	memset(p->ld, 0, sizeof(p->ld));
	if (gctx_normal_pages(p->ld, ovmf_gpa(fw), fw->data, fw->size) < 0)
		return -1;
	for (i = 0; i < fw->n_sections; i++)
		if (snp_section(p, in, &fw->sections[i]) < 0)
			return -1;
	return 0;
}

struct launch_prefix *launch_prefix_new(const struct measure_input *in)
{
	struct launch_prefix *p;
	int r;

	if (check_firmware(in) < 0)
		return NULL;
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return NULL;
	p->mode = in->mode;
	p->ap_eip = in->fw->reset_eip;
	r = in->mode == SEV_MODE_SNP ? prefix_snp(p, in) : prefix_sha256(p, in);
	if (r < 0) {
		launch_prefix_free(p);
		return NULL;
	}
	return p;
}

void launch_prefix_free(struct launch_prefix *p)
{
	if (p == NULL)
		return;
	EVP_MD_CTX_free(p->sha256);
	free(p);
}

/* vCPU 0 starts at the reset vector, the others where the firmware parks them. */
static void vcpu_vmsa(const struct launch_prefix *p, const struct vcpu_config *cpu,
		      unsigned index, uint8_t page[VMSA_SIZE])
{
	struct vmsa_params v = {
		.eip = index == 0 ? BSP_RESET_EIP : p->ap_eip,
		.vcpu_sig = cpu->vcpu_sig,
		.sev_features = cpu->guest_features,
		.fpu = cpu->fpu,
	};

	vmsa_build(&v, page);
}

static int finish_sha256(const struct launch_prefix *p, const struct vcpu_config *cpu,
			 uint8_t out[SHA256_LEN])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	uint8_t page[VMSA_SIZE];
	unsigned i;
	int ok;

	ok = ctx && EVP_MD_CTX_copy_ex(ctx, p->sha256);
	for (i = 0; ok && p->mode == SEV_MODE_SEVES && i < cpu->vcpus; i++) {
		vcpu_vmsa(p, cpu, i, page);
		ok = EVP_DigestUpdate(ctx, page, sizeof(page));
	}
	ok = ok && EVP_DigestFinal_ex(ctx, out, NULL);
	EVP_MD_CTX_free(ctx);
	return ok ? SHA256_LEN : -1;
}

static int finish_snp(const struct launch_prefix *p, const struct vcpu_config *cpu,
		      uint8_t out[SHA384_LEN])
{
	uint8_t page[VMSA_SIZE];
	unsigned i;

	memcpy(out, p->ld, SHA384_LEN);
	for (i = 0; i < cpu->vcpus; i++) {
		vcpu_vmsa(p, cpu, i, page);
		if (gctx_vmsa_page(out, page) < 0)
			return -1;
	}
	return SHA384_LEN;
}

int launch_digest_finish(const struct launch_prefix *p, const struct vcpu_config *cpu,
			 uint8_t out[LAUNCH_DIGEST_MAX])
{
	return p->mode == SEV_MODE_SNP ? finish_snp(p, cpu, out) : finish_sha256(p, cpu, out);
}

int launch_digest(const struct measure_input *in, uint8_t out[LAUNCH_DIGEST_MAX])
{
	struct launch_prefix *p = launch_prefix_new(in);
	int r;

	if (p == NULL)
		return -1;
	r = launch_digest_finish(p, &in->cpu, out);
	launch_prefix_free(p);
	return r;
}

/*
 * Each count's digest is the previous one's state plus one AP page, so
 * 64 counts cost 64 pages, not 2080: the diagnosis tries many kinds.
 */
int launch_digest_counts(const struct launch_prefix *p, const struct vcpu_config *cpu,
			 unsigned max, uint8_t (*out)[SHA256_LEN])
{
	EVP_MD_CTX *run = EVP_MD_CTX_new(), *fin = EVP_MD_CTX_new();
	uint8_t page[VMSA_SIZE];
	unsigned n;
	int ok;

	ok = run && fin && p->mode == SEV_MODE_SEVES && EVP_MD_CTX_copy_ex(run, p->sha256);
	for (n = 0; ok && n < max; n++) {
		vcpu_vmsa(p, cpu, n, page);
		ok = EVP_DigestUpdate(run, page, sizeof(page)) && EVP_MD_CTX_copy_ex(fin, run) &&
		     EVP_DigestFinal_ex(fin, out[n], NULL);
	}
	EVP_MD_CTX_free(run);
	EVP_MD_CTX_free(fin);
	return ok ? 0 : -1;
}
