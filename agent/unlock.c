// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Unlocking one LUKS volume. The host wrote its header, so in order:
 *   1. the header is read once into memory and checked (luks-header.c):
 *      not LUKS, malformed, or two copies that differ: refused;
 *   2. the key plan is made from the configuration and the header's
 *      tokens, and its secrets count as used from here on (wiped);
 *   3. tokens with a MAC are checked against their secret; with
 *      x-coco.require-mac only MAC-checked tokens stay;
 *   4. the header policy judges the header for the keyslots the plan
 *      would try (header-policy.c);
 *   5. libcryptsetup loads a private copy of the header as a detached
 *      header, never the disk's (no repair, no lock, no other bytes);
 *   6. each candidate gives the volume key (crypt_volume_key_get), which
 *      must match the volume's pin when it has one, and only then is the
 *      volume activated by that key, with our flags alone
 *      (CRYPT_ACTIVATE_IGNORE_PERSISTENT). With --dry-run the name is
 *      NULL: the key is checked, no mapping made.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <libcryptsetup.h>

#include "coco-unlock.h"
#include "escape.h"
#include "header-policy.h"
#include "luks-header.h"
#include "token-mac.h"
#include "volume-key-id.h"

#define VOLUME_KEY_MAX 256

/* libcryptsetup's last error, for the message of a load that failed. */
static char cryptsetup_error[160];

static void cryptsetup_log(int level, const char *msg, void *usrptr)
{
	size_t len = strlen(msg);

	/* Wrong-key messages are expected while trying secrets: ours say more. */
	while (len > 0 && msg[len - 1] == '\n')
		len--;
	log_debug("libcryptsetup: %.*s", (int)len, msg);
	if (level == CRYPT_LOG_ERROR)
		copy_string_n(cryptsetup_error, sizeof(cryptsetup_error), msg,
			      len < sizeof(cryptsetup_error) ? len : sizeof(cryptsetup_error) - 1);
}

void unlock_setup_logging(bool debug)
{
	crypt_set_log_callback(NULL, cryptsetup_log, NULL);
	/* Lock files on the device or in /run would be writes we do not need. */
	crypt_metadata_locking(NULL, 0);
}

/* Our flags only: the header's persistent ones are the host's. */
uint32_t activation_flags(const struct volume_options *o)
{
	uint32_t flags = CRYPT_ACTIVATE_IGNORE_PERSISTENT;

	if (o->discard)
		flags |= CRYPT_ACTIVATE_ALLOW_DISCARDS;
	if (o->readonly)
		flags |= CRYPT_ACTIVATE_READONLY;
	if (o->no_read_workqueue)
		flags |= CRYPT_ACTIVATE_NO_READ_WORKQUEUE;
	if (o->no_write_workqueue)
		flags |= CRYPT_ACTIVATE_NO_WRITE_WORKQUEUE;
	return flags;
}

/* The secret as it is, then (GRUB's \0, echo's \n) without its last byte. */
static bool trailing_terminator(const struct secret_buf *buf)
{
	return secret_has_terminator(buf->data, buf->len);
}

static int read_candidate(struct secret_area *area, const struct key_candidate *c,
			  struct secret_buf *buf)
{
	const char *guid = area->guids[c->secret].str;
	int r = secret_area_read(area, c->secret, buf);

	if (r == -EFBIG) {
		log_err("secret %s is larger than %d bytes, skipped", guid, SECRET_MAX_SIZE);
	} else if (r < 0) {
		log_err("cannot read secret %s: %s", guid, strerror(-r));
		r = -ENODATA;	/* said: not again by describe_failure() */
	} else if (buf->len == 0) {
		log_warn("secret %s is empty, skipped", guid);
		r = -ENODATA;
	}
	return r;
}

/* ---- 1. the header --------------------------------------------------------------- */

