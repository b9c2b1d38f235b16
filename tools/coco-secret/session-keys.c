// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The launch session's keys (SEV API, LAUNCH_START): from the ECDH
 * secret Z between the owner's GODH and the platform's PDH,
 *   master = KDF(Z, "sev-master-secret", nonce)
 *   KEK = KDF(master, "sev-kek"), KIK = KDF(master, "sev-kik")
 * with NIST SP 800-108's counter-mode KDF over HMAC-SHA256, as the PSP
 * computes it: HMAC(key, i || label || 0x00 || context || bits), i and
 * bits as u32 *little*-endian (so OpenSSL's KBKDF, big-endian, does not
 * fit: it is built from HMAC calls here). TEK || TIK travel wrapped:
 * AES-128-CTR under the KEK, MAC'd with the KIK; the policy is MAC'd with
 * the TIK. The blob is nonce || wrap_tk || wrap_iv || wrap_mac ||
 * policy_mac (128 bytes), what sevctl writes as NAME_session.b64.
 */
#include <string.h>

#include "sev.h"

#define KDF_KEY_SIZE 16

static void le32_put(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* 16 bytes, one HMAC block: the counter never passes 1. */
int sev_kdf(const struct secret_buf *key, const char *label, const uint8_t *ctx, size_t ctx_len,
	    struct secret_buf *out)
{
	uint8_t counter[4], bits[4], block[SHA256_LEN];
	static const uint8_t zero;
	const struct byte_span parts[] = {
		{ counter, 4 }, { (const uint8_t *)label, strlen(label) }, { &zero, 1 },
		{ ctx, ctx_len }, { bits, 4 },
	};
	int r;

	le32_put(counter, 1);
	le32_put(bits, KDF_KEY_SIZE * 8);
	r = sev_hmac_sha256(key, parts, sizeof(parts) / sizeof(parts[0]), block);
	if (r == 0) {
		memcpy(out->data, block, KDF_KEY_SIZE);
		out->len = KDF_KEY_SIZE;
	}
	explicit_bzero(block, sizeof(block));
	return r;
}

static int derive_kek_kik(const struct secret_buf *z, const uint8_t nonce[16],
			  struct secret_buf *kek, struct secret_buf *kik)
{
	struct secret_buf master = { 0 };
	int r;

	r = secret_buf_alloc(&master, KDF_KEY_SIZE);
	if (r == 0)
		r = sev_kdf(z, "sev-master-secret", nonce, 16, &master);
	if (r == 0)
		r = sev_kdf(&master, "sev-kek", NULL, 0, kek);
	if (r == 0)
		r = sev_kdf(&master, "sev-kik", NULL, 0, kik);
	secret_buf_free(&master);
	return r;
}

int session_blob_build(const struct secret_buf *z, const struct secret_buf *tek,
		       const struct secret_buf *tik, uint32_t policy, const uint8_t nonce[16],
		       const uint8_t wrap_iv[16], uint8_t blob[SESSION_BLOB_SIZE])
{
	struct secret_buf kek = { 0 }, kik = { 0 }, keys = { 0 };
	uint8_t pol[4], *p = blob;
	struct byte_span part;
	int r;

	r = secret_buf_alloc(&kek, KDF_KEY_SIZE);
	if (r == 0)
		r = secret_buf_alloc(&kik, KDF_KEY_SIZE);
	if (r == 0)
		r = secret_buf_alloc(&keys, TEK_SIZE + TIK_SIZE);
	if (r == 0)
		r = derive_kek_kik(z, nonce, &kek, &kik);
	if (r == 0) {
		memcpy(keys.data, tek->data, TEK_SIZE);
		memcpy(keys.data + TEK_SIZE, tik->data, TIK_SIZE);
		memcpy(p, nonce, 16);
		r = aes128_ctr(&kek, wrap_iv, keys.data, TEK_SIZE + TIK_SIZE, p + 16);
	}
	if (r == 0) {
		memcpy(p + 48, wrap_iv, 16);
		part = (struct byte_span){ p + 16, TEK_SIZE + TIK_SIZE };
		r = sev_hmac_sha256(&kik, &part, 1, p + 64);
	}
	if (r == 0) {
		le32_put(pol, policy);
		part = (struct byte_span){ pol, 4 };
		r = sev_hmac_sha256(tik, &part, 1, p + 96);
	}
	secret_buf_free(&kek);
	secret_buf_free(&kik);
	secret_buf_free(&keys);
	return r ? -1 : 0;
}
