/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * EFI GUIDs as text and as the mixed-endian bytes EFI tables carry.
 * Shared by coco-unlock and coco-secret.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GUID_STRING_LEN 36

/* Lowercase canonical text form, as efi_secret names its files. */
struct guid {
	char str[GUID_STRING_LEN + 1];
};

/* The header GUID of a secret table (efi_secret's EFI_SECRET_TABLE_HEADER_GUID). */
#define GUID_SECRET_TABLE_HEADER "1e74f542-71dd-4d66-963e-ef4287ff173b"
/* The EFI configuration table that points at the secret area. */
#define GUID_COCO_SECRET_AREA "adf956ad-e98c-484c-ae11-b51c7d336447"
/* The conventional disk-passphrase secret (OVMF/GRUB efisecret, libvirt, sevctl). */
#define GUID_DISK_PASSPHRASE "736869e5-84f0-4973-92ec-06879ce3da0b"

/*
 * Parse exactly 36 characters of 8-4-4-4-12 hex (either case) at @text,
 * which must be NUL-terminated right after them. Returns false on any
 * other shape.
 */
bool guid_parse(const char *text, struct guid *out);

/* Like guid_parse() but for the first @len bytes of @text. */
bool guid_parse_n(const char *text, size_t len, struct guid *out);

bool guid_equal(const struct guid *a, const struct guid *b);
bool guid_is_zero(const struct guid *g);

/* EFI byte order: first three fields little-endian, the rest as written. */
void guid_to_efi_bytes(const struct guid *g, uint8_t out[16]);
void guid_from_efi_bytes(const uint8_t in[16], struct guid *out);
