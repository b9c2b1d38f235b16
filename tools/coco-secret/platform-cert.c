// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The host platform's certificates, in AMD's two formats, parsed into
 * libcrypto keys and checked signature by signature:
 *
 *  - AMD's CA format (ARK, ASK; "AMD SEV Certificate Format", a.k.a.
 *    the AMD root/signing key certificate): version 1, key ID, signer
 *    ID, usage, 16 reserved bytes, exponent and modulus sizes in bits,
 *    then exponent, modulus and signature, each modulus-sized and
 *    little-endian. RSA-PSS, salt as long as the digest: SHA-256 for
 *    2048-bit keys (Naples), SHA-384 for 4096-bit ones (Rome onwards).
 *
 *  - The SEV format (PEK, OCA, CEK, PDH and the owner's GODH; SEV API
 *    appendix C): version 1, firmware API version, the public key
 *    (usage, algorithm, then an ECC key: curve, x and y of 72
 *    little-endian bytes), then two signature slots (usage, algorithm,
 *    512 bytes: ECDSA r and s of 72 little-endian bytes each, or an RSA
 *    signature). The signed body is everything before the slots.
 *
 * A signature counts only when its slot names the signer's usage and
 * the signer's algorithm family and hash, as sevctl's virtee/sev checks.
 */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

#include "coco-secret.h"
#include "platform-cert.h"

#define CA_PREAMBLE 64
#define SEV_BODY 0x414
#define SEV_SIG_SLOT 0x414
#define SEV_SIG_SIZE 512
#define ECC_COORD 72

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static EVP_PKEY *rsa_public(const uint8_t *n_le, const uint8_t *e_le, size_t len)
{
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	BIGNUM *n = BN_lebin2bn(n_le, (int)len, NULL), *e = BN_lebin2bn(e_le, (int)len, NULL);
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	EVP_PKEY *key = NULL;

	if (bld && n && e && ctx && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) &&
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) &&
	    (params = OSSL_PARAM_BLD_to_param(bld)) && EVP_PKEY_fromdata_init(ctx) > 0 &&
	    EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params) <= 0)
		key = NULL;
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(n);
	BN_free(e);
	EVP_PKEY_CTX_free(ctx);
	return key;
}

static const char *curve_name(uint32_t curve, size_t *coord)
{
	*coord = curve == ECC_CURVE_P256 ? 32 : 48;
	return curve == ECC_CURVE_P256 ? "P-256" : curve == ECC_CURVE_P384 ? "P-384" : NULL;
}

/* A point the host sends is checked to be on the curve before any use. */
EVP_PKEY *ecc_public(uint32_t curve, const uint8_t *x_le, const uint8_t *y_le)
{
	uint8_t point[1 + 2 * 48];
	size_t coord, i;
	const char *name = curve_name(curve, &coord);
	OSSL_PARAM params[3];
	EVP_PKEY_CTX *ctx, *check = NULL;
	EVP_PKEY *key = NULL;

	if (name == NULL)
		return NULL;
	point[0] = POINT_CONVERSION_UNCOMPRESSED;
	for (i = 0; i < coord; i++) {
		point[1 + i] = x_le[coord - 1 - i];
		point[1 + coord + i] = y_le[coord - 1 - i];
	}
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)name, 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point, 1 + 2 * coord);
	params[2] = OSSL_PARAM_construct_end();
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	if (ctx == NULL || EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params) <= 0)
		key = NULL;
	if (key && (!(check = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL)) ||
		    EVP_PKEY_public_check(check) != 1)) {
		EVP_PKEY_free(key);
		key = NULL;
	}
	EVP_PKEY_CTX_free(check);
	EVP_PKEY_CTX_free(ctx);
	return key;
}

static int parse_ca(const uint8_t *p, size_t len, struct platform_cert *c)
{
	uint32_t pbits = le32(p + 56), mbits = le32(p + 60);
	size_t size = mbits / 8;

	if (le32(p) != 1 || pbits != mbits || (mbits != 2048 && mbits != 4096) ||
	    len != CA_PREAMBLE + 3 * size)
		return -1;
	c->format = CERT_AMD_CA;
	c->usage = le32(p + 36);
	memcpy(c->key_id, p + 4, 16);
	memcpy(c->signer_id, p + 20, 16);
	c->hash_sha384 = mbits == 4096;
	c->is_rsa = true;
	c->body_len = CA_PREAMBLE + 2 * size;
	c->key = rsa_public(p + CA_PREAMBLE + size, p + CA_PREAMBLE, size);
	return c->key ? 0 : -1;
}

static bool algo_hash(uint32_t algo, bool *sha384)
{
	switch (algo) {
	case SEV_ALGO_RSA_SHA256: case SEV_ALGO_ECDSA_SHA256: case SEV_ALGO_ECDH_SHA256:
		*sha384 = false;
		return true;
	case SEV_ALGO_RSA_SHA384: case SEV_ALGO_ECDSA_SHA384: case SEV_ALGO_ECDH_SHA384:
		*sha384 = true;
		return true;
	}
	return false;
}

