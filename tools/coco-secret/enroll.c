// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * enroll: a keyslot that the secret opens, and a coco-efi-secret token
 * that points at it.
 *
 * Order matters, so that no interruption can lose an existing keyslot or
 * leave a keyslot whose secret is lost:
 *   1. a --generate'd secret is written (and synced) to its file;
 *   2. the keyslot is added: libcryptsetup writes the key material to
 *      free space, then the header; old keyslots are never rewritten;
 *   3. the token is added; if that fails, the new keyslot is destroyed.
 * Interrupted after 2, the volume has one keyslot more and no token
 * (list shows it); every old keyslot is intact. The token carries a MAC
 * of the new keyslot's metadata keyed by the secret (seal.c), and the
 * volume key's pin is printed at the end. That keyslot is never
 * reused by a later enroll: telling it from a keyslot the owner made
 * with the same bytes is impossible, and remove must never take away a
 * keyslot that existed before coco-secret.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libcryptsetup.h>

#include "coco-secret.h"

/*
 * The secret is high-entropy, so stretching it buys nothing: PBKDF2 with
 * libcryptsetup's minimum iterations and no benchmark, as systemd-cryptenroll
 * and Clevis do for machine-made keys. It also opens fast in an initramfs.
 */
static const struct crypt_pbkdf_type secret_pbkdf = {
	.type = CRYPT_KDF_PBKDF2,
	.hash = "sha256",
	.iterations = 1000,
	.flags = CRYPT_PBKDF_NO_BENCHMARK,
};

/*
 * A short secret (--weak-secret) is stretched as a passphrase would be:
 * argon2id, with libcryptsetup's 2-second benchmark and memory limits.
 */
static const struct crypt_pbkdf_type weak_secret_pbkdf = {
	.type = CRYPT_KDF_ARGON2ID,
	.hash = "sha256",
	.time_ms = 2000,
	.max_memory_kb = 1048576,
	.parallel_threads = 4,
};

/* Test-only: pause between the keyslot and the token (see the man page). */
#define TEST_PAUSE_ENV "COCO_SECRET_TEST_PAUSE_AFTER_KEYSLOT"

static int check_token_target(struct crypt_device *cd, const struct enroll_options *o)
{
	struct coco_token refs[MAX_COCO_TOKENS];
	int i, n;

	if (o->no_token)
		return 0;
	if (!luks_is_luks2(cd)) {
		err("%s is LUKS1, which has no tokens: convert it with 'cryptsetup convert "
		    "--type luks2', or add only a keyslot with --no-token", o->device);
		return -EINVAL;
	}
	n = coco_tokens_read(cd, refs, MAX_COCO_TOKENS);
	for (i = 0; i < n; i++)
		if (guid_equal(&refs[i].guid, &o->guid)) {
			err("%s is already enrolled on %s (token %d); remove it first",
			    o->guid.str, o->device, refs[i].token_id);
			return -EEXIST;
		}
	return 0;
}

static int get_secret(const struct enroll_options *o, struct secret_buf *s)
{
	struct stat st;
	int r;

	if (o->generate_file != NULL) {
		/* Fail before any prompt; the write itself uses O_EXCL. */
		if (lstat(o->generate_file, &st) == 0) {
			err("%s already exists; not overwriting a secret", o->generate_file);
			return -EEXIST;
		}
		return secret_generate(s, GENERATED_SECRET_SIZE);
	}
	r = secret_read_file(o->secret_file, MAX_SECRET_SIZE, s);
	if (r == 0 && s->len == 0) {
		err("%s is empty", o->secret_file);
		secret_buf_free(s);
		r = -EINVAL;
	} else if (r == 0 && s->len < MIN_STRONG_SECRET_SIZE && !o->weak_secret) {
		err("%s has %zu bytes: a secret under %d bytes could be guessed by whoever holds the "
		    "header (the host); use --generate, or --weak-secret to stretch it with argon2id",
		    o->secret_file, s->len, MIN_STRONG_SECRET_SIZE);
		secret_buf_free(s);
		r = -EINVAL;
	}
	return r;
}

static int get_passphrase(struct crypt_device *cd, const struct enroll_options *o,
			  struct secret_buf *p)
{
	char prompt[512];
	int r;

