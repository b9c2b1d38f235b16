// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The host's answer to query-sev-launch-measure: base64 of MEASURE ||
 * MNONCE (48 bytes), where the PSP computed
 *   MEASURE = HMAC-SHA256(TIK, 0x04 || API major || API minor || build ||
 *                         policy (u32 LE) || launch digest || MNONCE)
 * (SEV API, LAUNCH_MEASURE). Only the PSP and the owner hold the TIK,
 * so a MEASURE that matches the owner's own digest proves the launch.
 */
#include <string.h>

#include <openssl/crypto.h>

#include "sev.h"

#define MEASURE_CONTEXT 0x04

bool launch_blob_parse(const char *b64, struct launch_blob *blob)
{
	uint8_t raw[LAUNCH_BLOB_SIZE + 3];

	if (strlen(b64) != BASE64_LEN(LAUNCH_BLOB_SIZE) ||
	    base64_decode(b64, raw, sizeof(raw)) != LAUNCH_BLOB_SIZE)
		return false;
	memcpy(blob->measure, raw, MEASURE_SIZE);
	memcpy(blob->mnonce, raw + MEASURE_SIZE, MNONCE_SIZE);
	return true;
}

int launch_measure_mac(const struct secret_buf *tik, const struct platform_info *pi,
		       const uint8_t digest[SHA256_LEN], const uint8_t mnonce[MNONCE_SIZE],
		       uint8_t out[MEASURE_SIZE])
{
	uint8_t head[8] = {
		MEASURE_CONTEXT, pi->api_major, pi->api_minor, pi->build_id,
		(uint8_t)pi->policy, (uint8_t)(pi->policy >> 8), (uint8_t)(pi->policy >> 16),
		(uint8_t)(pi->policy >> 24),
	};
	const struct byte_span parts[] = {
		{ head, sizeof(head) }, { digest, SHA256_LEN }, { mnonce, MNONCE_SIZE },
	};

	return sev_hmac_sha256(tik, parts, 3, out);
}

/* Constant time: a host probing byte by byte learns nothing from timing. */
int launch_blob_matches(const struct launch_blob *blob, const struct secret_buf *tik,
			const struct platform_info *pi, const uint8_t digest[SHA256_LEN])
{
	uint8_t mac[MEASURE_SIZE];

	if (launch_measure_mac(tik, pi, digest, blob->mnonce, mac) < 0)
		return -1;
	return CRYPTO_memcmp(mac, blob->measure, MEASURE_SIZE) == 0;
}
