// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * What binds a header to its owner, from the owner's side:
 *   - the MAC in a coco token (shared/token-mac.h), written by enroll and
 *     by seal for an existing token;
 *   - the pin (shared/volume-key-id.h), systemd's fixate-volume-key=
 *     value, printed by enroll and by pin.
 * Both are computed from the header as our own reader sees it, the one
 * coco-unlock judges at boot.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <libcryptsetup.h>

#include "coco-secret.h"
#include "luks-header.h"
#include "token-mac.h"
#include "volume-key-id.h"

#define VOLUME_KEY_MAX 256

/* The token's JSON, with the MAC of @keyslot's metadata for secret @s. */
int token_json_sealed(const char *device, int keyslot, const struct guid *guid,
		      const struct secret_buf *s, char *json, size_t size)
{
	struct coco_token t = { .token_id = -1, .guid = *guid, .n_keyslots = 1, .keyslots = { keyslot } };
	char mac[TOKEN_MAC_HEX_LEN + 1], why[LUKS_WHY_MAX];
	struct luks_header h;
	int r;

	r = luks_header_read(device, &h, why);
	if (r < 0) {
		err("cannot read the header of %s back: %s", device, why);
		luks_header_free(&h);
		return r;
	}
	r = token_mac_compute(&h, &t, s->data, s->len, mac);
	luks_header_free(&h);
	if (r < 0) {
		err("cannot compute the token's MAC for %s", device);
		return r;
	}
	snprintf(json, size, "{\"type\":\"%s\",\"keyslots\":[\"%d\"],\"guid\":\"%s\",\"mac\":\"%s\"}",
		 COCO_TOKEN_TYPE, keyslot, guid->str, mac);
	return 0;
}

/* The pin of the volume key @secret opens, for mapping @name. */
int print_pin(struct crypt_device *cd, const char *device, const char *name,
	      const struct secret_buf *secret)
{
	struct secret_buf vk = { 0 };
	char id[VOLUME_KEY_ID_LEN + 1], default_name[64];
	size_t size;
	int r;

	r = secret_alloc(&vk, VOLUME_KEY_MAX);
	if (r < 0)
		return r;
	size = vk.capacity;
	r = crypt_volume_key_get(cd, CRYPT_ANY_SLOT, (char *)vk.data, &size, (const char *)secret->data,
				 secret->len);
	if (r < 0) {
		err("that secret or passphrase opens no keyslot of %s", device);
		secret_buf_free(&vk);
		return r;
	}
	if (name == NULL) {
		snprintf(default_name, sizeof(default_name), "luks-%s", crypt_get_uuid(cd));
		name = default_name;
	}
	volume_key_id(name, crypt_get_uuid(cd), vk.data, size, id);
	secret_buf_free(&vk);
	printf("pin of %s for mapping %s: fixate-volume-key=%s\n", device, name, id);
	printf("  (crypttab option; or rd.coco.volume-key=%s:%s)\n", crypt_get_uuid(cd), id);
	return 0;
}

/* pin: the pin of a volume, opened by a secret or a passphrase. */
int pin(const struct pin_options *o)
{
	struct secret_buf s = { 0 };
	struct crypt_device *cd = NULL;
	int r;

	r = luks_open(o->device, &cd);
	if (r == 0)
		r = secret_read_file(o->key_file, MAX_PASSPHRASE_SIZE, &s);
	if (r == 0)
		r = print_pin(cd, o->device, o->name, &s);
	secret_buf_free(&s);
	crypt_free(cd);
	return r < 0 ? EXIT_FAIL : EXIT_OK;
}

static int find_token(struct crypt_device *cd, const struct pin_options *o, struct coco_token *out)
{
	struct coco_token refs[MAX_COCO_TOKENS];
	int i, n;

	if (!luks_is_luks2(cd)) {
		err("%s is LUKS1, which has no tokens", o->device);
		return -EINVAL;
	}
	n = coco_tokens_read(cd, refs, MAX_COCO_TOKENS);
	for (i = 0; i < n; i++)
		if (guid_equal(&refs[i].guid, &o->guid) && token_keyslot(&refs[i]) >= 0) {
			*out = refs[i];
			return 0;
		}
	err("no coco-efi-secret token for %s on %s", o->guid.str, o->device);
	return -ENOENT;
}

/* seal: (re)write the MAC of an existing token, after checking the secret opens its keyslot. */
int seal(const struct pin_options *o)
{
	struct secret_buf s = { 0 };
	struct crypt_device *cd = NULL;
	struct coco_token t = { .token_id = -1 };
	char json[320];
	int r;

	r = luks_open(o->device, &cd);
	if (r == 0)
		r = find_token(cd, o, &t);
	if (r == 0)
		r = secret_read_file(o->key_file, MAX_SECRET_SIZE, &s);
	if (r == 0) {
		r = crypt_activate_by_passphrase(cd, NULL, token_keyslot(&t), (const char *)s.data, s.len, 0);
		if (r < 0)
			err("%s does not open keyslot %d of %s", o->key_file, token_keyslot(&t), o->device);
	}
	if (r >= 0)
		r = token_json_sealed(o->device, token_keyslot(&t), &o->guid, &s, json, sizeof(json));
	if (r >= 0) {
		r = crypt_token_json_set(cd, t.token_id, json);
		if (r < 0)
			err("cannot write token %d of %s: %s", t.token_id, o->device, strerror(-r));
		else
			info("sealed token %d of %s (%s, keyslot %d)", t.token_id, o->device, o->guid.str,
			     token_keyslot(&t));
	}
	secret_buf_free(&s);
	crypt_free(cd);
	return r < 0 ? EXIT_FAIL : EXIT_OK;
}
