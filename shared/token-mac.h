/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Binding a LUKS2 header to the secret that opens it, beyond what any
 * peer does. The coco token may carry a MAC over the header's
 * security-relevant metadata, keyed by a key derived from the secret:
 *
 *   key = HMAC-SHA256(secret, "coco-efi-secret token mac v1")
 *   mac = HMAC-SHA256(key, the canonical text below)
 *
 * The text lists, one "name=value" line each, in a fixed order: the
 * token's GUID and keyslot, the LUKS UUID, segment 0 (type, offset, size,
 * iv_tweak, encryption, sector_size), the keyslot (type, key_size, area,
 * AF and KDF parameters with their salt) and the digest that covers it
 * (type, hash, iterations, salt, digest). Values are written as the
 * JSON holds them, strings as "s:TEXT", numbers as "n:DIGITS", a missing
 * member as "-". Only someone holding the secret can make a MAC that
 * matches, so a header the host built, or changed in any of these
 * fields, is refused before the secret meets its KDF.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "luks-header.h"
#include "sha256.h"
#include "token.h"

/* The MAC for @token's first keyslot, as 64 lowercase hex digits. */
int token_mac_compute(const struct luks_header *h, const struct coco_token *token,
		      const uint8_t *secret, size_t secret_len, char out[TOKEN_MAC_HEX_LEN + 1]);

/*
 * 0 when @token's MAC matches @secret and the header; -EBADMSG if not, or
 * when the token names more than one keyslot (the MAC covers one).
 */
int token_mac_verify(const struct luks_header *h, const struct coco_token *token,
		     const uint8_t *secret, size_t secret_len);
