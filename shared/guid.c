// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * GUID text parsing and the EFI mixed-endian byte layout.
 */
#include <stddef.h>
#include <string.h>

#include "guid.h"
#include "hex.h"

static bool is_dash_position(size_t i)
{
	return i == 8 || i == 13 || i == 18 || i == 23;
}

bool guid_parse_n(const char *text, size_t len, struct guid *out)
{
	struct guid g;
	size_t i;

	if (text == NULL || len != GUID_STRING_LEN)
		return false;

	for (i = 0; i < GUID_STRING_LEN; i++) {
		char c = text[i];

		if (is_dash_position(i)) {
			if (c != '-')
				return false;
			g.str[i] = c;
			continue;
		}
		if (hex_digit(c) < 0)
			return false;
		/* efi_secret names files with lowercase hex (%pUl). */
		g.str[i] = (c >= 'A' && c <= 'F') ? (char)(c - 'A' + 'a') : c;
	}
	g.str[GUID_STRING_LEN] = '\0';
	if (out != NULL)
		*out = g;
	return true;
}

bool guid_parse(const char *text, struct guid *out)
{
	if (text == NULL)
		return false;
	return guid_parse_n(text, strnlen(text, GUID_STRING_LEN + 1), out);
}

bool guid_equal(const struct guid *a, const struct guid *b)
{
	return memcmp(a->str, b->str, GUID_STRING_LEN) == 0;
}

bool guid_is_zero(const struct guid *g)
{
	return strcmp(g->str, "00000000-0000-0000-0000-000000000000") == 0;
}

/* Text is 32 hex digits in order; returns the raw 16 bytes as written. */
static void text_to_raw(const struct guid *g, uint8_t raw[16])
{
	size_t i, n = 0;

	for (i = 0; i < GUID_STRING_LEN; i += 2) {
		if (is_dash_position(i))
			i++;
		raw[n++] = (uint8_t)(hex_digit(g->str[i]) << 4 | hex_digit(g->str[i + 1]));
	}
}

/* The first three fields (4, 2 and 2 bytes) are stored little-endian. */
static void swap_mixed_endian(const uint8_t in[16], uint8_t out[16])
{
	static const uint8_t order[16] = {
		3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15
	};
	size_t i;

	for (i = 0; i < 16; i++)
		out[i] = in[order[i]];
}

void guid_to_efi_bytes(const struct guid *g, uint8_t out[16])
{
	uint8_t raw[16];

	text_to_raw(g, raw);
	swap_mixed_endian(raw, out);
}

void guid_from_efi_bytes(const uint8_t in[16], struct guid *out)
{
	static const char digits[] = "0123456789abcdef";
	uint8_t raw[16];
	size_t i, n = 0;

	swap_mixed_endian(in, raw);
	for (i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out->str[n++] = '-';
		out->str[n++] = digits[raw[i] >> 4];
		out->str[n++] = digits[raw[i] & 0xf];
	}
	out->str[n] = '\0';
}
