// SPDX-License-Identifier: LGPL-2.1-or-later
/* GUID text parsing and the EFI mixed-endian byte order. */
#include <string.h>

#include "guid.h"
#include "tap.h"

static void test_parse(void)
{
	struct guid g;

	tap_check(guid_parse("736869e5-84f0-4973-92ec-06879ce3da0b", &g), "lowercase GUID parses");
	tap_str_eq(g.str, "736869e5-84f0-4973-92ec-06879ce3da0b", "text kept");
	tap_check(guid_parse("736869E5-84F0-4973-92EC-06879CE3DA0B", &g), "uppercase GUID parses");
	tap_str_eq(g.str, "736869e5-84f0-4973-92ec-06879ce3da0b", "uppercase folded to lowercase");
	tap_check(!guid_parse("736869e5-84f0-4973-92ec-06879ce3da0", NULL), "35 characters refused");
	tap_check(!guid_parse("736869e5-84f0-4973-92ec-06879ce3da0bb", NULL), "37 characters refused");
	tap_check(!guid_parse("736869e5x84f0-4973-92ec-06879ce3da0b", NULL), "bad separator refused");
	tap_check(!guid_parse("736869e5-84f0-4973-92ec-06879ce3da0g", NULL), "non-hex digit refused");
	tap_check(!guid_parse("736869e5-84f0-4973-92ec06879ce3da0b-", NULL), "misplaced dash refused");
	tap_check(!guid_parse("", NULL), "empty refused");
	tap_check(!guid_parse(NULL, NULL), "NULL refused");
	tap_check(guid_parse_n("736869e5-84f0-4973-92ec-06879ce3da0b:rest", 36, &g),
		  "guid_parse_n takes a prefix");
	tap_check(guid_parse("00000000-0000-0000-0000-000000000000", &g) && guid_is_zero(&g),
		  "all-zero GUID recognised");
}

static void test_efi_bytes(void)
{
	/* The table header GUID as efi_secret.c spells it in EFI_GUID(). */
	static const uint8_t want[16] = {
		0x42, 0xf5, 0x74, 0x1e, 0xdd, 0x71, 0x66, 0x4d,
		0x96, 0x3e, 0xef, 0x42, 0x87, 0xff, 0x17, 0x3b,
	};
	uint8_t bytes[16];
	struct guid g, back;

	guid_parse(GUID_SECRET_TABLE_HEADER, &g);
	guid_to_efi_bytes(&g, bytes);
	tap_check(memcmp(bytes, want, 16) == 0, "header GUID in EFI byte order");
	guid_from_efi_bytes(bytes, &back);
	tap_str_eq(back.str, GUID_SECRET_TABLE_HEADER, "EFI bytes back to text");
}

int main(void)
{
	test_parse();
	test_efi_bytes();
	return tap_done();
}
