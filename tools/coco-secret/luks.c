// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The LUKS side shared by enroll, list and remove: loading a header from
 * a block device or an image file, and counting keyslots. The tokens
 * themselves are shared/token.c's, shared with coco-unlock and the
 * token plugin.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
