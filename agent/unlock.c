// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Unlocking one LUKS volume with libcryptsetup. The header is only read:
 * activation by passphrase never writes it. With --dry-run the name is
 * NULL, which checks the key without creating a mapping.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <libcryptsetup.h>

#include "coco-unlock.h"

#define MAX_TOKENS 32

static void cryptsetup_log(int level, const char *msg, void *usrptr)
{
	size_t len = strlen(msg);

	/* Wrong-key messages are expected while trying secrets: ours say more. */
	while (len > 0 && msg[len - 1] == '\n')
		len--;
	log_debug("libcryptsetup: %.*s", (int)len, msg);
}

void unlock_setup_logging(bool debug)
{
	crypt_set_log_callback(NULL, cryptsetup_log, NULL);
}

uint32_t activation_flags(const struct volume_options *o, bool dry_run)
{
	uint32_t flags = 0;

	if (o->discard)
		flags |= CRYPT_ACTIVATE_ALLOW_DISCARDS;
	if (o->readonly)
		flags |= CRYPT_ACTIVATE_READONLY;
	if (o->no_read_workqueue)
		flags |= CRYPT_ACTIVATE_NO_READ_WORKQUEUE;
	if (o->no_write_workqueue)
		flags |= CRYPT_ACTIVATE_NO_WRITE_WORKQUEUE;
	/* As systemd does: one argon2 keyslot in memory at a time. */
	if (!dry_run)
		flags |= CRYPT_ACTIVATE_SERIALIZE_MEMORY_HARD_PBKDF;
	return flags;
}

static bool trailing_terminator(const struct secret_buf *buf)
{
	uint8_t last;

	if (buf->len < 2)
		return false;
	last = buf->data[buf->len - 1];
	return last == '\0' || last == '\n';
}

/*
 * Tries one secret against one keyslot (or all). Returns the keyslot that
 * opened, or a negative errno; -EPERM means the secret is not a key.
 */
static int try_candidate(struct crypt_device *cd, const char *name, struct secret_area *area,
			 const struct key_candidate *c, uint32_t flags, struct secret_buf *buf)
{
	const char *guid = area->guids[c->secret].str;
	int r;

	r = secret_area_read(area, c->secret, buf);
	if (r == -EFBIG) {
		log_err("secret %s is larger than %d bytes, skipped", guid, SECRET_MAX_SIZE);
		return r;
	}
	if (r < 0) {
		log_err("cannot read secret %s: %s", guid, strerror(-r));
		return r;
	}
	if (buf->len == 0) {
		log_warn("secret %s is empty, skipped", guid);
		return -ENODATA;
	}
	r = crypt_activate_by_passphrase(cd, name, c->keyslot, (const char *)buf->data,
					 buf->len, flags);
	if (r == -EPERM && trailing_terminator(buf)) {
		log_debug("secret %s: trying again without its last byte", guid);
		r = crypt_activate_by_passphrase(cd, name, c->keyslot, (const char *)buf->data,
						 buf->len - 1, flags);
	}
	secret_buf_clear(buf);
	return r;
}

static void describe_failure(const struct volume *v, const struct secret_area *area,
			     const struct key_candidate *c, int r)
{
	const char *guid = area->guids[c->secret].str;

	if (r == -EPERM)
		log_info("%s: secret %s (%s) does not open it", v->name, guid, key_rule_name(c->rule));
	else if (r == -ENOMEM)
		log_err("%s: not enough memory to open a keyslot with secret %s", v->name, guid);
	else if (r == -ENOTSUP)
		log_err("%s: cannot create the mapping: no device-mapper or dm-crypt in the kernel",
			v->name);
	else if (r != -ENODATA && r != -EFBIG)
		log_err("%s: secret %s: %s", v->name, guid, strerror(-r));
}

static int try_plan(struct crypt_device *cd, const struct options *opts, struct volume *v,
		    struct secret_area *area, struct secret_buf *buf, const struct key_plan *plan)
{
	const char *name = opts->dry_run ? NULL : v->name;
	uint32_t flags = activation_flags(&v->options, opts->dry_run);
	size_t i;

	for (i = 0; i < plan->n; i++) {
		const struct key_candidate *c = &plan->c[i];
		int r = try_candidate(cd, name, area, c, flags, buf);

		if (r >= 0 || r == -EEXIST) {
			log_info("%s: %s %s with secret %s (%s, keyslot %d)", v->name,
				 opts->dry_run ? "key verified for" : "unlocked", v->path,
				 area->guids[c->secret].str, key_rule_name(c->rule), r);
			return 0;
		}
		describe_failure(v, area, c, r);
	}
	return -EPERM;
}