static bool algo_is_rsa(uint32_t algo)
{
	return algo == SEV_ALGO_RSA_SHA256 || algo == SEV_ALGO_RSA_SHA384;
}

static int parse_sev(const uint8_t *p, size_t len, struct platform_cert *c)
{
	uint32_t algo = le32(p + 12);

	if (len != SEV_CERT_SIZE || le32(p) != 1 || !algo_hash(algo, &c->hash_sha384) ||
	    algo_is_rsa(algo))
		return -1;
	c->format = CERT_SEV;
	c->usage = le32(p + 8);
	c->is_rsa = false;
	c->body_len = SEV_BODY;
	c->key = ecc_public(le32(p + 16), p + 20, p + 20 + ECC_COORD);
	return c->key ? 0 : -1;
}

int platform_cert_parse(const uint8_t *p, size_t len, struct platform_cert *c)
{
	memset(c, 0, sizeof(*c));
	if (len < CA_PREAMBLE)
		return -1;
	c->raw = p;
	c->len = len;
	return len == SEV_CERT_SIZE ? parse_sev(p, len, c) : parse_ca(p, len, c);
}

void platform_cert_free(struct platform_cert *c)
{
	EVP_PKEY_free(c->key);
	c->key = NULL;
}

static bool digest_verify(const struct platform_cert *signer, const uint8_t *body,
			  size_t body_len, const uint8_t *sig, size_t sig_len)
{
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	bool ok;

	ok = m && EVP_DigestVerifyInit(m, &pctx, signer->hash_sha384 ? EVP_sha384() : EVP_sha256(),
				       NULL, signer->key) == 1;
	if (ok && signer->is_rsa)
		ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) > 0 &&
		     EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) > 0;
	ok = ok && EVP_DigestVerify(m, sig, sig_len, body, body_len) == 1;
	EVP_MD_CTX_free(m);
	return ok;
}

static bool rsa_verify_le(const struct platform_cert *signer, const struct platform_cert *c,
			  const uint8_t *sig_le, size_t len)
{
	uint8_t be[512];
	size_t i;

	if (len > sizeof(be) || (size_t)EVP_PKEY_get_size(signer->key) != len)
		return false;
	for (i = 0; i < len; i++)
		be[i] = sig_le[len - 1 - i];
	return digest_verify(signer, c->raw, c->body_len, be, len);
}

static bool ecdsa_verify_le(const struct platform_cert *signer, const struct platform_cert *c,
			    const uint8_t *slot)
{
	ECDSA_SIG *sig = ECDSA_SIG_new();
	BIGNUM *r = BN_lebin2bn(slot, ECC_COORD, NULL), *s = BN_lebin2bn(slot + ECC_COORD, ECC_COORD, NULL);
	unsigned char *der = NULL;
	int der_len = -1;
	bool ok = false;

	if (sig && r && s && ECDSA_SIG_set0(sig, r, s)) {
		r = s = NULL;
		der_len = i2d_ECDSA_SIG(sig, &der);
	}
	if (der_len > 0)
		ok = digest_verify(signer, c->raw, c->body_len, der, (size_t)der_len);
	OPENSSL_free(der);
	BN_free(r);
	BN_free(s);
	ECDSA_SIG_free(sig);
	return ok;
}

/* An SEV certificate's slot counts when it names the signer's usage, kind and hash. */
static bool sev_slot_verifies(const struct platform_cert *signer, const struct platform_cert *c,
			      const uint8_t *slot)
{
	uint32_t usage = le32(slot), algo = le32(slot + 4);
	bool sha384;

	if (usage != signer->usage || !algo_hash(algo, &sha384) || sha384 != signer->hash_sha384 ||
	    algo_is_rsa(algo) != signer->is_rsa)
		return false;
	if (signer->is_rsa)
		return rsa_verify_le(signer, c, slot + 8, (size_t)EVP_PKEY_get_size(signer->key));
	return ecdsa_verify_le(signer, c, slot + 8);
}

bool platform_cert_signs(const struct platform_cert *signer, const struct platform_cert *c)
{
	int i;

	if (c->format == CERT_AMD_CA) {
		/* Only the ARK signs CA certificates, and the signer ID names its key. */
		if (signer->format != CERT_AMD_CA || signer->usage != CA_USAGE_ARK ||
		    memcmp(c->signer_id, signer->key_id, 16) != 0)
			return false;
		return rsa_verify_le(signer, c, c->raw + c->body_len, c->len - c->body_len);
	}
	for (i = 0; i < 2; i++)
		if (sev_slot_verifies(signer, c, c->raw + SEV_SIG_SLOT + i * (8 + SEV_SIG_SIZE)))
			return true;
	return false;
}
