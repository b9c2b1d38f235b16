// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The SEV-SNP launch digest: the PSP folds every page the launch adds
 * into a running SHA-384, ld = SHA-384(ld || PAGE_INFO), where PAGE_INFO
 * (SNP ABI spec, "PAGE_INFO structure") carries the page's own SHA-384
 * (zero for pages the PSP fills itself), its type and its guest address.
 */
#include <string.h>

#include <openssl/evp.h>

#include "sev.h"

#define PAGE_INFO_LEN 0x70

/* The RMP records VMSA pages at GPA -1, page-aligned, bits above 51 clear. */
#define VMSA_GPA 0xfffffffff000ull

static int gctx_update(uint8_t ld[SHA384_LEN], enum snp_page_type type, uint64_t gpa,
		       const uint8_t contents[SHA384_LEN])
{
	uint8_t info[PAGE_INFO_LEN] = { 0 };
	int i;

	memcpy(info, ld, SHA384_LEN);
	memcpy(info + SHA384_LEN, contents, SHA384_LEN);
	info[96] = PAGE_INFO_LEN;
	info[98] = (uint8_t)type;
	/* is_imi, the VMPL permissions and the reserved byte stay zero. */
	for (i = 0; i < 8; i++)
		info[104 + i] = (uint8_t)(gpa >> (8 * i));
	return EVP_Digest(info, sizeof(info), ld, NULL, EVP_sha384(), NULL) ? 0 : -1;
}

int gctx_normal_pages(uint8_t ld[SHA384_LEN], uint64_t gpa, const uint8_t *data, size_t len)
{
	uint8_t hash[SHA384_LEN];
	size_t off;

	for (off = 0; off < len; off += PAGE_SIZE_4K)
		if (!EVP_Digest(data + off, PAGE_SIZE_4K, hash, NULL, EVP_sha384(), NULL) ||
		    gctx_update(ld, SNP_PAGE_NORMAL, gpa + off, hash) < 0)
			return -1;
	return 0;
}

/* Zero, secrets and CPUID pages: the PSP fills them, their contents are not hashed. */
int gctx_unmeasured_pages(uint8_t ld[SHA384_LEN], enum snp_page_type type, uint64_t gpa,
			  size_t len)
{
	static const uint8_t zeros[SHA384_LEN];
	size_t off;

	for (off = 0; off < len; off += PAGE_SIZE_4K)
		if (gctx_update(ld, type, gpa + off, zeros) < 0)
			return -1;
	return 0;
}

int gctx_vmsa_page(uint8_t ld[SHA384_LEN], const uint8_t page[VMSA_SIZE])
{
	uint8_t hash[SHA384_LEN];

	if (!EVP_Digest(page, VMSA_SIZE, hash, NULL, EVP_sha384(), NULL))
		return -1;
	return gctx_update(ld, SNP_PAGE_VMSA, VMSA_GPA, hash);
}
