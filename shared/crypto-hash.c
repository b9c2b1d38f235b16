// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * SHA-256 and HMAC-SHA256 (sha256.h) from the crypto library the build
 * already links, never our own: OpenSSL's libcrypto in the dynamic build
 * (Debian's libcryptsetup uses it too), libgcrypt in the static one
 * (its libcryptsetup's backend; COCO_CRYPTO_GCRYPT). A context the
 * library cannot make gives an all-zero digest, which no checksum, MAC or
 * pin matches: every caller fails closed.
 */
#include <string.h>

#include "sha256.h"

#ifdef COCO_CRYPTO_GCRYPT
#include <gcrypt.h>

/* libgcrypt wants gcry_check_version() before anything else; cheap to repeat. */
static void *open_md(unsigned int flags, const void *key, size_t key_len)
{
	gcry_md_hd_t hd;

	if (gcry_check_version(NULL) == NULL || gcry_md_open(&hd, GCRY_MD_SHA256, flags) != 0)
		return NULL;
	if (key != NULL && gcry_md_setkey(hd, key, key_len) != 0) {
		gcry_md_close(hd);
		return NULL;
	}
	return hd;
}

static void update_md(void *ctx, const void *data, size_t len)
{
	if (ctx != NULL)
		gcry_md_write(ctx, data, len);
}

/* gcry_md_close() wipes the context, key material included. */
static void final_md(void *ctx, uint8_t out[SHA256_DIGEST_SIZE])
{
	const unsigned char *d = ctx != NULL ? gcry_md_read(ctx, GCRY_MD_SHA256) : NULL;

	if (d != NULL)
		memcpy(out, d, SHA256_DIGEST_SIZE);
	else
		memset(out, 0, SHA256_DIGEST_SIZE);
	if (ctx != NULL)
		gcry_md_close(ctx);
}

void sha256_init(struct sha256 *s)
{
	s->ctx = open_md(0, NULL, 0);
}

void hmac_sha256_init(struct hmac_sha256 *h, const void *key, size_t key_len)
{
	h->ctx = open_md(GCRY_MD_FLAG_HMAC, key, key_len);
}

void sha256_update(struct sha256 *s, const void *data, size_t len)
{
	update_md(s->ctx, data, len);
}

void hmac_sha256_update(struct hmac_sha256 *h, const void *data, size_t len)
{
	update_md(h->ctx, data, len);
}

void sha256_final(struct sha256 *s, uint8_t out[SHA256_DIGEST_SIZE])
{
	final_md(s->ctx, out);
	s->ctx = NULL;
}

void hmac_sha256_final(struct hmac_sha256 *h, uint8_t out[SHA256_DIGEST_SIZE])
{
	final_md(h->ctx, out);
	h->ctx = NULL;
}

#else /* OpenSSL */
#include <openssl/core_names.h>
#include <openssl/evp.h>

void sha256_init(struct sha256 *s)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	if (ctx != NULL && !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)) {
		EVP_MD_CTX_free(ctx);
		ctx = NULL;
	}
	s->ctx = ctx;
}

void sha256_update(struct sha256 *s, const void *data, size_t len)
{
	if (s->ctx != NULL && !EVP_DigestUpdate(s->ctx, data, len)) {
		EVP_MD_CTX_free(s->ctx);
		s->ctx = NULL;
	}
}

void sha256_final(struct sha256 *s, uint8_t out[SHA256_DIGEST_SIZE])
{
	unsigned int n = 0;

	if (s->ctx == NULL || !EVP_DigestFinal_ex(s->ctx, out, &n) || n != SHA256_DIGEST_SIZE)
		memset(out, 0, SHA256_DIGEST_SIZE);
	EVP_MD_CTX_free(s->ctx);
	s->ctx = NULL;
}

void hmac_sha256_init(struct hmac_sha256 *h, const void *key, size_t key_len)
{
	static const unsigned char no_key;
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
		OSSL_PARAM_construct_end(),
	};
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = mac != NULL ? EVP_MAC_CTX_new(mac) : NULL;

	/* A NULL key would mean "the key set before"; an empty one is a key. */
	if (ctx != NULL && !EVP_MAC_init(ctx, key_len ? key : &no_key, key_len, params)) {
		EVP_MAC_CTX_free(ctx);
		ctx = NULL;
	}
	EVP_MAC_free(mac);
	h->ctx = ctx;
}

void hmac_sha256_update(struct hmac_sha256 *h, const void *data, size_t len)
{
	if (h->ctx != NULL && !EVP_MAC_update(h->ctx, data, len)) {
		EVP_MAC_CTX_free(h->ctx);
		h->ctx = NULL;
	}
}

/* EVP_MAC_CTX_free() cleanses the context, key material included. */
void hmac_sha256_final(struct hmac_sha256 *h, uint8_t out[SHA256_DIGEST_SIZE])
{
	size_t n = 0;

	if (h->ctx == NULL || !EVP_MAC_final(h->ctx, out, &n, SHA256_DIGEST_SIZE) ||
	    n != SHA256_DIGEST_SIZE)
		memset(out, 0, SHA256_DIGEST_SIZE);
	EVP_MAC_CTX_free(h->ctx);
	h->ctx = NULL;
}
#endif

void sha256(const void *data, size_t len, uint8_t out[SHA256_DIGEST_SIZE])
{
	struct sha256 s;

	sha256_init(&s);
	sha256_update(&s, data, len);
	sha256_final(&s, out);
}

void hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
		 uint8_t out[SHA256_DIGEST_SIZE])
{
	struct hmac_sha256 h;

	hmac_sha256_init(&h, key, key_len);
	hmac_sha256_update(&h, data, len);
	hmac_sha256_final(&h, out);
}

int memcmp_constant_time(const void *a, const void *b, size_t len)
{
	const volatile uint8_t *x = a, *y = b;
	uint8_t diff = 0;
	size_t i;

	for (i = 0; i < len; i++)
		diff |= x[i] ^ y[i];
	return diff != 0;
}
