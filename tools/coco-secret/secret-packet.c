// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The LAUNCH_SECRET packet (SEV API, LAUNCH_SECRET; sevctl's layout):
 *   payload = AES-128-CTR(TEK, IV, table)
 *   MAC     = HMAC-SHA256(TIK, 0x01 || FLAGS || IV || u32 guest length ||
 *                         u32 transport length || payload || MEASURE)
 *   header  = FLAGS (u32, 0) || IV || MAC
 * MEASURE binds the packet to the one launch the owner verified: the PSP
 * refuses it for any other, and only that guest's memory receives it.
 */
#include <stdlib.h>
#include <string.h>

#include "sev.h"

#define SECRET_CONTEXT 0x01

static void le32_put(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static int packet_mac(const struct secret_buf *tik, const uint8_t iv[SECRET_IV_SIZE],
		      const uint8_t measure[MEASURE_SIZE], const struct secret_packet *pkt,
		      uint8_t out[SHA256_LEN])
{
	uint8_t head[1 + 4], lengths[8];
	const struct byte_span parts[] = {
		{ head, sizeof(head) }, { iv, SECRET_IV_SIZE }, { lengths, sizeof(lengths) },
		{ pkt->payload, pkt->payload_len }, { measure, MEASURE_SIZE },
	};

	head[0] = SECRET_CONTEXT;
	le32_put(head + 1, 0);		/* FLAGS: no compression */
	le32_put(lengths, (uint32_t)pkt->payload_len);	/* guest length */
	le32_put(lengths + 4, (uint32_t)pkt->payload_len);	/* transport length */
	return sev_hmac_sha256(tik, parts, sizeof(parts) / sizeof(parts[0]), out);
}

int secret_packet_build(const struct secret_buf *tik, const struct secret_buf *tek,
			const uint8_t iv[SECRET_IV_SIZE], const uint8_t measure[MEASURE_SIZE],
			const uint8_t *table, size_t table_len, struct secret_packet *pkt)
{
	memset(pkt, 0, sizeof(*pkt));
	pkt->payload = malloc(table_len ? table_len : 1);
	if (pkt->payload == NULL)
		return -1;
	pkt->payload_len = table_len;
	le32_put(pkt->header, 0);
	memcpy(pkt->header + 4, iv, SECRET_IV_SIZE);
	if (aes128_ctr(tek, iv, table, table_len, pkt->payload) < 0 ||
	    packet_mac(tik, iv, measure, pkt, pkt->header + 4 + SECRET_IV_SIZE) < 0) {
		secret_packet_free(pkt);
		return -1;
	}
	return 0;
}

void secret_packet_free(struct secret_packet *pkt)
{
	free(pkt->payload);
	pkt->payload = NULL;
	pkt->payload_len = 0;
}
