// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The LUKS side shared by enroll, list and remove: loading a header from
 * a block device or an image file, and finding coco-efi-secret tokens:
 *   {"type": "coco-efi-secret", "keyslots": ["N"], "guid": "GUID"}
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <libcryptsetup.h>

#include "coco-secret.h"

/* libcryptsetup's own messages only with --verbose: ours say what failed. */
static void cryptsetup_log(int level, const char *msg, void *usrptr)
{
	size_t len = strlen(msg);

	if (!verbose || level == CRYPT_LOG_DEBUG)
		return;
	while (len > 0 && msg[len - 1] == '\n')
		len--;
	fprintf(stderr, "coco-secret: cryptsetup: %.*s\n", (int)len, msg);
}

int luks_open(const char *device, struct crypt_device **cd)
{
	int r;

	crypt_set_log_callback(NULL, cryptsetup_log, NULL);
	r = crypt_init(cd, device);
	if (r < 0) {
		err("cannot open %s: %s", device, strerror(-r));
		return r;
	}
	crypt_set_log_callback(*cd, cryptsetup_log, NULL);
	r = crypt_load(*cd, CRYPT_LUKS, NULL);
	if (r < 0) {
		err("%s is not a LUKS volume (or cannot be read): %s", device, strerror(-r));
		crypt_free(*cd);
		*cd = NULL;
	}
	return r;
}

bool luks_is_luks2(struct crypt_device *cd)
{
	const char *type = crypt_get_type(cd);

	return type != NULL && strcmp(type, CRYPT_LUKS2) == 0;
}

static const char *member_string(struct json_object *o, const char *key)
{
	struct json_object *m;

	if (!json_object_object_get_ex(o, key, &m) || !json_object_is_type(m, json_type_string))
		return NULL;
	return json_object_get_string(m);
}

/* The first keyslot a token names, or -1. */
static int first_keyslot(struct json_object *o, int *count)
{
	struct json_object *slots, *s;
	const char *text;
	char *end;
	long n;

	*count = 0;
	if (!json_object_object_get_ex(o, "keyslots", &slots) ||
	    !json_object_is_type(slots, json_type_array))
		return -1;
	*count = (int)json_object_array_length(slots);
	if (*count == 0)
		return -1;
	s = json_object_array_get_idx(slots, 0);
	text = json_object_is_type(s, json_type_string) ? json_object_get_string(s) : NULL;
	if (text == NULL || *text == '\0')
		return -1;
	n = strtol(text, &end, 10);
	return (*end == '\0' && n >= 0 && n < 32) ? (int)n : -1;
}

static bool parse_token(const char *json, struct coco_token_ref *ref)
{
	struct json_object *o = json_tokener_parse(json);
	const char *type;
	bool ok = false;

	if (o == NULL)
		return false;
	type = member_string(o, "type");
	if (type != NULL && strcmp(type, COCO_TOKEN_TYPE) == 0 &&
	    guid_parse(member_string(o, "guid"), &ref->guid)) {
		ref->keyslot = first_keyslot(o, &ref->n_keyslots);
		ok = true;
	}
	json_object_put(o);
	return ok;
}

/* Every coco token of a LUKS2 header; none on LUKS1. */
int luks_coco_tokens(struct crypt_device *cd, struct coco_token_ref *refs, size_t max)
{
	int id, n = 0;

	if (!luks_is_luks2(cd))
		return 0;
	for (id = 0; id < crypt_token_max(CRYPT_LUKS2) && (size_t)n < max; id++) {
		const char *type = NULL, *json = NULL;
		crypt_token_info st = crypt_token_status(cd, id, &type);

		if (st == CRYPT_TOKEN_INACTIVE || st == CRYPT_TOKEN_INVALID)
			continue;
		if (type == NULL || strcmp(type, COCO_TOKEN_TYPE) != 0)
			continue;
		if (crypt_token_json_get(cd, id, &json) < 0 || !parse_token(json, &refs[n]))
			continue;
		refs[n++].token = id;
	}
	return n;
}

static bool keyslot_active(crypt_keyslot_info ki)
{
	return ki == CRYPT_SLOT_ACTIVE || ki == CRYPT_SLOT_ACTIVE_LAST;
}

int luks_active_keyslots(struct crypt_device *cd)
{
	int i, n = 0, max = crypt_keyslot_max(crypt_get_type(cd));

	for (i = 0; i < max; i++)
		if (keyslot_active(crypt_keyslot_status(cd, i)))
			n++;
	return n;
}
