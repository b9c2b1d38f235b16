// SPDX-License-Identifier: LGPL-2.1-or-later
/* libFuzzer: the coco-efi-secret token parser, on JSON the host wrote. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "token.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct coco_token t;
	char *json = malloc(size + 1);

	if (json == NULL)
		return 0;
	memcpy(json, data, size);
	json[size] = '\0';
	coco_token_parse(json, &t);
	free(json);
	return 0;
}
