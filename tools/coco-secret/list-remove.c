// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * list: every keyslot, and which coco-efi-secret token (and so which
 * secret GUID) opens it. remove: a GUID's token and its keyslot, but
 * never the last keyslot, which would make the volume unopenable.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <libcryptsetup.h>

#include "coco-secret.h"

static const struct coco_token *token_for(const struct coco_token *refs, int n,
					       int keyslot)
{
	int i;

	for (i = 0; i < n; i++)
		if (token_keyslot(&refs[i]) == keyslot)
			return &refs[i];
	return NULL;
}

static void list_keyslots(struct crypt_device *cd, const struct coco_token *refs, int n)
{
	int i, max = crypt_keyslot_max(crypt_get_type(cd));

	printf("%-8s %-9s %-6s %s\n", "KEYSLOT", "PBKDF", "TOKEN", "GUID");
	for (i = 0; i < max; i++) {
		crypt_keyslot_info ki = crypt_keyslot_status(cd, i);
		struct crypt_pbkdf_type pbkdf = { 0 };
		const struct coco_token *t;

		if (ki != CRYPT_SLOT_ACTIVE && ki != CRYPT_SLOT_ACTIVE_LAST)
			continue;
		crypt_keyslot_get_pbkdf(cd, i, &pbkdf);
		t = token_for(refs, n, i);
		if (t != NULL)
			printf("%-8d %-9s %-6d %s\n", i, pbkdf.type ? pbkdf.type : "?", t->token_id,
			       t->guid.str);
		else
			printf("%-8d %-9s %-6s %s\n", i, pbkdf.type ? pbkdf.type : "?", "-", "-");
	}
}

/* Tokens left pointing at nothing, e.g. by a remove that was cut short. */
static void list_dangling(struct crypt_device *cd, const struct coco_token *refs, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		crypt_keyslot_info ki = token_keyslot(&refs[i]) < 0 ? CRYPT_SLOT_INVALID :
			crypt_keyslot_status(cd, token_keyslot(&refs[i]));

		if (ki != CRYPT_SLOT_ACTIVE && ki != CRYPT_SLOT_ACTIVE_LAST)
			printf("%-8s %-9s %-6d %s (no keyslot)\n", "-", "-", refs[i].token_id,
			       refs[i].guid.str);
	}
}

int list_device(const char *device)
{
	struct coco_token refs[MAX_COCO_TOKENS];
	struct crypt_device *cd;
	int n;

	if (luks_open(device, &cd) < 0)
		return EXIT_FAIL;
	n = coco_tokens_read(cd, refs, MAX_COCO_TOKENS);
	printf("%s: %s\n", device, crypt_get_type(cd));
	list_keyslots(cd, refs, n);
	list_dangling(cd, refs, n);
	if (!luks_is_luks2(cd))
		printf("LUKS1 has no tokens: coco keyslots cannot be told from others\n");
	crypt_free(cd);
	return EXIT_OK;
}

static const struct coco_token *find_guid(const struct coco_token *refs, int n,
					      const struct guid *guid)
{
	int i;

	for (i = 0; i < n; i++)
		if (guid_equal(&refs[i].guid, guid))
			return &refs[i];
	return NULL;
}

/*
 * The keyslot goes first: libcryptsetup drops it from the token in the
 * same header write, and a token with no keyslot is harmless (the agent
 * skips it) and is still found by GUID when remove is run again.
 */
static int remove_keyslot(struct crypt_device *cd, const char *device,
			  const struct coco_token *t)
{
	crypt_keyslot_info ki;
	int r;

	if (t->n_keyslots > 1) {
		err("token %d names %zu keyslots; not made by coco-secret, not touching it",
		    t->token_id, t->n_keyslots);
		return -EINVAL;
	}
	if (token_keyslot(t) < 0)
		return 0;
	ki = crypt_keyslot_status(cd, token_keyslot(t));
	if (ki != CRYPT_SLOT_ACTIVE && ki != CRYPT_SLOT_ACTIVE_LAST)
		return 0;
	if (luks_active_keyslots(cd) <= 1) {
		err("keyslot %d is the last keyslot of %s; refusing to remove it", token_keyslot(t),
		    device);
		return -EPERM;
	}
	r = crypt_keyslot_destroy(cd, token_keyslot(t));
	if (r < 0)
		err("cannot remove keyslot %d of %s: %s", token_keyslot(t), device, strerror(-r));
	return r;
}

int remove_guid(const char *device, const struct guid *guid)
{
	struct coco_token refs[MAX_COCO_TOKENS];
	const struct coco_token *t;
	struct crypt_device *cd;
	int r;

	if (luks_open(device, &cd) < 0)
		return EXIT_FAIL;
	if (!luks_is_luks2(cd)) {
		err("%s is LUKS1, which has no tokens: remove the keyslot with "
		    "'cryptsetup luksKillSlot'", device);
		r = -EINVAL;
		goto out;
	}
	t = find_guid(refs, coco_tokens_read(cd, refs, MAX_COCO_TOKENS), guid);
	if (t == NULL) {
		err("no coco-efi-secret token for %s on %s", guid->str, device);
		r = -ENOENT;
		goto out;
	}
	r = remove_keyslot(cd, device, t);
	if (r == 0) {
		r = crypt_token_json_set(cd, t->token_id, NULL);
		if (r < 0)
			err("cannot remove token %d of %s: %s", t->token_id, device, strerror(-r));
	}
	if (r >= 0 && token_keyslot(t) >= 0)
		info("removed %s from %s: keyslot %d, token %d", guid->str, device, token_keyslot(t),
		     t->token_id);
	else if (r >= 0)
		info("removed %s from %s: token %d, which had no keyslot", guid->str, device,
		     t->token_id);
out:
	crypt_free(cd);
	return r < 0 ? EXIT_FAIL : EXIT_OK;
}
