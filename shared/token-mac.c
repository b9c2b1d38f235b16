// SPDX-License-Identifier: LGPL-2.1-or-later
/* The MAC in a coco token (token-mac.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "luks2-json.h"
#include "token-mac.h"

#define MAC_KEY_LABEL "coco-efi-secret token mac v1"

/* The members of each object the MAC covers, in order. */
static const char *const segment_fields[] = {
	"type", "offset", "size", "iv_tweak", "encryption", "sector_size", NULL,
};
static const char *const keyslot_fields[] = { "type", "key_size", NULL };
static const char *const area_fields[] = { "type", "offset", "size", "encryption", "key_size", NULL };
static const char *const af_fields[] = { "type", "stripes", "hash", NULL };
static const char *const kdf_fields[] = {
	"type", "hash", "iterations", "time", "memory", "cpus", "salt", NULL,
};
static const char *const digest_fields[] = { "type", "hash", "iterations", "salt", "digest", NULL };

static void put(struct hmac_sha256 *h, const char *text)
{
	hmac_sha256_update(h, text, strlen(text));
}

/* "prefix.name=value\n" for each field; see token-mac.h for the forms. */
static void put_fields(struct hmac_sha256 *h, const char *prefix, struct json_object *obj,
		       const char *const *fields)
{
	char num[32];

	for (; *fields != NULL; fields++) {
		struct json_object *m = NULL;

		put(h, prefix);
		put(h, *fields);
		put(h, "=");
		if (obj == NULL || !json_object_object_get_ex(obj, *fields, &m)) {
			put(h, "-");
		} else if (json_object_is_type(m, json_type_string)) {
			put(h, "s:");
			put(h, json_object_get_string(m));
		} else if (json_object_is_type(m, json_type_int)) {
			snprintf(num, sizeof(num), "n:%" PRId64, json_object_get_int64(m));
			put(h, num);
		} else {
			put(h, "?");
		}
		put(h, "\n");
	}
}

/* The digest that covers @keyslot, or NULL. */
static struct json_object *digest_of(struct json_object *json, int keyslot)
{
	struct json_object *digests = luks2_object(json, "digests");

	if (digests == NULL)
		return NULL;
	json_object_object_foreach(digests, key, d) {
		(void)key;
		if (luks2_array_has_id(luks2_array(d, "keyslots"), keyslot))
			return d;
	}
	return NULL;
}

int token_mac_compute(const struct luks_header *h, const struct coco_token *token,
		      const uint8_t *secret, size_t secret_len, char out[TOKEN_MAC_HEX_LEN + 1])
{
	uint8_t key[SHA256_DIGEST_SIZE], mac[SHA256_DIGEST_SIZE];
	struct json_object *ks;
	struct hmac_sha256 st;
	char line[96];
	int slot;

	if (h->version != 2 || token->n_keyslots == 0)
		return -EINVAL;
	slot = token->keyslots[0];
	ks = luks2_numbered(h->json, "keyslots", slot);
	hmac_sha256(secret, secret_len, MAC_KEY_LABEL, strlen(MAC_KEY_LABEL), key);
	hmac_sha256_init(&st, key, sizeof(key));
	explicit_bzero(key, sizeof(key));

	put(&st, MAC_KEY_LABEL "\n");
	snprintf(line, sizeof(line), "guid=%s\nkeyslot=%d\nuuid=%s\n", token->guid.str, slot, h->uuid);
	put(&st, line);
	put_fields(&st, "segment.", luks2_numbered(h->json, "segments", 0), segment_fields);
	put_fields(&st, "keyslot.", ks, keyslot_fields);
	put_fields(&st, "keyslot.area.", luks2_object(ks, "area"), area_fields);
	put_fields(&st, "keyslot.af.", luks2_object(ks, "af"), af_fields);
	put_fields(&st, "keyslot.kdf.", luks2_object(ks, "kdf"), kdf_fields);
	put_fields(&st, "digest.", digest_of(h->json, slot), digest_fields);
	hmac_sha256_final(&st, mac);
	hex_encode(mac, sizeof(mac), out);
	explicit_bzero(mac, sizeof(mac));
	return 0;
}

int token_mac_verify(const struct luks_header *h, const struct coco_token *token,
		     const uint8_t *secret, size_t secret_len)
{
	char mac[TOKEN_MAC_HEX_LEN + 1];
	int r;

	/* The MAC covers one keyslot: a token naming more (the host may add
	 * one) cannot vouch for the others. */
	if (token->mac[0] == '\0' || token->n_keyslots != 1)
		return -EBADMSG;
	r = token_mac_compute(h, token, secret, secret_len, mac);
	if (r < 0)
		return r;
	return memcmp_constant_time(mac, token->mac, TOKEN_MAC_HEX_LEN) == 0 ? 0 : -EBADMSG;
}
