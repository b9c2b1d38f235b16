// SPDX-License-Identifier: LGPL-2.1-or-later
/* The coco-efi-secret LUKS2 token JSON. */
#include <errno.h>

#include "coco-unlock.h"
#include "tap.h"

#define G1 "01234567-89ab-cdef-0123-456789abcdef"

static int parse(const char *json)
{
	struct coco_token t;

	return coco_token_parse(json, &t);
}

int main(void)
{
	struct coco_token t;

	log_setup(false, false);
	tap_check(coco_token_parse("{\"type\":\"coco-efi-secret\",\"keyslots\":[\"3\"],\"guid\":\"" G1 "\"}",
				   &t) == 0, "valid token");
	tap_check(t.n_keyslots == 1 && t.keyslots[0] == 3, "keyslot 3");
	tap_str_eq(t.guid.str, G1, "guid");
	tap_check(coco_token_parse("{\"type\":\"coco-efi-secret\",\"keyslots\":[\"1\",\"31\"],"
				   "\"guid\":\"" G1 "\",\"extra\":1}", &t) == 0 &&
		  t.n_keyslots == 2 && t.keyslots[1] == 31, "two keyslots and an extra field");
	tap_check(parse("{\"type\":\"systemd-tpm2\",\"keyslots\":[\"1\"]}") == -ENOMSG,
		  "other token type is not ours");
	tap_check(parse("{\"type\":\"coco-efi-secret\",\"keyslots\":[\"1\"]}") == -EINVAL, "missing guid");
	tap_check(parse("{\"type\":\"coco-efi-secret\",\"keyslots\":[\"1\"],\"guid\":\"nope\"}") == -EINVAL,
		  "bad guid");
	tap_check(parse("{\"type\":\"coco-efi-secret\",\"keyslots\":[\"1\"],"
			"\"guid\":\"00000000-0000-0000-0000-000000000000\"}") == -EINVAL, "zero guid");
	tap_check(parse("{\"type\":\"coco-efi-secret\",\"guid\":\"" G1 "\"}") == -EINVAL, "missing keyslots");
	tap_check(parse("{\"type\":\"coco-efi-secret\",\"keyslots\":[],\"guid\":\"" G1 "\"}") == -EINVAL,
		  "empty keyslots");
	tap_check(parse("{\"type\":\"coco-efi-secret\",\"keyslots\":[1],\"guid\":\"" G1 "\"}") == -EINVAL,
		  "keyslot as a number");
	tap_check(parse("{\"type\":\"coco-efi-secret\",\"keyslots\":[\"32\"],\"guid\":\"" G1 "\"}") == -EINVAL,
		  "keyslot 32 out of range");
	tap_check(parse("{\"type\":\"coco-efi-secret\",\"keyslots\":[\"-1\"],\"guid\":\"" G1 "\"}") == -EINVAL,
		  "negative keyslot");
	tap_check(parse("{\"type\":\"coco-efi-secret\",\"keyslots\":[\"1x\"],\"guid\":\"" G1 "\"}") == -EINVAL,
		  "keyslot with junk");
	tap_check(parse("{\"type\":\"coco-efi-secret\",\"keyslots\":\"1\",\"guid\":\"" G1 "\"}") == -EINVAL,
		  "keyslots not an array");
	tap_check(parse("{\"type\":\"coco-efi-secret\",\"keyslots\":[\"1\",\"2\",\"3\",\"4\",\"5\",\"6\","
			"\"7\",\"8\",\"9\"],\"guid\":\"" G1 "\"}") == -EINVAL, "too many keyslots");
	tap_check(parse("{\"type\":\"coco-efi-secret\",") == -EINVAL, "truncated JSON");
	tap_check(parse("[1,2]") == -EINVAL, "not an object");
	tap_check(parse("") == -EINVAL, "empty");
	tap_check(parse("{\"type\":7}") == -EINVAL, "type not a string");
	return tap_done();
}
