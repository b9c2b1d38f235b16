// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Hex (encoding: shared/sha256.h) and base64 for digests, blobs and packets: the forms QMP, sevctl
 * and sev-snp-measure print. Base64 is OpenSSL's; it is strict here
 * (padding required, nothing but the alphabet), so that a mangled blob
 * is refused rather than half decoded.
 */
#include <string.h>

#include <openssl/evp.h>

#include "hex.h"
#include "sev.h"

bool hex_decode(const char *text, uint8_t *out, size_t len)
{
	size_t i;

	if (strlen(text) != 2 * len)
		return false;
	for (i = 0; i < len; i++) {
		int hi = hex_digit(text[2 * i]), lo = hex_digit(text[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return false;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

void base64_encode(const uint8_t *p, size_t len, char *out)
{
	EVP_EncodeBlock((unsigned char *)out, p, (int)len);
}

static bool is_b64_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '+' || c == '/';
}

/* EVP_DecodeBlock counts padding as zero bytes and skips white space: check first. */
int base64_decode(const char *text, uint8_t *out, size_t room)
{
	size_t len = strlen(text), i, pad = 0;
	int n;

	if (len == 0 || len % 4 || len / 4 * 3 > room)
		return -1;
	while (pad < 2 && text[len - 1 - pad] == '=')
		pad++;
	for (i = 0; i < len - pad; i++)
		if (!is_b64_char(text[i]))
			return -1;
	n = EVP_DecodeBlock(out, (const unsigned char *)text, (int)len);
	return n < 0 ? -1 : n - (int)pad;
}
