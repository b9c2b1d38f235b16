// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libcryptsetup-token-coco-efi-secret.so: the coco-efi-secret token
 * handler, so that `cryptsetup open` and systemd-cryptsetup open a coco
 * volume themselves, with or without coco-unlock. libcryptsetup (2.4 and
 * later) loads it from its token directory and calls it for every token
 * of this type; it hands back the secret the token names as the keyslot
 * passphrase.
 *
 * Before any byte of a secret leaves this file:
 *   1. the token must parse (shared/token.c, as coco-unlock reads it);
 *   2. the header is read again by us, both copies, and must pass the
 *      header policy (shared/header-policy.c), as a whole and for each
 *      of the token's keyslots;
 *   3. what libcryptsetup loaded must be what we judged (UUID, data
 *      segment, the token, the cipher and KDF of each of its keyslots):
 *      the host may change the disk between its read and ours;
 *   4. the secret is read with the agent's rules (shared/secret-read.c)
 *      into locked memory; a token with a MAC is followed only when the
 *      MAC matches that secret and this header (shared/token-mac.c).
 * The wipe is not ours: only the late hooks know when the boot is done.
 *
 * What open returns, and what libcryptsetup then does:
 *   0        the passphrase, in locked memory that buffer_free wipes;
 *   -EAGAIN  no secret area in this guest (efi_secret unknown, no
 *            directory, not on securityfs): like a hardware token that
 *            is not plugged in. libcryptsetup goes on (other tokens, then
 *            the passphrase prompt);
 *   -ENOENT  this token cannot be used here: malformed, its secret is
 *            not there (or empty, too large, not a regular file), the
 *            header is refused or differs from what libcryptsetup loaded,
 *            its MAC does not match. libcryptsetup goes on;
 *   -ENOMEM  no memory, or none that can be locked: libcryptsetup stops,
 *            since nothing else could do better in this process.
 * -ENOANO (a PIN is needed) is never returned: the token has no PIN, and
 * open_pin ignores one. Every refusal is said at error level through
 * libcryptsetup's log (cryptsetup --debug, systemd-cryptsetup's journal),
 * with the GUID and the reason; never a secret byte.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <json-c/json.h>
#include <libcryptsetup.h>

#include "header-policy.h"
#include "luks-header.h"
#include "luks2-json.h"
#include "macro.h"
#include "module-load.h"
#include "secret-read.h"
#include "secure-mem.h"
#include "token-mac.h"
#include "token.h"

#define PUBLIC __attribute__((visibility("default")))

/* Room for one secret and its terminator check (as the agent's slots). */
#define HANDOUT_CAPACITY (SECRET_MAX_SIZE + 1)
/* Volume keys are at most 512 bits; room to spare. */
#define VOLUME_KEY_CAPACITY 256
#define LUKS2_MAX_TOKENS 32

PUBLIC int cryptsetup_token_open(struct crypt_device *cd, int token, char **buffer,
				 size_t *buffer_len, void *usrptr);
PUBLIC int cryptsetup_token_open_pin(struct crypt_device *cd, int token, const char *pin,
				     size_t pin_size, char **buffer, size_t *buffer_len,
				     void *usrptr);
PUBLIC void cryptsetup_token_buffer_free(void *buffer, size_t buffer_len);
PUBLIC int cryptsetup_token_validate(struct crypt_device *cd, const char *json);
PUBLIC void cryptsetup_token_dump(struct crypt_device *cd, const char *json);
PUBLIC const char *cryptsetup_token_version(void);

static void say(struct crypt_device *cd, int level, const char *fmt, ...) _printf_(3, 4);

static void say(struct crypt_device *cd, int level, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	crypt_logf(cd, level, "coco-efi-secret: %s\n", msg);
}

static void module_debug(const char *msg, void *data)
{
	say(data, CRYPT_LOG_DEBUG, "%s", msg);
}

/* ---- the secret area ---------------------------------------------------------------- */

