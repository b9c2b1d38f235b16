// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Parsing and finding coco-efi-secret tokens (token.h). Like systemd's
 * tokens one normally names one keyslot; more are accepted.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <libcryptsetup.h>

#include "luks2-json.h"
#include "missing.h"
#include "token.h"

static bool parse_keyslot(const char *text, int *out)
{
	char *end;
	long n;

	if (text == NULL || text[0] < '0' || text[0] > '9' || strlen(text) > 2)
		return false;
	n = strtol(text, &end, 10);
	if (*end != '\0' || n >= LUKS_MAX_KEYSLOTS)
		return false;
	*out = (int)n;
	return true;
}

static int parse_keyslots(struct json_object *array, struct coco_token *token)
{
	size_t i, n;

	if (array == NULL || !json_object_is_type(array, json_type_array))
		return -EINVAL;
	n = json_object_array_length(array);
	if (n == 0 || n > MAX_TOKEN_KEYSLOTS)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		struct json_object *slot = json_object_array_get_idx(array, i);

		if (!json_object_is_type(slot, json_type_string) ||
		    !parse_keyslot(json_object_get_string(slot), &token->keyslots[i]))
			return -EINVAL;
	}
	token->n_keyslots = n;
	return 0;
}

static const char *member_string(struct json_object *obj, const char *key)
{
	struct json_object *m;

	if (!json_object_object_get_ex(obj, key, &m) || !json_object_is_type(m, json_type_string))
		return NULL;
	return json_object_get_string(m);
}

/* "mac": absent, or exactly 64 hex digits (kept lowercase). */
static bool parse_mac(struct json_object *root, char out[TOKEN_MAC_HEX_LEN + 1])
{
	struct json_object *m;
	const char *text;
	size_t i;

	out[0] = '\0';
	if (!json_object_object_get_ex(root, "mac", &m))
		return true;
	text = json_object_is_type(m, json_type_string) ? json_object_get_string(m) : NULL;
	if (text == NULL || strlen(text) != TOKEN_MAC_HEX_LEN)
		return false;
	for (i = 0; i < TOKEN_MAC_HEX_LEN; i++) {
		char c = text[i];

		if (c >= 'A' && c <= 'F')
			c = (char)(c - 'A' + 'a');
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return false;
		out[i] = c;
	}
	out[TOKEN_MAC_HEX_LEN] = '\0';
	return true;
}

static int parse_object(struct json_object *root, struct coco_token *token)
{
	struct json_object *slots = NULL;
	const char *type;
	int r = -EINVAL;

	memset(token, 0, sizeof(*token));
	token->token_id = -1;
	token->malformed = true;
	if (root == NULL || !json_object_is_type(root, json_type_object))
		goto out;
	type = member_string(root, "type");
	if (type == NULL)
		goto out;
	if (strcmp(type, COCO_TOKEN_TYPE) != 0) {
		r = -ENOMSG;
		goto out;
	}
	json_object_object_get_ex(root, "keyslots", &slots);
	if (parse_keyslots(slots, token) < 0)
		token->n_keyslots = 0;
	if (!guid_parse(member_string(root, "guid"), &token->guid))
		memset(&token->guid, 0, sizeof(token->guid));
	else if (!guid_is_zero(&token->guid) && token->n_keyslots > 0 && parse_mac(root, token->mac))
		r = 0;
out:
	token->malformed = r != 0;
	return r;
}

int coco_token_parse(const char *json, struct coco_token *token)
{
	struct json_object *root = json_tokener_parse(json);
	int r = parse_object(root, token);

	json_object_put(root);
	return r;
}

int coco_tokens_read(struct crypt_device *cd, struct coco_token *tokens, size_t max)
{
	const char *cd_type = crypt_get_type(cd);
	int id, max_id = crypt_token_max(CRYPT_LUKS2);
	size_t n = 0;

	if (cd_type == NULL || strcmp(cd_type, CRYPT_LUKS2) != 0)
		return 0;
	for (id = 0; id < max_id && n < max; id++) {
		const char *type = NULL, *json = NULL;
		crypt_token_info info = crypt_token_status(cd, id, &type);

		if (info == CRYPT_TOKEN_INVALID || info == CRYPT_TOKEN_INACTIVE)
			continue;
		if (type == NULL || strcmp(type, COCO_TOKEN_TYPE) != 0)
			continue;
		if (crypt_token_json_get(cd, id, &json) < 0)
			continue;
		/* Without a GUID nobody can say which secret it was for. */
		if (coco_token_parse(json, &tokens[n]) < 0 && tokens[n].guid.str[0] == '\0')
			continue;
		tokens[n++].token_id = id;
	}
	return (int)n;
}

/* LUKS2 has 32 token slots. */
#define LUKS2_MAX_TOKENS 32

int coco_tokens_from_json(struct json_object *luks2, struct coco_token *tokens, size_t max)
{
	size_t n = 0;
	int id;

	for (id = 0; id < LUKS2_MAX_TOKENS && n < max; id++) {
		struct json_object *t = luks2_numbered(luks2, "tokens", id);
		const char *type = luks2_string(t, "type");

		if (type == NULL || strcmp(type, COCO_TOKEN_TYPE) != 0)
			continue;
		if (parse_object(t, &tokens[n]) < 0 && tokens[n].guid.str[0] == '\0')
			continue;
		tokens[n++].token_id = id;
	}
	return (int)n;
}
