// SPDX-License-Identifier: LGPL-2.1-or-later
/* Escaping host-controlled text for messages (escape.h). */
#include <stdbool.h>

#include "escape.h"

static bool printable(unsigned char c, bool backslash)
{
	return c >= 0x20 && c < 0x7f && (c != '\\' || !backslash);
}

static void escape(const char *in, char *out, size_t out_size, bool backslash)
{
	static const char digits[] = "0123456789abcdef";
	size_t n = 0;

	if (out_size == 0)
		return;
	for (; *in != '\0'; in++) {
		unsigned char c = (unsigned char)*in;

		if (printable(c, backslash)) {
			if (n + 1 >= out_size)
				break;
			out[n++] = (char)c;
			continue;
		}
		if (n + 4 >= out_size)
			break;
		out[n++] = '\\';
		out[n++] = 'x';
		out[n++] = digits[c >> 4];
		out[n++] = digits[c & 15];
	}
	out[n] = '\0';
}

void escape_untrusted(const char *in, char *out, size_t out_size)
{
	escape(in, out, out_size, true);
}

void escape_nonprintable(const char *in, char *out, size_t out_size)
{
	escape(in, out, out_size, false);
}
