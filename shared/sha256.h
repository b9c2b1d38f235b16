/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * SHA-256 and HMAC-SHA256, for the checksums of LUKS2 header copies, the
 * MAC in a coco token and the volume key id systemd's fixate-volume-key=
 * compares: from the crypto library each build links (crypto-hash.c:
 * libcrypto, or libgcrypt in the static build). A context the library
 * cannot make yields an all-zero digest, which matches nothing.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "hex.h" /* hex_encode, for the digests' users */

#define SHA256_DIGEST_SIZE 32

/* The library's context, made by init and freed by final. */
struct sha256 {
	void *ctx;
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *data, size_t len);
void sha256_final(struct sha256 *s, uint8_t out[SHA256_DIGEST_SIZE]);
void sha256(const void *data, size_t len, uint8_t out[SHA256_DIGEST_SIZE]);

struct hmac_sha256 {
	void *ctx;
};

void hmac_sha256_init(struct hmac_sha256 *h, const void *key, size_t key_len);
void hmac_sha256_update(struct hmac_sha256 *h, const void *data, size_t len);
/* Also frees the state, which the library wipes (it holds key material). */
void hmac_sha256_final(struct hmac_sha256 *h, uint8_t out[SHA256_DIGEST_SIZE]);
void hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
		 uint8_t out[SHA256_DIGEST_SIZE]);

/* Constant-time comparison: 0 when equal. */
int memcmp_constant_time(const void *a, const void *b, size_t len);
