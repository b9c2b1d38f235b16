/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Hex digits, as GUIDs, MACs, pins and the owner's tools write them. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* The value of hex digit @c (either case), or -1. */
int hex_digit(char c);

/* Lowercase hex of @len bytes into @out (2 * @len + 1 bytes). */
void hex_encode(const uint8_t *data, size_t len, char *out);