static int read_header(struct volume *v, struct luks_header *h)
{
	const char *source = v->options.header[0] ? v->options.header : v->path;
	char why[LUKS_WHY_MAX];
	int r;

	r = luks_header_read(source, h, why);
	if (r == -ENODEV)
		log_err("%s: %s is not a LUKS volume", volume_label(v), source);
	else if (r < 0)
		log_err("%s: %s refused: %s", volume_label(v), source, why);
	if (r < 0)
		return r;
	if (v->uuid[0] != '\0' && strcmp(h->uuid, v->uuid) != 0) {
		log_err("%s: %s has UUID %s, not %s", volume_label(v), source, h->uuid, v->uuid);
		return -EINVAL;
	}
	if (v->uuid[0] == '\0')
		memcpy(v->uuid, h->uuid, sizeof(v->uuid));
	if (v->name[0] == '\0')
		snprintf(v->name, sizeof(v->name), "luks-%s", v->uuid);
	return 0;
}

/* ---- 2. the plan ----------------------------------------------------------------- */

static int plan_for(const struct config *cfg, const struct volume *v, const struct secret_area *area,
		    const struct luks_header *h, struct coco_token *tokens, struct key_plan *plan)
{
	int n = 0;

	if (h != NULL && h->version == 2)
		n = coco_tokens_from_json(h->json, tokens, MAX_TOKENS);
	return key_plan_build(cfg, v, area, n > 0 ? tokens : NULL, (size_t)n, plan);
}

/* Used, and recorded for the late wipe before any of them is read. */
static void mark_plan_used(struct secret_area *area, const struct key_plan *plan)
{
	size_t i, s;

	for (i = 0; i < plan->n; i++) {
		s = plan->c[i].secret;
		if (!area->used[s])
			wipe_record(area, s);
		area->used[s] = 1;
	}
}

static void plan_drop(struct key_plan *plan, size_t i)
{
	memmove(&plan->c[i], &plan->c[i + 1], (plan->n - i - 1) * sizeof(plan->c[0]));
	plan->n--;
}

/* ---- 3. token MACs --------------------------------------------------------------- */

/* 0 when the MAC matches the secret as it is or without its last byte. */
static int mac_matches(const struct luks_header *h, const struct coco_token *t,
		       const struct secret_buf *buf)
{
	if (token_mac_verify(h, t, buf->data, buf->len) == 0)
		return 0;
	if (trailing_terminator(buf) && token_mac_verify(h, t, buf->data, buf->len - 1) == 0)
		return 0;
	return -EBADMSG;
}

/*
 * A token with a MAC is followed only when the MAC matches; with
 * x-coco.require-mac nothing else is followed. Returns the candidates left.
 */
static size_t check_macs(const struct volume *v, struct secret_area *area, struct secret_buf *buf,
			 const struct luks_header *h, const struct coco_token *tokens,
			 struct key_plan *plan)
{
	size_t i = 0;

	while (i < plan->n) {
		const struct key_candidate *c = &plan->c[i];
		const struct coco_token *t = c->token >= 0 ? &tokens[c->token] : NULL;
		bool keep;

		if (t == NULL || t->mac[0] == '\0') {
			keep = !v->options.require_mac;
			if (!keep)
				log_err("%s: secret %s (%s) skipped: x-coco.require-mac wants a token with a MAC",
					v->name, area->guids[c->secret].str, key_rule_name(c->rule));
		} else {
			keep = c->keyslot == t->keyslots[0] && read_candidate(area, c, buf) == 0 &&
			       mac_matches(h, t, buf) == 0;
			if (!keep)
				log_err("%s: token %d: its MAC does not match secret %s and this header "
					"(changed, or not the owner's): not followed", v->name, t->token_id,
					area->guids[c->secret].str);
			secret_buf_clear(buf);
		}
		if (keep)
			i++;
		else
			plan_drop(plan, i);
	}
	return plan->n;
}

/* ---- 4. the policy ----------------------------------------------------------------- */

