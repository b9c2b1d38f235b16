/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Reading LUKS2 JSON metadata as the host may have written it: members of
 * the wrong type, numbers as strings or not, out of range. Each accessor
 * says false instead of guessing.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct json_object;

/* The member @key of object @obj, of JSON type object, array or string. */
struct json_object *luks2_object(struct json_object *obj, const char *key);
struct json_object *luks2_array(struct json_object *obj, const char *key);
const char *luks2_string(struct json_object *obj, const char *key);
/*
 * A non-negative integer member, written as LUKS2 writes them: a decimal
 * string ("16777216") for offsets and sizes, a JSON number for counts.
 * Leading zeros, signs and values above @max are refused.
 */
bool luks2_u64(struct json_object *obj, const char *key, uint64_t max, uint64_t *out);
/* The keyslot (or token, digest, segment) object numbered @id, or NULL. */
struct json_object *luks2_numbered(struct json_object *json, const char *section, int id);
/* true when array @arr holds the string form of @id ("0", "1", ...). */
bool luks2_array_has_id(struct json_object *arr, int id);
