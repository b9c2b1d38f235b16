// SPDX-License-Identifier: LGPL-2.1-or-later
/* Strict accessors for LUKS2 JSON metadata (luks2-json.h). */
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "luks2-json.h"

static struct json_object *member(struct json_object *obj, const char *key, enum json_type type)
{
	struct json_object *m;

	if (obj == NULL || !json_object_is_type(obj, json_type_object) ||
	    !json_object_object_get_ex(obj, key, &m) || !json_object_is_type(m, type))
		return NULL;
	return m;
}

struct json_object *luks2_object(struct json_object *obj, const char *key)
{
	return member(obj, key, json_type_object);
}

struct json_object *luks2_array(struct json_object *obj, const char *key)
{
	return member(obj, key, json_type_array);
}

const char *luks2_string(struct json_object *obj, const char *key)
{
	struct json_object *m = member(obj, key, json_type_string);

	return m ? json_object_get_string(m) : NULL;
}

static bool parse_decimal(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (s == NULL || *s == '\0' || (s[0] == '0' && s[1] != '\0'))
		return false;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return false;
		if (v > (max - (uint64_t)(*s - '0')) / 10)
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return true;
}

bool luks2_u64(struct json_object *obj, const char *key, uint64_t max, uint64_t *out)
{
	struct json_object *m;
	int64_t n;

	if (obj == NULL || !json_object_is_type(obj, json_type_object) ||
	    !json_object_object_get_ex(obj, key, &m))
		return false;
	if (json_object_is_type(m, json_type_string))
		return parse_decimal(json_object_get_string(m), max, out);
	if (!json_object_is_type(m, json_type_int))
		return false;
	n = json_object_get_int64(m);
	if (n < 0 || (uint64_t)n > max)
		return false;
	*out = (uint64_t)n;
	return true;
}

struct json_object *luks2_numbered(struct json_object *json, const char *section, int id)
{
	char key[16];

	snprintf(key, sizeof(key), "%d", id);
	return luks2_object(luks2_object(json, section), key);
}

bool luks2_array_has_id(struct json_object *arr, int id)
{
	char key[16];
	size_t i, n;

	if (arr == NULL || !json_object_is_type(arr, json_type_array))
		return false;
	snprintf(key, sizeof(key), "%d", id);
	n = json_object_array_length(arr);
	for (i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(arr, i);

		if (json_object_is_type(e, json_type_string) && strcmp(json_object_get_string(e), key) == 0)
			return true;
	}
	return false;
}
