// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libcryptsetup-token-coco-efi-secret.so: the coco-efi-secret token
 * handler, so that `cryptsetup open` and systemd-cryptsetup open a coco
 * volume themselves, with or without coco-unlock. libcryptsetup (2.4 and
 * later; this plugin needs 2.6 for crypt_dump_json) loads it from its
 * token directory and calls it for every token of this type; it hands
 * back the secret the token names as the keyslot passphrase.
 *
 * Before any byte of a secret leaves this file:
 *   1. the token must parse (shared/token.c, as coco-unlock reads it);
 *   2. the header judged is the one libcryptsetup loaded and will use
 *      (crypt_dump_json), never a read of our own: the host may serve two
 *      reads of the disk differently. It must pass the header policy
 *      (shared/header-policy.c) as a whole and for each of the token's
 *      keyslots, and carry no persistent flags, which cryptsetup and
 *      systemd-cryptsetup would apply (the agent ignores them);
 *   3. the GUID is recorded for the late `coco-unlock --wipe-only`
 *      (shared/wipe-record.h) before the secret is read;
 *   4. the secret is read with the agent's rules (shared/secret-read.c)
 *      into locked memory; a token with a MAC is followed only when the
 *      MAC matches that secret and this header (shared/token-mac.c);
 *   5. the KDF work that handing it out lets happen (libcryptsetup's
 *      tries of the token's keyslots, and ours of the whole secret) must
 *      fit what is left of the volume's budget, twice one keyslot's,
 *      over every call of this process for that volume.
 * The wipe itself is not ours: only the late hooks know when the boot is
 * done, and one volume's secret may open another (recorded, not unlinked).
 *
 * What open returns, and what libcryptsetup then does:
 *   0        the passphrase, in locked memory that buffer_free wipes;
 *   -EAGAIN  no secret area in this guest (efi_secret unknown, no
 *            directory, not on securityfs): like a hardware token that
 *            is not plugged in. libcryptsetup goes on (other tokens, then
 *            the passphrase prompt);
 *   -ENOENT  this token cannot be used here: malformed, its secret is
 *            not there (or empty, too large, not a regular file), the
 *            header is refused, its MAC does not match, the volume's KDF
 *            budget is spent, the record for the wipe cannot be written.
 *            libcryptsetup goes on;
 *   -ENOMEM  no memory, or none that can be locked: libcryptsetup stops,
 *            since nothing else could do better in this process.
 * -ENOANO (a PIN is needed) is never returned: the token has no PIN, and
 * open_pin ignores one. Every refusal is said at error level through
 * libcryptsetup's log (cryptsetup --debug, systemd-cryptsetup's journal),
 * with the GUID and the reason; never a secret byte.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>
#include <libcryptsetup.h>

#include "header-policy.h"
#include "luks-header.h"
#include "macro.h"
#include "module-load.h"
#include "secret-read.h"
#include "secure-mem.h"
#include "token-mac.h"
#include "token.h"
#include "wipe-record.h"

#define PUBLIC __attribute__((visibility("default")))

/* Room for one secret and its terminator check (as the agent's slots). */
#define HANDOUT_CAPACITY (SECRET_MAX_SIZE + 1)
/* Volume keys are at most 512 bits; room to spare. */
#define VOLUME_KEY_CAPACITY 256

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

/* Where the late --wipe-only finds what was handed out (wipe-record.h). */
static const char *state_dir(void)
{
#ifdef COCO_PLUGIN_TESTING
	const char *dir = getenv("COCO_PLUGIN_STATE_DIR");

	if (dir != NULL)
		return dir;
#endif
	return WIPE_RECORD_DIR;
}