	if (o->unlock_key_file != NULL)
		r = secret_read_file(o->unlock_key_file, MAX_PASSPHRASE_SIZE, p);
	else {
		snprintf(prompt, sizeof(prompt), "Enter an existing passphrase for %s: ",
			 o->device);
		r = secret_prompt(prompt, p);
	}
	if (r < 0)
		return r;
	r = crypt_activate_by_passphrase(cd, NULL, CRYPT_ANY_SLOT, (const char *)p->data,
					 p->len, 0);
	if (r < 0) {
		err("that passphrase opens no keyslot of %s", o->device);
		secret_buf_free(p);
	}
	return r;
}

static int add_keyslot(struct crypt_device *cd, const struct enroll_options *o,
		       const struct secret_buf *pass, const struct secret_buf *s)
{
	bool weak = s->len < MIN_STRONG_SECRET_SIZE;
	int r = crypt_set_pbkdf_type(cd, weak ? &weak_secret_pbkdf : &secret_pbkdf);

	if (r == 0)
		r = crypt_keyslot_add_by_passphrase(cd, CRYPT_ANY_SLOT, (const char *)pass->data,
						    pass->len, (const char *)s->data, s->len);
	if (r < 0)
		err("cannot add a keyslot to %s: %s", o->device,
		    r == -ENOSPC || r == -EINVAL ? "no free keyslot or no room" : strerror(-r));
	return r;
}

static void test_pause(int keyslot)
{
	const char *v = getenv(TEST_PAUSE_ENV);
	unsigned int seconds;

	if (v == NULL || *v == '\0')
		return;
	seconds = (unsigned int)strtoul(v, NULL, 10);
	info("%s: pausing %u s after keyslot %d", TEST_PAUSE_ENV, seconds, keyslot);
	sleep(seconds);
}

static int add_token(struct crypt_device *cd, const struct enroll_options *o, int keyslot,
		     const struct secret_buf *s)
{
	char json[320];
	int r;

	r = token_json_sealed(o->device, keyslot, &o->guid, s, json, sizeof(json));
	if (r < 0)
		return r;
	r = crypt_token_json_set(cd, CRYPT_ANY_TOKEN, json);
	if (r < 0)
		err("cannot add a token to %s: %s", o->device, strerror(-r));
	return r;
}

/* Keyslot, then token; the keyslot goes again if the token cannot be added. */
static int enroll_secret(struct crypt_device *cd, const struct enroll_options *o,
			 const struct secret_buf *pass, const struct secret_buf *s)
{
	int keyslot, token;

	keyslot = add_keyslot(cd, o, pass, s);
	if (keyslot < 0)
		return keyslot;
	test_pause(keyslot);
	if (o->no_token) {
		info("enrolled on %s: keyslot %d, no token", o->device, keyslot);
		print_pin(cd, o->device, o->name, s);
		return 0;
	}
	token = add_token(cd, o, keyslot, s);
	if (token < 0) {
		if (crypt_keyslot_destroy(cd, keyslot) < 0)
			err("also cannot remove the new keyslot %d again", keyslot);
		return token;
	}
	info("enrolled %s on %s: keyslot %d, token %d (sealed with a MAC)", o->guid.str, o->device,
	     keyslot, token);
	/* The pin is a help, not part of the enrollment: its failure is only said. */
	print_pin(cd, o->device, o->name, s);
	return 0;
}

int enroll(const struct enroll_options *o)
{
	struct secret_buf s = { 0 }, pass = { 0 };
	struct crypt_device *cd = NULL;
	bool wrote_file = false;
	int r;

	r = luks_open(o->device, &cd);
	if (r == 0)
		r = check_token_target(cd, o);
	if (r == 0)
		r = get_secret(o, &s);
	if (r == 0)
		r = get_passphrase(cd, o, &pass);
	if (r >= 0 && o->generate_file != NULL) {
		r = secret_write_new_file(o->generate_file, &s);
		wrote_file = r == 0;
	}
	if (r >= 0)
		r = enroll_secret(cd, o, &pass, &s);
	/* A generated secret that opens nothing is no use to anyone. */
	if (r < 0 && wrote_file)
		unlink(o->generate_file);
	secret_buf_free(&pass);
	secret_buf_free(&s);
	crypt_free(cd);
	return r < 0 ? EXIT_FAIL : EXIT_OK;
}
