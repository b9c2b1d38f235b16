// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Output files appear whole or not at all: a failed command leaves no
 * partial table or packet behind for a later step to send.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coco-secret.h"
#include "sev.h"

/*
 * Write next to @path and rename over it, so a reader never sees half a
 * file (a table, a packet), and the file is 0600 from its first byte.
 */
int write_file_replace(const char *path, const uint8_t *p, size_t len)
{
	size_t plen = strlen(path);
	char *tmp = malloc(plen + 8);
	struct secret_buf view = { .data = (uint8_t *)p, .len = len };
	int fd, r = 0;

	if (tmp == NULL)
		return -ENOMEM;
	memcpy(tmp, path, plen);
	memcpy(tmp + plen, ".XXXXXX", 8);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		err("cannot create a file next to %s: %s", path, strerror(-r));
		free(tmp);
		return r;
	}
	close(fd);
	unlink(tmp);
	/* Reuse the careful writer; the name is fresh, so O_EXCL holds. */
	r = secret_write_new_file(tmp, &view);
	if (r == 0 && rename(tmp, path) < 0) {
		r = -errno;
		err("cannot rename %s to %s: %s", tmp, path, strerror(-r));
		unlink(tmp);
	}
	free(tmp);
	return r;
}
