// SPDX-License-Identifier: LGPL-2.1-or-later
/* libFuzzer: a LUKS1 or LUKS2 header the host wrote, byte for byte. */
#include "fuzz.h"
#include "fuzz-header-common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[32];
	int fd = fuzz_file(data, size, path);

	if (fd < 0)
		return 0;
	fuzz_judge_header(path);
	close(fd);
	return 0;
}
