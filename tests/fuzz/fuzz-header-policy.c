// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libFuzzer: LUKS2 metadata the host wrote, wrapped in two header copies
 * with valid checksums (as a host would make them), so the fuzzer spends
 * its time in the JSON, the policy and the MAC instead of on SHA-256; and
 * the same metadata as the token plugin judges it (luks_header_from_loaded).
 */
#include <json-c/json.h>

#include "fuzz.h"
#include "fuzz-header-common.h"
#include "sha256.h"

#define HDR_SIZE 16384
#define JSON_SIZE (HDR_SIZE - 4096)
#define IMAGE_SIZE (2 * HDR_SIZE)

static void put_be(uint8_t *p, uint64_t v, int bytes)
{
	int i;

	for (i = bytes - 1; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static void make_copy(uint8_t *copy, const char *json, const char *magic, uint64_t offset)
{
	uint8_t digest[SHA256_DIGEST_SIZE];

	memset(copy, 0, HDR_SIZE);
	memcpy(copy, magic, 6);
	put_be(copy + 6, 2, 2);
	put_be(copy + 8, HDR_SIZE, 8);
	put_be(copy + 16, 1, 8);
	memcpy(copy + 72, "sha256", 6);
	memcpy(copy + 168, "0c0c0001-0000-4000-8000-000000000001", 36);
	put_be(copy + 256, offset, 8);
	strncpy((char *)copy + 4096, json, JSON_SIZE - 1);
	sha256(copy, HDR_SIZE, digest);
	memcpy(copy + 448, digest, sizeof(digest));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t image[IMAGE_SIZE];
	struct json_object *meta, *config;
	const char *json;
	char *text, path[32];
	int fd;

	text = fuzz_string(data, size);
	meta = text ? json_tokener_parse(text) : NULL;
	free(text);
	if (meta == NULL || !json_object_is_type(meta, json_type_object)) {
		json_object_put(meta);
		return 0;
	}
	/* The one member a host always gets right, so the rest is reached. */
	if (!json_object_object_get_ex(meta, "config", &config) ||
	    !json_object_is_type(config, json_type_object)) {
		config = json_object_new_object();
		json_object_object_add(meta, "config", config);
	}
	json_object_object_add(config, "json_size", json_object_new_string("12288"));
	json = json_object_to_json_string_ext(meta, JSON_C_TO_STRING_PLAIN);
	memset(image, 0, sizeof(image));
	make_copy(image, json, "LUKS\xba\xbe", 0);
	make_copy(image + HDR_SIZE, json, "SKUL\xba\xbe", HDR_SIZE);
	fuzz_judge_loaded("0c0c0001-0000-4000-8000-000000000001", HDR_SIZE, json);
	json_object_put(meta);
	fd = fuzz_file(image, sizeof(image), path);
	if (fd < 0)
		return 0;
	fuzz_judge_header(path);
	close(fd);
	return 0;
}
