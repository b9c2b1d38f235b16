/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The LUKS2 token that ties a keyslot to a secret, shared by coco-unlock
 * (which follows it) and coco-secret (which writes, lists and removes it):
 *   {"type": "coco-efi-secret", "keyslots": ["N"], "guid": "GUID",
 *    "mac": "64 hex digits"}
 * "mac" is optional: a MAC of the header's security-relevant metadata,
 * keyed by the secret (token-mac.h). No logging here: each program says
 * in its own words what it skips.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "guid.h"

#define COCO_TOKEN_TYPE "coco-efi-secret"
#define MAX_TOKEN_KEYSLOTS 8
#define TOKEN_MAC_HEX_LEN 64

struct coco_token {
	int token_id;
	struct guid guid;
	/* 0 when the keyslots member is missing or malformed. */
	size_t n_keyslots;
	int keyslots[MAX_TOKEN_KEYSLOTS];
	/* The "mac" member, lowercase hex; "" when the token has none. */
	char mac[TOKEN_MAC_HEX_LEN + 1];
	/* Something is wrong with it: coco-unlock must not follow it, but
	 * coco-secret still lists and removes it. */
	bool malformed;
};

/*
 * 0 for a valid coco token, -ENOMSG for another type, -EINVAL if malformed;
 * with -EINVAL, whatever was valid (guid, keyslots) is filled in.
 */
int coco_token_parse(const char *json, struct coco_token *token);

struct crypt_device;
struct json_object;
/*
 * Every coco token of a loaded LUKS2 header whose GUID is readable, the
 * malformed ones flagged; at most @max. None on LUKS1.
 */
int coco_tokens_read(struct crypt_device *cd, struct coco_token *tokens, size_t max);
/* The same, from LUKS2 metadata we parsed ourselves (luks-header.h). */
int coco_tokens_from_json(struct json_object *luks2, struct coco_token *tokens, size_t max);
