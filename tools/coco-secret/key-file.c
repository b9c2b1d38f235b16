// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The transport keys (TIK, TEK) the owner made for the session: read
 * into locked memory (secret-file.c) and checked for their exact size,
 * so a key file of the wrong kind is named rather than used.
 */
#include "coco-secret.h"
#include "sev.h"

int key_file_read(const char *what, const char *path, size_t size, struct secret_buf *key)
{
	if (secret_read_file(path, size, key) < 0)
		return -1;
	if (key->len != size) {
		err("%s %s: %zu bytes%s, a %s is %zu", what, path, key->len,
		    key->len > size ? " or more" : "", what, size);
		secret_buf_free(key);
		return -1;
	}
	return 0;
}