/*
 * The test build (tests/plugin/) reads a plain directory named by
 * COCO_PLUGIN_SECRETS_DIR, as coco-unlock's --secrets-dir does; the
 * installed one has no such door.
 */
static const char *test_secrets_dir(void)
{
#ifdef COCO_PLUGIN_TESTING
	return getenv("COCO_PLUGIN_SECRETS_DIR");
#else
	return NULL;
#endif
}

/* The directory's descriptor, or -EAGAIN (said) when there is no area. */
static int open_area(struct crypt_device *cd)
{
	const char *dir = test_secrets_dir();
	int r;

	if (dir != NULL) {
		r = secrets_dir_open(dir, false);
	} else {
		dir = SECRETS_DIR;
		r = module_load(NULL, "efi_secret", module_debug, cd);
		if (r < 0)
			say(cd, CRYPT_LOG_DEBUG, "loading efi_secret: %s", strerror(-r));
		r = securityfs_present();
		if (r == 0)
			r = securityfs_mount();
		if (r < 0) {
			say(cd, CRYPT_LOG_ERROR, "no secrets: cannot mount securityfs on %s: %s",
			    SECURITYFS_DIR, strerror(-r));
			return -EAGAIN;
		}
		r = secrets_dir_open(dir, true);
	}
	if (r == -ENOENT)
		say(cd, CRYPT_LOG_NORMAL, "no secrets: %s does not exist (no secret area from the "
		    "firmware, or efi_secret found it unpopulated or corrupted)", dir);
	else if (r == -EMEDIUMTYPE)
		say(cd, CRYPT_LOG_ERROR, "no secrets: %s is not on securityfs, refusing it", dir);
	else if (r < 0)
		say(cd, CRYPT_LOG_ERROR, "no secrets: cannot open %s: %s", dir, strerror(-r));
	return r < 0 ? -EAGAIN : r;
}

/* ---- the header ------------------------------------------------------------------------ */

static bool same_token(const struct coco_token *a, const struct coco_token *b)
{
	size_t i;

	if (!guid_equal(&a->guid, &b->guid) || a->n_keyslots != b->n_keyslots ||
	    strcmp(a->mac, b->mac) != 0)
		return false;
	for (i = 0; i < a->n_keyslots; i++)
		if (a->keyslots[i] != b->keyslots[i])
			return false;
	return true;
}

/*
 * One keyslot as libcryptsetup loaded it and as we read it: area cipher
 * and key size, KDF type, hash and costs. The policy judged ours.
 */
static bool same_keyslot(struct crypt_device *cd, struct json_object *json, int k, char why[LUKS_WHY_MAX])
{
	struct json_object *ks = luks2_numbered(json, "keyslots", k);
	struct json_object *area = luks2_object(ks, "area"), *kdf = luks2_object(ks, "kdf");
	const char *enc = luks2_string(area, "encryption"), *kdf_type = luks2_string(kdf, "type");
	struct crypt_pbkdf_type pbkdf;
	uint64_t key_size = 0, a = 0, b = 0, c = 0;
	const char *cd_enc;
	size_t cd_key_size = 0;

	cd_enc = crypt_keyslot_get_encryption(cd, k, &cd_key_size);
	luks2_u64(area, "key_size", 1024, &key_size);
	if (enc == NULL || cd_enc == NULL || strcmp(enc, cd_enc) != 0 || key_size != cd_key_size) {
		snprintf(why, LUKS_WHY_MAX, "keyslot %d: its area cipher is not the one read", k);
		return false;
	}
	memset(&pbkdf, 0, sizeof(pbkdf));
	if (kdf_type == NULL || crypt_keyslot_get_pbkdf(cd, k, &pbkdf) < 0 || pbkdf.type == NULL ||
	    strcmp(kdf_type, pbkdf.type) != 0) {
		snprintf(why, LUKS_WHY_MAX, "keyslot %d: its KDF is not the one read", k);
		return false;
	}
	if (strcmp(kdf_type, "pbkdf2") == 0) {
		const char *hash = luks2_string(kdf, "hash");

		if (!luks2_u64(kdf, "iterations", UINT32_MAX, &a) || a != pbkdf.iterations ||
		    hash == NULL || pbkdf.hash == NULL || strcmp(hash, pbkdf.hash) != 0) {
			snprintf(why, LUKS_WHY_MAX, "keyslot %d: its PBKDF2 is not the one read", k);
			return false;
		}
	} else if (!luks2_u64(kdf, "time", UINT32_MAX, &a) || a != pbkdf.iterations ||
		   !luks2_u64(kdf, "memory", UINT32_MAX, &b) || b != pbkdf.max_memory_kb ||
		   !luks2_u64(kdf, "cpus", UINT32_MAX, &c) || c != pbkdf.parallel_threads) {
		snprintf(why, LUKS_WHY_MAX, "keyslot %d: its argon2 costs are not the ones read", k);
		return false;
	}
	return true;
}