/* The test build's lower PBKDF2 budget, as coco-unlock's --pbkdf2-budget. */
static void test_budget(void)
{
#ifdef COCO_PLUGIN_TESTING
	const char *v = getenv("COCO_PLUGIN_PBKDF2_BUDGET");

	if (v != NULL)
		kdf_budget_cap_pbkdf2(strtoull(v, NULL, 10));
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

/*
 * The header libcryptsetup loaded and will use, never a second read of
 * the disk: the host may answer two reads differently, and only this copy
 * becomes the keyslot's KDF, the digest and the dm-crypt table.
 */
static int loaded_header(struct crypt_device *cd, struct luks_header *h, char why[LUKS_WHY_MAX])
{
	const char *type = crypt_get_type(cd), *json = NULL;
	uint64_t metadata = 0, keyslots = 0;

	if (type == NULL || strcmp(type, CRYPT_LUKS2) != 0) {
		snprintf(why, LUKS_WHY_MAX, "not a LUKS2 volume as loaded");
		return -EBADMSG;
	}
	if (crypt_get_metadata_size(cd, &metadata, &keyslots) < 0 ||
	    crypt_dump_json(cd, &json, 0) < 0 || json == NULL) {
		snprintf(why, LUKS_WHY_MAX, "libcryptsetup cannot show the header it loaded");
		return -EBADMSG;
	}
	return luks_header_from_loaded(h, crypt_get_uuid(cd), metadata, json, why);
}

/* Judged as the agent judges it, plus the persistent flags cryptsetup would apply. */
static int judge_header(const struct luks_header *h, const struct coco_token *t, bool detached,
			char why[LUKS_WHY_MAX])
{
	struct kdf_budget budget;
	size_t k;
	int r;

	kdf_budget_default(&budget);
	r = header_policy_check_volume(h, detached, &budget, why);
	for (k = 0; r == 0 && k < t->n_keyslots; k++)
		r = header_policy_check_keyslot(h, t->keyslots[k], detached, &budget, why);
	if (r == 0)
		r = header_policy_check_persistent_flags(h, why);
	return r;
}

/* Loaded and judged: 0, or -ENOENT (said). */
static int check_header(struct crypt_device *cd, const struct coco_token *t, struct luks_header *h)
{
	const char *dev = crypt_get_device_name(cd), *meta = crypt_get_metadata_device_name(cd);
	const char *path = meta != NULL ? meta : dev;
	bool detached = meta != NULL && dev != NULL && strcmp(meta, dev) != 0;
	char why[LUKS_WHY_MAX] = "";
	int r;

	r = loaded_header(cd, h, why);
	if (r == 0)
		r = judge_header(h, t, detached, why);
	if (r < 0) {
		say(cd, CRYPT_LOG_ERROR, "token %d (secret %s): %s refused: %s", t->token_id,
		    t->guid.str, path ? path : "the volume", why);
		return -ENOENT;
	}
	return 0;
}

/* ---- the KDF work a volume's tries may take --------------------------------------------- */

/*
 * Every open of this process for one volume (each coco token, each retry
 * systemd-cryptsetup makes) is charged to one account per volume UUID:
 * what libcryptsetup will spend on the token's keyslots with what we hand
 * out, and our own try of the whole secret (passphrase_length).
 */
#define METERED_VOLUMES 32

static struct {
	char uuid[LUKS_UUID_LEN + 1];
	struct kdf_account account;
} meters[METERED_VOLUMES];

static struct kdf_account *volume_account(const char *uuid)
{
	size_t i;

	for (i = 0; i < METERED_VOLUMES && meters[i].uuid[0] != '\0'; i++)
		if (strcmp(meters[i].uuid, uuid) == 0)
			return &meters[i].account;
	if (i == METERED_VOLUMES)
		return NULL;
	memcpy(meters[i].uuid, uuid, sizeof(meters[i].uuid));
	return &meters[i].account;
}

/* 0 when @tries tries of each of the token's keyslots fit the volume's budget (charged). */
static int charge_tries(struct crypt_device *cd, const struct luks_header *h,
			const struct coco_token *t, unsigned int tries)
{
	struct kdf_account *account = volume_account(h->uuid);
	struct kdf_budget budget;
	uint64_t cost = 0;
	size_t k;

	kdf_budget_default(&budget);
	for (k = 0; k < t->n_keyslots; k++)
		cost += tries * header_policy_try_cost(h, t->keyslots[k], &budget);
	if (account != NULL && kdf_account_spend(account, cost))
		return 0;
	say(cd, CRYPT_LOG_ERROR, "token %d (secret %s): not handed out: the KDF work of its "
	    "keyslots is over what is left of the volume's budget (twice one keyslot's)",
	    t->token_id, t->guid.str);
	return -ENOENT;
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
			return charge_tries(cd, h, t, 1);
		}
		if (shorter && token_mac_verify(h, t, secret->data, secret->len - 1) == 0) {
			*len = secret->len - 1;
			return charge_tries(cd, h, t, 1);
		}
		say(cd, CRYPT_LOG_ERROR, "token %d: its MAC does not match secret %s and this header "
		    "(changed, or not the owner's): not followed", t->token_id, t->guid.str);
		return -ENOENT;
	}
	*len = secret->len;
	/* Our own try of the whole secret, then libcryptsetup's with what we hand out. */
	if (charge_tries(cd, h, t, shorter ? 2 : 1) < 0)
		return -ENOENT;
	if (shorter && opens_keyslot(cd, t, secret, secret->len) == -EPERM) {
		say(cd, CRYPT_LOG_DEBUG, "secret %s: without its last byte", t->guid.str);
		*len = secret->len - 1;
	}
	return 0;
}

/*
 * The GUID goes on the late wipe's record before the secret is read: a
 * secret handed out must not outlive the boot because the host stripped
 * the token that names it after activation. No record, no secret.
 */
static int record_for_wipe(struct crypt_device *cd, const struct coco_token *t)
{
	const char *dir = state_dir();
	int fd, r;

	fd = wipe_record_open_in(dir);
	r = fd < 0 ? fd : wipe_record_append(fd, t->guid.str);
	if (fd >= 0)
		close(fd);
	if (r < 0)
		say(cd, CRYPT_LOG_ERROR, "token %d: cannot record secret %s for the late wipe in "
		    "%s/" WIPE_RECORD_FILE ": %s; not handed out", t->token_id, t->guid.str, dir,
		    strerror(-r));
	return r < 0 ? -ENOENT : 0;
}

static int read_secret(struct crypt_device *cd, const struct coco_token *t, struct secret_buf *buf)
{
	int dirfd, r;

	dirfd = open_area(cd);
	if (dirfd < 0)
		return dirfd;
	if (faccessat(dirfd, t->guid.str, F_OK, AT_SYMLINK_NOFOLLOW) == 0 && record_for_wipe(cd, t) < 0) {
		close(dirfd);
		return -ENOENT;
	}
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
	test_budget();
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
