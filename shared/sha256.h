/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104), for the checksums of
 * LUKS2 header copies, the MAC in a coco token and the volume key id
 * systemd's fixate-volume-key= compares. Our own, small and without
 * dependencies: the static agent's libcryptsetup has only the kernel
 * crypto backend, and these run before libcryptsetup sees anything.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define SHA256_DIGEST_SIZE 32
#define SHA256_BLOCK_SIZE 64

struct sha256 {
	uint32_t h[8];
	uint64_t length;	/* bytes hashed so far */
	uint8_t block[SHA256_BLOCK_SIZE];
	size_t used;		/* bytes in block */
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *data, size_t len);
void sha256_final(struct sha256 *s, uint8_t out[SHA256_DIGEST_SIZE]);
void sha256(const void *data, size_t len, uint8_t out[SHA256_DIGEST_SIZE]);

struct hmac_sha256 {
	struct sha256 inner, outer;
};

void hmac_sha256_init(struct hmac_sha256 *h, const void *key, size_t key_len);
void hmac_sha256_update(struct hmac_sha256 *h, const void *data, size_t len);
/* Also wipes the state, which holds key material. */
void hmac_sha256_final(struct hmac_sha256 *h, uint8_t out[SHA256_DIGEST_SIZE]);
void hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
		 uint8_t out[SHA256_DIGEST_SIZE]);

/* Lowercase hex of @len bytes into @out (2 * @len + 1 bytes). */
void hex_encode(const uint8_t *data, size_t len, char *out);
/* Constant-time comparison: 0 when equal. */
int memcmp_constant_time(const void *a, const void *b, size_t len);
