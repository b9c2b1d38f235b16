// SPDX-License-Identifier: LGPL-2.1-or-later
/* systemd's volume key id, for fixate-volume-key= (volume-key-id.h). */
#include <string.h>

#include "sha256.h"
#include "volume-key-id.h"

static void put_escaped_name(struct hmac_sha256 *h, const char *name)
{
	static const char digits[] = "0123456789abcdef";

	for (; *name != '\0'; name++) {
		unsigned char c = (unsigned char)*name;
		char esc[4] = { '\\', 'x', digits[c >> 4], digits[c & 15] };

		if (c < 0x20 || c >= 0x7f || c == '\\' || c == ':')
			hmac_sha256_update(h, esc, sizeof(esc));
		else
			hmac_sha256_update(h, name, 1);
	}
}

void volume_key_id(const char *name, const char *uuid, const uint8_t *volume_key, size_t len,
		   char out[VOLUME_KEY_ID_LEN + 1])
{
	uint8_t digest[SHA256_DIGEST_SIZE];
	struct hmac_sha256 h;

	hmac_sha256_init(&h, volume_key, len);
	hmac_sha256_update(&h, "cryptsetup:", 11);
	put_escaped_name(&h, name);
	hmac_sha256_update(&h, ":", 1);
	hmac_sha256_update(&h, uuid, strlen(uuid));
	hmac_sha256_final(&h, digest);
	hex_encode(digest, sizeof(digest), out);
	explicit_bzero(digest, sizeof(digest));
}

bool volume_key_id_valid(const char *text)
{
	size_t i;

	if (text == NULL || strlen(text) != VOLUME_KEY_ID_LEN)
		return false;
	for (i = 0; i < VOLUME_KEY_ID_LEN; i++)
		if (!((text[i] >= '0' && text[i] <= '9') || (text[i] >= 'a' && text[i] <= 'f') ||
		      (text[i] >= 'A' && text[i] <= 'F')))
			return false;
	return true;
}