static bool is_active(const char *name)
{
	crypt_status_info st = crypt_status(NULL, name);

	return st == CRYPT_ACTIVE || st == CRYPT_BUSY;
}

/* Loads the header and checks it is the volume we were asked for. */
static int load_volume(struct crypt_device **cd, struct volume *v)
{
	const char *uuid;
	int r;

	r = crypt_init(cd, v->path);
	if (r < 0) {
		log_err("%s: cannot open %s: %s", volume_label(v), v->path, strerror(-r));
		return r;
	}
	r = crypt_load(*cd, CRYPT_LUKS, NULL);
	if (r < 0) {
		/* -EINVAL is "no LUKS header"; anything else (no crypto backend,
		 * I/O) deserves its own reason. */
		if (r == -EINVAL)
			log_err("%s: %s is not a LUKS volume", volume_label(v), v->path);
		else
			log_err("%s: cannot load the LUKS header of %s: %s", volume_label(v),
				v->path, strerror(-r));
		crypt_free(*cd);
		return r;
	}
	uuid = crypt_get_uuid(*cd);
	if (v->uuid[0] != '\0' && (uuid == NULL || strcasecmp(uuid, v->uuid) != 0)) {
		log_err("%s: %s has UUID %s, not %s", volume_label(v), v->path, uuid ? uuid : "none", v->uuid);
		crypt_free(*cd);
		return -EINVAL;
	}
	if (v->uuid[0] == '\0' && uuid != NULL && !parse_luks_uuid(uuid, v->uuid))
		v->uuid[0] = '\0';
	if (v->name[0] == '\0')
		snprintf(v->name, sizeof(v->name), "luks-%s", v->uuid);
	return 0;
}

static int build_plan(struct crypt_device *cd, const struct config *cfg, const struct volume *v,
		      const struct secret_area *area, struct key_plan *plan)
{
	struct coco_token tokens[MAX_TOKENS];
	int n_tokens = 0;

	if (cd != NULL)
		n_tokens = coco_tokens_read(cd, tokens, ARRAY_SIZE(tokens));
	return key_plan_build(cfg, v, area, tokens, (size_t)n_tokens, plan);
}

static void mark_plan_used(struct secret_area *area, const struct key_plan *plan)
{
	size_t i;

	for (i = 0; i < plan->n; i++)
		area->used[plan->c[i].secret] = true;
}

/* Sets v->state to VOLUME_OPEN or VOLUME_CLOSED. */
int unlock_volume(const struct config *cfg, const struct options *opts,
		  struct secret_area *area, struct secret_buf *buf, struct volume *v)
{
	struct crypt_device *cd;
	struct key_plan plan;
	int r;

	v->state = VOLUME_CLOSED;
	r = load_volume(&cd, v);
	if (r < 0)
		return r;
	build_plan(cd, cfg, v, area, &plan);

	if (!opts->dry_run && is_active(v->name)) {
		/* Whoever opened it had its key: that secret is spent too. */
		log_info("%s: already active", v->name);
		mark_plan_used(area, &plan);
		v->state = VOLUME_OPEN;
		crypt_free(cd);
		return 0;
	}
	if (plan.n == 0) {
		log_err("%s: no secret for %s (no rd.coco.key, crypttab key, coco token or %s)",
			v->name, v->path, GUID_DISK_PASSPHRASE);
		r = -ENOKEY;
	} else {
		r = try_plan(cd, opts, v, area, buf, &plan);
		if (r < 0)
			log_err("%s: no secret opened %s; left closed for the passphrase prompt",
				v->name, v->path);
	}
	if (r == 0)
		v->state = VOLUME_OPEN;
	crypt_free(cd);
	return r;
}

/* --wipe-only: the secrets a run would have chosen for this volume. */
int volume_mark_planned_secrets(const struct config *cfg, struct secret_area *area,
				struct volume *v)
{
	struct crypt_device *cd = NULL;
	struct key_plan plan;

	if (v->path[0] != '\0' && load_volume(&cd, v) < 0)
		cd = NULL;
	build_plan(cd, cfg, v, area, &plan);
	mark_plan_used(area, &plan);
	if (cd != NULL)
		crypt_free(cd);
	return (int)plan.n;
}