/*
 * The volume must pass as a whole; each keyslot the plan would try must
 * pass on its own, or it is never tried (an over-budget passphrase keyslot
 * beside a coco one does not stop the coco one). Candidates left without
 * a keyslot are dropped; none left: refused. @tried: the keyslots to try.
 */
static int check_policy(const struct volume *v, const struct luks_header *h, struct key_plan *plan,
			bool tried[LUKS2_KEYSLOTS])
{
	bool active[LUKS2_KEYSLOTS], judged[LUKS2_KEYSLOTS] = { false }, usable[LUKS2_KEYSLOTS];
	bool detached = v->options.header[0] != '\0';
	char why[LUKS_WHY_MAX], first[LUKS_WHY_MAX] = "";
	struct kdf_budget budget;
	size_t i = 0;
	int k;

	kdf_budget_default(&budget);
	if (header_policy_check_volume(h, detached, &budget, why) < 0) {
		log_err("%s: %s refused by the header policy: %s", v->name, v->path, why);
		return -EPERM;
	}
	luks_header_keyslots(h, active);
	memset(tried, 0, LUKS2_KEYSLOTS * sizeof(tried[0]));
	while (i < plan->n) {
		struct key_candidate *c = &plan->c[i];
		bool any = false;

		for (k = 0; k < LUKS2_KEYSLOTS; k++) {
			if (!active[k] || (c->keyslot != ANY_KEYSLOT && c->keyslot != k))
				continue;
			if (!judged[k]) {
				judged[k] = true;
				usable[k] = header_policy_check_keyslot(h, k, detached, &budget, why) == 0;
				if (!usable[k]) {
					log_warn("%s: keyslot %d is not tried: %s", v->name, k, why);
					if (first[0] == '\0')
						memcpy(first, why, sizeof(first));
				}
			}
			tried[k] |= usable[k];
			any |= usable[k];
		}
		if (any) {
			i++;
		} else {
			if (first[0] == '\0')
				snprintf(first, sizeof(first), "keyslot %d does not exist", c->keyslot);
			plan_drop(plan, i);
		}
	}
	if (plan->n == 0) {
		log_err("%s: %s refused by the header policy: %s", v->name, v->path, first);
		return -EPERM;
	}
	return 0;
}

/* ---- 5. libcryptsetup on the private copy ---------------------------------------- */

static int load_private_copy(const struct volume *v, struct luks_header *h,
			     const bool tried[LUKS2_KEYSLOTS], struct crypt_device **cd)
{
	const char *source = v->options.header[0] ? v->options.header : v->path;
	const char *uuid;
	char why[LUKS_WHY_MAX];
	int r;

	r = luks_header_snapshot(h, source, tried, why);
	if (r < 0) {
		log_err("%s: %s refused: %s", v->name, source, why);
		return r;
	}
	cryptsetup_error[0] = '\0';
	r = crypt_init_data_device(cd, h->snapshot_path, v->path);
	if (r < 0) {
		log_err("%s: cannot open %s: %s", v->name, v->path, strerror(-r));
		return r;
	}
	r = crypt_load(*cd, CRYPT_LUKS, NULL);
	uuid = r == 0 ? crypt_get_uuid(*cd) : NULL;
	if (r == 0 && (uuid == NULL || strcasecmp(uuid, h->uuid) != 0))
		r = -EINVAL;
	if (r < 0) {
		/* Not "no LUKS": the bytes were ours. A crypto backend that
		 * cannot start, or memory, shows here, in libcryptsetup's words. */
		log_err("%s: libcryptsetup cannot load the checked header of %s: %s", v->name, source,
			cryptsetup_error[0] ? cryptsetup_error : strerror(-r));
		crypt_free(*cd);
		*cd = NULL;
	}
	return r;
}

/* ---- 6. keys ------------------------------------------------------------------------ */