/*
 * What libcryptsetup loaded (the host may have changed the disk between
 * its read and ours) must be what we judge: the UUID, the data segment,
 * this token, and each of its keyslots.
 */
static bool same_header(struct crypt_device *cd, const struct luks_header *h,
			const struct coco_token *t, char why[LUKS_WHY_MAX])
{
	struct coco_token ours[LUKS2_MAX_TOKENS];
	const char *uuid = crypt_get_uuid(cd), *cipher = crypt_get_cipher(cd),
		   *mode = crypt_get_cipher_mode(cd), *enc;
	char cd_enc[128];
	uint64_t off;
	int i, n;
	size_t k;

	if (h->version != 2 || uuid == NULL || strcasecmp(uuid, h->uuid) != 0) {
		snprintf(why, LUKS_WHY_MAX, "the header read has another UUID");
		return false;
	}
	enc = luks2_string(luks2_numbered(h->json, "segments", 0), "encryption");
	snprintf(cd_enc, sizeof(cd_enc), "%s-%s", cipher ? cipher : "", mode ? mode : "");
	if (enc == NULL || strcmp(enc, cd_enc) != 0 || !luks_header_data_offset(h, &off) ||
	    off % 512 != 0 || off / 512 != crypt_get_data_offset(cd)) {
		snprintf(why, LUKS_WHY_MAX, "the data segment read is not the one loaded");
		return false;
	}
	n = coco_tokens_from_json(h->json, ours, ARRAY_SIZE(ours));
	for (i = 0; i < n; i++)
		if (ours[i].token_id == t->token_id)
			break;
	if (i == n || ours[i].malformed || !same_token(&ours[i], t)) {
		snprintf(why, LUKS_WHY_MAX, "token %d read is not the one loaded", t->token_id);
		return false;
	}
	for (k = 0; k < t->n_keyslots; k++)
		if (!same_keyslot(cd, h->json, t->keyslots[k], why))
			return false;
	return true;
}

/* Read, compared, judged: 0, or -ENOENT (said). */
static int check_header(struct crypt_device *cd, const struct coco_token *t, struct luks_header *h)
{
	const char *dev = crypt_get_device_name(cd), *meta = crypt_get_metadata_device_name(cd);
	const char *path = meta != NULL ? meta : dev;
	bool detached = meta != NULL && dev != NULL && strcmp(meta, dev) != 0;
	char why[LUKS_WHY_MAX] = "";
	struct kdf_budget budget;
	size_t k;
	int r;

	if (path == NULL)
		return -ENOENT;
	r = luks_header_read(path, h, why);
	if (r == -ENODEV)
		snprintf(why, sizeof(why), "not a LUKS volume when read again");
	else if (r < 0 && why[0] == '\0')
		snprintf(why, sizeof(why), "cannot read it: %s", strerror(-r));
	if (r == 0) {
		kdf_budget_default(&budget);
		r = header_policy_check_volume(h, detached, &budget, why);
		for (k = 0; r == 0 && k < t->n_keyslots; k++)
			r = header_policy_check_keyslot(h, t->keyslots[k], detached, &budget, why);
	}
	if (r == 0 && !same_header(cd, h, t, why))
		r = -EBADMSG;
	if (r < 0) {
		say(cd, CRYPT_LOG_ERROR, "token %d (secret %s): %s refused: %s", t->token_id,
		    t->guid.str, path, why);
		return -ENOENT;
	}
	return 0;
}

