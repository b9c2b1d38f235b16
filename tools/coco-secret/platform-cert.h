/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The host platform's certificates (platform-cert.c) and the chain from
 * AMD's root to the PDH the owner's session is made against
 * (cert-chain.c).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#define SEV_CERT_SIZE 2084

/* Key usages (SEV API, appendix C). */
#define CA_USAGE_ARK 0x0000u
#define CA_USAGE_ASK 0x0013u
#define SEV_USAGE_INVALID 0x1000u
#define SEV_USAGE_OCA 0x1001u
#define SEV_USAGE_PEK 0x1002u
#define SEV_USAGE_PDH 0x1003u
#define SEV_USAGE_CEK 0x1004u

#define SEV_ALGO_RSA_SHA256 0x0001u
#define SEV_ALGO_ECDSA_SHA256 0x0002u
#define SEV_ALGO_ECDH_SHA256 0x0003u
#define SEV_ALGO_RSA_SHA384 0x0101u
#define SEV_ALGO_ECDSA_SHA384 0x0102u
#define SEV_ALGO_ECDH_SHA384 0x0103u

#define ECC_CURVE_P256 1u
#define ECC_CURVE_P384 2u

enum cert_format { CERT_AMD_CA, CERT_SEV };

struct platform_cert {
	enum cert_format format;
	const uint8_t *raw;		/* the caller's bytes, kept while in use */
	size_t len;
	size_t body_len;		/* the signed part */
	uint32_t usage;
	bool is_rsa;
	bool hash_sha384;		/* the hash this key signs with */
	uint8_t key_id[16];		/* CA format only */
	uint8_t signer_id[16];
	EVP_PKEY *key;
};

/* 0, or -1 when @p is neither format (or its key is unusable). */
int platform_cert_parse(const uint8_t *p, size_t len, struct platform_cert *c);
void platform_cert_free(struct platform_cert *c);
/* @signer's key made one of @c's signatures. */
bool platform_cert_signs(const struct platform_cert *signer, const struct platform_cert *c);
/* An ECC public key from the SEV format's little-endian coordinates, checked on its curve. */
EVP_PKEY *ecc_public(uint32_t curve, const uint8_t *x_le, const uint8_t *y_le);