/*
 * What one volume's tries may still spend: every keyslot try, of every
 * secret, retries included, is charged to one account
 * (header_policy_try_cost); a try that would go over is not made.
 */
struct kdf_meter {
	const char *name;
	const struct luks_header *h;
	struct kdf_budget budget;
	struct kdf_account account;
};

static void kdf_meter_init(struct kdf_meter *m, const char *name, const struct luks_header *h)
{
	m->name = name;
	m->h = h;
	kdf_budget_default(&m->budget);
	m->account.spent = 0;
}

/* One try, charged first: -EDQUOT (said) when the volume's budget is spent. */
static int charged_key_get(struct crypt_device *cd, struct kdf_meter *m, int keyslot,
			   const char *guid, const struct secret_buf *secret, size_t len,
			   struct secret_buf *key)
{
	size_t size = key->capacity;
	int r;

	if (!kdf_account_spend(&m->account, header_policy_try_cost(m->h, keyslot, &m->budget))) {
		log_warn("%s: keyslot %d is not tried with secret %s: the volume's KDF budget "
			 "(twice one keyslot's) is spent", m->name, keyslot, guid);
		return -EDQUOT;
	}
	r = crypt_volume_key_get(cd, keyslot, (char *)key->data, &size, (const char *)secret->data, len);
	key->len = r >= 0 ? size : 0;
	return r;
}

static int volume_key_by(struct crypt_device *cd, struct kdf_meter *m, int keyslot, const char *guid,
			 const struct secret_buf *secret, struct secret_buf *key)
{
	int r;

	r = charged_key_get(cd, m, keyslot, guid, secret, secret->len, key);
	if (r == -EPERM && trailing_terminator(secret)) {
		log_debug("secret %s: trying again without its last byte", guid);
		r = charged_key_get(cd, m, keyslot, guid, secret, secret->len - 1, key);
	}
	return r;
}

/* -EKEYREJECTED: the key is not the one pinned; the header was replaced. */
static int check_pin(const struct config *cfg, const struct volume *v, struct crypt_device *cd,
		     const struct secret_buf *key)
{
	const char *pin = volume_pin(cfg, v);
	char id[VOLUME_KEY_ID_LEN + 1];
	int r;

	if (pin == NULL)
		return 0;
	volume_key_id(v->name, crypt_get_uuid(cd), key->data, key->len, id);
	r = memcmp_constant_time(id, pin, VOLUME_KEY_ID_LEN) == 0 ? 0 : -EKEYREJECTED;
	explicit_bzero(id, sizeof(id));
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
	else if (r == -EDQUOT)
		log_info("%s: secret %s (%s) was not tried: the volume's KDF budget is spent", v->name,
			 guid, key_rule_name(c->rule));
	else if (r == -ENOTSUP)
		log_err("%s: cannot create the mapping: no device-mapper or dm-crypt in the kernel",
			v->name);
	else if (r != -ENODATA && r != -EFBIG)
		log_err("%s: secret %s: %s", v->name, guid, strerror(-r));
}

static void log_flags(const struct volume *v)
{
	uint32_t f = activation_flags(&v->options);

	log_debug("%s: activation flags: ignore-persistent%s%s%s%s", v->name,
		  f & CRYPT_ACTIVATE_ALLOW_DISCARDS ? " allow-discards" : "",
		  f & CRYPT_ACTIVATE_READONLY ? " read-only" : "",
		  f & CRYPT_ACTIVATE_NO_READ_WORKQUEUE ? " no-read-workqueue" : "",
		  f & CRYPT_ACTIVATE_NO_WRITE_WORKQUEUE ? " no-write-workqueue" : "");
}

/*
 * The keyslots a candidate tries, in libcryptsetup's order for "any"
 * (priority high, then normal; never "ignore"): only those that passed.
 */
