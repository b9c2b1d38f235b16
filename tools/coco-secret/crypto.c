// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The two primitives SEV's launch protocol is made of, from libcrypto:
 * HMAC-SHA256 over several parts (the measurement and the packet MACs
 * are MACs of concatenations) and AES-128-CTR (the packet's encryption).
 * Keys stay in the caller's locked buffers; nothing is copied out.
 */
#include <openssl/core_names.h>
#include <openssl/evp.h>

#include "sev.h"

int sev_hmac_sha256(const struct secret_buf *key, const struct byte_span *parts, size_t n,
		uint8_t out[SHA256_LEN])
{
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
		OSSL_PARAM_construct_end(),
	};
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
	size_t i, len = 0;
	int ok;

	ok = ctx && EVP_MAC_init(ctx, key->data, key->len, params);
	for (i = 0; ok && i < n; i++)
		ok = EVP_MAC_update(ctx, parts[i].p, parts[i].len);
	ok = ok && EVP_MAC_final(ctx, out, &len, SHA256_LEN) && len == SHA256_LEN;
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	return ok ? 0 : -1;
}

int aes128_ctr(const struct secret_buf *key, const uint8_t iv[16], const uint8_t *in,
	       size_t len, uint8_t *out)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int n = 0, tail = 0, ok;

	ok = ctx && key->len == 16 &&
	     EVP_EncryptInit_ex(ctx, EVP_aes_128_ctr(), NULL, key->data, iv) &&
	     EVP_EncryptUpdate(ctx, out, &n, in, (int)len) &&
	     EVP_EncryptFinal_ex(ctx, out + n, &tail) && (size_t)(n + tail) == len;
	EVP_CIPHER_CTX_free(ctx);
	return ok ? 0 : -1;
}
