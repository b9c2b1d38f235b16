/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Small helpers used across the agent. */
#pragma once

#include <stddef.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define _printf_(fmt, args) __attribute__((format(printf, fmt, args)))
#define _noreturn_ __attribute__((noreturn))
#define _unused_ __attribute__((unused))

/* Copy a NUL-terminated string; false (and @dst emptied) when it does not fit. */
static inline int copy_string(char *dst, size_t size, const char *src)
{
	size_t i;

	for (i = 0; i < size; i++) {
		dst[i] = src[i];
		if (src[i] == '\0')
			return 1;
	}
	if (size > 0)
		dst[0] = '\0';
	return 0;
}

/* Copy @len bytes of @src as a string; false when it does not fit. */
static inline int copy_string_n(char *dst, size_t size, const char *src, size_t len)
{
	size_t i;

	if (len >= size) {
		if (size > 0)
			dst[0] = '\0';
		return 0;
	}
	for (i = 0; i < len; i++)
		dst[i] = src[i];
	dst[len] = '\0';
	return 1;
}