static size_t keyslot_order(const struct luks_header *h, const struct key_candidate *c,
			    const bool tried[LUKS2_KEYSLOTS], int order[LUKS2_KEYSLOTS])
{
	size_t n = 0;
	int pass, k;

	if (c->keyslot != ANY_KEYSLOT) {
		if (c->keyslot < LUKS2_KEYSLOTS && tried[c->keyslot])
			order[n++] = c->keyslot;
		return n;
	}
	for (pass = 2; pass >= 1; pass--)
		for (k = 0; k < LUKS2_KEYSLOTS; k++)
			if (tried[k] && luks_header_keyslot_priority(h, k) == pass)
				order[n++] = k;
	return n;
}

/*
 * The volume key, by the first of @c's keyslots the secret opens; one
 * over the budget is passed over for the next (which may cost less).
 */
static int volume_key_for(struct crypt_device *cd, struct kdf_meter *m, struct secret_area *area,
			  struct secret_mem *mem, const struct key_candidate *c,
			  const bool tried[LUKS2_KEYSLOTS])
{
	int order[LUKS2_KEYSLOTS], r = -EPERM;
	size_t i, n = keyslot_order(m->h, c, tried, order);
	bool made = false;

	for (i = 0; i < n && (r == -EPERM || r == -EDQUOT); i++) {
		r = volume_key_by(cd, m, order[i], area->guids[c->secret].str, &mem->secret, &mem->key);
		made |= r != -EDQUOT;
	}
	/* A wrong secret stays "does not open it" when any try was made. */
	if (r == -EDQUOT && made)
		r = -EPERM;
	return r;
}

/* One candidate: its volume key, the pin, then activation by that key. */
static int try_candidate(const struct config *cfg, const struct options *opts, const struct volume *v,
			 struct crypt_device *cd, struct kdf_meter *m, struct secret_area *area,
			 struct secret_mem *mem, const struct key_candidate *c,
			 const bool tried[LUKS2_KEYSLOTS])
{
	int r, keyslot;

	r = read_candidate(area, c, &mem->secret);
	if (r < 0)
		return r;
	keyslot = volume_key_for(cd, m, area, mem, c, tried);
	secret_buf_clear(&mem->secret);
	if (keyslot < 0)
		return keyslot;
	r = check_pin(cfg, v, cd, &mem->key);
	if (r == 0)
		log_flags(v);
	if (r == 0)
		r = crypt_activate_by_volume_key(cd, opts->dry_run ? NULL : v->name,
						 (const char *)mem->key.data, mem->key.len,
						 activation_flags(&v->options));
	secret_buf_clear(&mem->key);
	return r < 0 ? r : keyslot;
}

static int try_plan(const struct config *cfg, const struct options *opts, const struct volume *v,
		    struct crypt_device *cd, const struct luks_header *h, struct secret_area *area,
		    struct secret_mem *mem, const struct key_plan *plan, const bool tried[LUKS2_KEYSLOTS])
{
	struct kdf_meter meter;
	size_t i;

	kdf_meter_init(&meter, v->name, h);
	for (i = 0; i < plan->n; i++) {
		const struct key_candidate *c = &plan->c[i];
		int r = try_candidate(cfg, opts, v, cd, &meter, area, mem, c, tried);

		if (r >= 0) {
			log_info("%s: %s %s with secret %s (%s, keyslot %d)", v->name,
				 opts->dry_run ? "key verified for" : "unlocked", v->path,
				 area->guids[c->secret].str, key_rule_name(c->rule), r);
			return 0;
		}
		if (r == -EKEYREJECTED) {
			log_err("%s: secret %s opens keyslot of %s, but its volume key does not match "
				"the pin (fixate-volume-key): the header was replaced; refused", v->name,
				area->guids[c->secret].str, v->path);
			return r;
		}
		describe_failure(v, area, c, r);
	}
	return -EPERM;
}

/* ---- the whole story ------------------------------------------------------------------ */