/* ---- the secret ------------------------------------------------------------------------ */

/* 0 when the volume key comes out of one of the token's keyslots with @len bytes. */
static int opens_keyslot(struct crypt_device *cd, const struct coco_token *t,
			 const struct secret_buf *secret, size_t len)
{
	struct secret_buf key = { 0 };
	size_t k, size;
	int r;

	r = secret_buf_alloc(&key, VOLUME_KEY_CAPACITY);
	if (r < 0)
		return r;
	r = -EPERM;
	for (k = 0; k < t->n_keyslots && r < 0; k++) {
		size = key.capacity;
		r = crypt_volume_key_get(cd, t->keyslots[k], (char *)key.data, &size,
					 (const char *)secret->data, len);
	}
	secret_buf_free(&key);
	return r < 0 ? r : 0;
}

/*
 * How many of the secret's bytes are the passphrase: all, or (GRUB's \0,
 * echo's \n) all but the last. With a MAC, the one it matches (none:
 * -ENOENT); without, the whole when it opens a keyslot, else the shorter.
 */
static int passphrase_length(struct crypt_device *cd, const struct luks_header *h,
			     const struct coco_token *t, const struct secret_buf *secret,
			     size_t *len)
{
	bool shorter = secret_has_terminator(secret->data, secret->len);

	if (t->mac[0] != '\0') {
		if (token_mac_verify(h, t, secret->data, secret->len) == 0) {
			*len = secret->len;
			return 0;
		}
		if (shorter && token_mac_verify(h, t, secret->data, secret->len - 1) == 0) {
			*len = secret->len - 1;
			return 0;
		}
		say(cd, CRYPT_LOG_ERROR, "token %d: its MAC does not match secret %s and this header "
		    "(changed, or not the owner's): not followed", t->token_id, t->guid.str);
		return -ENOENT;
	}
	*len = secret->len;
	if (shorter && opens_keyslot(cd, t, secret, secret->len) == -EPERM) {
		say(cd, CRYPT_LOG_DEBUG, "secret %s: without its last byte", t->guid.str);
		*len = secret->len - 1;
	}
	return 0;
}

static int read_secret(struct crypt_device *cd, const struct coco_token *t, struct secret_buf *buf)
{
	int dirfd, r;

	dirfd = open_area(cd);
	if (dirfd < 0)
		return dirfd;
	r = secret_read_at(dirfd, t->guid.str, buf->data, buf->capacity, &buf->len);
	close(dirfd);
	if (r == -ENOENT)
		say(cd, CRYPT_LOG_NORMAL, "token %d: secret %s is not there", t->token_id, t->guid.str);
	else if (r == -EFBIG)
		say(cd, CRYPT_LOG_ERROR, "secret %s is larger than %d bytes, skipped", t->guid.str,
		    SECRET_MAX_SIZE);
	else if (r == -EINVAL)
		say(cd, CRYPT_LOG_ERROR, "secret %s is not a regular file, skipped", t->guid.str);
	else if (r < 0)
		say(cd, CRYPT_LOG_ERROR, "cannot read secret %s: %s", t->guid.str, strerror(-r));
	else if (buf->len == 0)
		say(cd, CRYPT_LOG_ERROR, "secret %s is empty, skipped", t->guid.str);
	if (r == 0 && buf->len == 0)
		r = -ENODATA;
	return r < 0 ? -ENOENT : 0;
}

static int parse_token(struct crypt_device *cd, int token, struct coco_token *t)
{
	const char *json = NULL;

	if (crypt_token_json_get(cd, token, &json) < 0 || json == NULL ||
	    coco_token_parse(json, t) < 0) {
		say(cd, CRYPT_LOG_ERROR, "token %d is malformed, ignored", token);
		return -ENOENT;
	}
	t->token_id = token;
	return 0;
}

