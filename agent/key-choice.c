// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Which secrets to try on a volume, in SPEC order; the first rule that
 * names a secret present in the area wins:
 *   1. rd.coco.key=UUID:GUID, the crypttab key file, rd.coco.key=GUID;
 *   2. the volume's coco-efi-secret tokens (their keyslots only);
 *   3. the conventional disk-passphrase GUID;
 * and with rd.coco.try-all, every other secret against every keyslot.
 */
#include <string.h>

#include "coco-unlock.h"

const char *key_rule_name(enum key_rule rule)
{
	switch (rule) {
	case KEY_RULE_EXPLICIT:
		return "named key";
	case KEY_RULE_TOKEN:
		return "token";
	case KEY_RULE_CONVENTIONAL:
		return "disk-passphrase GUID";
	case KEY_RULE_TRY_ALL:
		return "try-all";
	}
	return "?";
}

static bool plan_has(const struct key_plan *plan, size_t secret, int keyslot)
{
	size_t i;

	for (i = 0; i < plan->n; i++)
		if (plan->c[i].secret == secret &&
		    (plan->c[i].keyslot == keyslot || plan->c[i].keyslot == ANY_KEYSLOT))
			return true;
	return false;
}

static bool plan_add(struct key_plan *plan, enum key_rule rule, int secret, int keyslot, int token)
{
	if (secret < 0 || plan_has(plan, (size_t)secret, keyslot) || plan->n == ARRAY_SIZE(plan->c))
		return false;
	plan->c[plan->n].rule = rule;
	plan->c[plan->n].secret = (size_t)secret;
	plan->c[plan->n].keyslot = keyslot;
	plan->c[plan->n].token = token;
	plan->n++;
	return true;
}

/* The most specific named key: per-volume parameter, crypttab, global. */
static const struct guid *explicit_key(const struct config *cfg, const struct volume *v)
{
	size_t i;

	for (i = 0; i < cfg->n_keys; i++)
		if (v->uuid[0] != '\0' && strcmp(cfg->keys[i].uuid, v->uuid) == 0)
			return &cfg->keys[i].guid;
	if (v->has_crypttab_key)
		return &v->crypttab_key;
	if (cfg->has_global_key)
		return &cfg->global_key;
	return NULL;
}

static void add_explicit(struct key_plan *plan, const struct config *cfg,
			 const struct volume *v, const struct secret_area *area, bool say)
{
	const struct guid *key = explicit_key(cfg, v);

	if (key == NULL)
		return;
	if (!plan_add(plan, KEY_RULE_EXPLICIT, secret_area_find(area, key), ANY_KEYSLOT, -1) && say)
		log_warn("%s: the secret %s named for it is not present", volume_label(v), key->str);
}

static void add_tokens(struct key_plan *plan, const struct volume *v,
		       const struct secret_area *area, const struct coco_token *tokens,
		       size_t n_tokens, bool say)
{
	size_t i, k;

	for (i = 0; i < n_tokens; i++) {
		int secret;

		if (tokens[i].malformed) {
			if (say)
				log_warn("%s: token %d is malformed, ignored", volume_label(v),
					 tokens[i].token_id);
			continue;
		}
		secret = secret_area_find(area, &tokens[i].guid);
		if (secret < 0) {
			if (say)
				log_info("%s: token %d names secret %s, which is not present",
					 volume_label(v), tokens[i].token_id, tokens[i].guid.str);
			continue;
		}
		for (k = 0; k < tokens[i].n_keyslots; k++)
			plan_add(plan, KEY_RULE_TOKEN, secret, tokens[i].keyslots[k], (int)i);
	}
}

static void add_conventional(struct key_plan *plan, const struct secret_area *area)
{
	struct guid disk;

	guid_parse(GUID_DISK_PASSPHRASE, &disk);
	plan_add(plan, KEY_RULE_CONVENTIONAL, secret_area_find(area, &disk), ANY_KEYSLOT, -1);
}

static int plan_build(const struct config *cfg, const struct volume *v,
		      const struct secret_area *area, const struct coco_token *tokens,
		      size_t n_tokens, struct key_plan *plan, bool say)
{
	size_t i;

	memset(plan, 0, sizeof(*plan));
	add_explicit(plan, cfg, v, area, say);
	if (plan->n == 0)
		add_tokens(plan, v, area, tokens, n_tokens, say);
	if (plan->n == 0)
		add_conventional(plan, area);
	if (cfg->try_all)
		for (i = 0; i < area->count; i++)
			plan_add(plan, KEY_RULE_TRY_ALL, (int)i, ANY_KEYSLOT, -1);
	return (int)plan->n;
}

int key_plan_build(const struct config *cfg, const struct volume *v,
		   const struct secret_area *area, const struct coco_token *tokens,
		   size_t n_tokens, struct key_plan *plan)
{
	return plan_build(cfg, v, area, tokens, n_tokens, plan, true);
}

/* The same plan without a word: the parent's look ahead (workers.c). */
int key_plan_preview(const struct config *cfg, const struct volume *v,
		     const struct secret_area *area, const struct coco_token *tokens,
		     size_t n_tokens, struct key_plan *plan)
{
	return plan_build(cfg, v, area, tokens, n_tokens, plan, false);
}