/* Already active: ours only if it maps this device with this UUID. */
static int check_active(const struct volume *v, struct secret_area *area, const struct key_plan *plan)
{
	switch (mapping_state(v->name, v->uuid, v->path)) {
	case MAPPING_NONE:
		return 1;
	case MAPPING_OURS:
		/* Whoever opened it had its key: that secret is spent too. */
		log_info("%s: already active", v->name);
		mark_plan_used(area, plan);
		return 0;
	case MAPPING_OTHER:
		break;
	}
	log_err("%s: a mapping of that name is active on another device or volume; left alone",
		v->name);
	return -EEXIST;
}

static int open_with_plan(const struct config *cfg, const struct options *opts, struct volume *v,
			  struct secret_area *area, struct secret_mem *mem, struct luks_header *h,
			  struct coco_token *tokens, struct key_plan *plan)
{
	bool tried[LUKS2_KEYSLOTS];
	struct crypt_device *cd = NULL;
	int r;

	if (plan->n == 0) {
		log_err("%s: no secret for %s (no rd.coco.key, crypttab key, coco token or %s)",
			v->name, v->path, GUID_DISK_PASSPHRASE);
		return -ENOKEY;
	}
	if (check_macs(v, area, &mem->secret, h, tokens, plan) == 0) {
		log_err("%s: left closed for the passphrase prompt", v->name);
		return -EPERM;
	}
	r = check_policy(v, h, plan, tried);
	if (r == 0)
		r = load_private_copy(v, h, tried, &cd);
	if (r == 0)
		r = try_plan(cfg, opts, v, cd, h, area, mem, plan, tried);
	if (r < 0 && cd != NULL && r != -EKEYREJECTED)
		log_err("%s: no secret opened %s; left closed for the passphrase prompt", v->name, v->path);
	else if (r < 0)
		log_err("%s: left closed for the passphrase prompt", v->name);
	if (cd != NULL)
		crypt_free(cd);
	return r;
}

/* Sets v->state to VOLUME_OPEN or VOLUME_CLOSED. */
int unlock_volume(const struct config *cfg, const struct options *opts,
		  struct secret_area *area, struct secret_mem *mem, struct volume *v)
{
	struct coco_token tokens[MAX_TOKENS];
	struct luks_header h;
	struct key_plan plan;
	int r;

	v->state = VOLUME_CLOSED;
	r = read_header(v, &h);
	if (r < 0) {
		/* Refused like a wrong key: the secrets meant for it go too. */
		plan_for(cfg, v, area, NULL, tokens, &plan);
		mark_plan_used(area, &plan);
		luks_header_free(&h);
		return r;
	}
	plan_for(cfg, v, area, &h, tokens, &plan);
	mark_plan_used(area, &plan);
	r = opts->dry_run ? 1 : check_active(v, area, &plan);
	if (r > 0)
		r = open_with_plan(cfg, opts, v, area, mem, &h, tokens, &plan);
	if (r == 0)
		v->state = VOLUME_OPEN;
	luks_header_free(&h);
	return r;
}

/* A volume refused before its header was read: its secrets go all the same. */
void volume_refused(const struct config *cfg, struct secret_area *area, struct volume *v)
{
	struct coco_token tokens[MAX_TOKENS];
	struct key_plan plan;

	v->state = VOLUME_CLOSED;
	plan_for(cfg, v, area, NULL, tokens, &plan);
	mark_plan_used(area, &plan);
}

/* --wipe-only: the secrets a run would have chosen for this volume. */
int volume_mark_planned_secrets(const struct config *cfg, struct secret_area *area,
				struct volume *v)
{
	struct coco_token tokens[MAX_TOKENS];
	struct luks_header h;
	struct key_plan plan;
	bool have = v->path[0] != '\0' && read_header(v, &h) == 0;

	plan_for(cfg, v, area, have ? &h : NULL, tokens, &plan);
	mark_plan_used(area, &plan);
	if (v->path[0] != '\0')
		luks_header_free(&h);
	return (int)plan.n;
}
