// SPDX-License-Identifier: LGPL-2.1-or-later
/* libFuzzer: the kernel command line parser and the configuration merge. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coco-unlock.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct config cfg;
	char *text = fuzz_string(data, size);

	if (text == NULL)
		return 0;
	config_init(&cfg);
	if (config_parse_cmdline(&cfg, text) == 0)
		config_finish(&cfg);
	free(text);
	return 0;
}