PUBLIC int cryptsetup_token_open(struct crypt_device *cd, int token, char **buffer,
				 size_t *buffer_len, void *usrptr)
{
	struct luks_header h;
	struct secret_buf secret = { 0 };
	struct coco_token t;
	size_t len = 0;
	int r;

	memset(&h, 0, sizeof(h));
	h.snapshot_fd = -1;
	r = parse_token(cd, token, &t);
	if (r < 0)
		return r;
	r = check_header(cd, &t, &h);
	if (r < 0)
		goto out;
	r = secret_buf_alloc(&secret, HANDOUT_CAPACITY);
	if (r < 0) {
		say(cd, CRYPT_LOG_ERROR, "cannot lock memory for secret %s: %s", t.guid.str,
		    strerror(-r));
		r = -ENOMEM;
		goto out;
	}
	r = read_secret(cd, &t, &secret);
	if (r == 0)
		r = passphrase_length(cd, &h, &t, &secret, &len);
	if (r < 0) {
		secret_buf_free(&secret);
		goto out;
	}
	/* The byte left out is zeroed too: nothing past @len is the secret's. */
	if (len < secret.len)
		explicit_bzero(secret.data + len, secret.len - len);
	say(cd, CRYPT_LOG_DEBUG, "token %d: secret %s, %zu bytes, for keyslot %d", token,
	    t.guid.str, len, t.keyslots[0]);
	*buffer = (char *)secret.data;
	*buffer_len = len;
out:
	luks_header_free(&h);
	return r;
}

PUBLIC int cryptsetup_token_open_pin(struct crypt_device *cd, int token, const char *pin,
				     size_t pin_size, char **buffer, size_t *buffer_len,
				     void *usrptr)
{
	/* No PIN protects a coco token: one given changes nothing. */
	return cryptsetup_token_open(cd, token, buffer, buffer_len, usrptr);
}

/* The buffer open handed out: zeroed, unlocked, unmapped. */
PUBLIC void cryptsetup_token_buffer_free(void *buffer, size_t buffer_len)
{
	long page = sysconf(_SC_PAGESIZE);
	struct secret_buf buf;

	if (buffer == NULL)
		return;
	if (page <= 0)
		page = 4096;
	/* As secret_buf_alloc() mapped it for HANDOUT_CAPACITY. */
	buf.data = buffer;
	buf.len = buffer_len;
	buf.capacity = HANDOUT_CAPACITY;
	buf.mapped = (HANDOUT_CAPACITY + (size_t)page - 1) / (size_t)page * (size_t)page;
	secret_buf_free(&buf);
}

/* Called by `cryptsetup token import` and before every open: 0 or -EINVAL. */
PUBLIC int cryptsetup_token_validate(struct crypt_device *cd, const char *json)
{
	struct coco_token t;

	if (json == NULL || coco_token_parse(json, &t) < 0) {
		say(cd, CRYPT_LOG_ERROR, "not a valid coco-efi-secret token: it needs \"keyslots\" "
		    "(one to %d keyslot numbers as strings), \"guid\" (a GUID) and, if any, "
		    "\"mac\" (64 hex digits)", MAX_TOKEN_KEYSLOTS);
		return -EINVAL;
	}
	return 0;
}

/* luksDump: the GUID of the secret and whether a MAC binds it (libcryptsetup prints the keyslots). */
PUBLIC void cryptsetup_token_dump(struct crypt_device *cd, const char *json)
{
	struct coco_token t;

	if (json == NULL || coco_token_parse(json, &t) < 0) {
		crypt_logf(cd, CRYPT_LOG_NORMAL, "\tmalformed coco-efi-secret token\n");
		return;
	}
	crypt_logf(cd, CRYPT_LOG_NORMAL, "\tSecret GUID: %s\n", t.guid.str);
	crypt_logf(cd, CRYPT_LOG_NORMAL, "\tMAC:         %s\n", t.mac[0] ? t.mac : "(none)");
}

PUBLIC const char *cryptsetup_token_version(void)
{
	return VERSION;
}
