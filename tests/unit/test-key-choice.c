// SPDX-License-Identifier: LGPL-2.1-or-later
/* Key choice: SPEC's order, first rule with a present secret wins. */
#include <string.h>

#include "coco-unlock.h"
#include "tap.h"

#define U1 "11111111-2222-3333-4444-555555555555"
#define GA "aaaaaaaa-0000-0000-0000-000000000001"
#define GB "bbbbbbbb-0000-0000-0000-000000000002"
#define GC "cccccccc-0000-0000-0000-000000000003"
#define GMISSING "dddddddd-0000-0000-0000-000000000004"

/* Secrets in sorted order, as secret_area_open_dir() lists them. */
static void make_area(struct secret_area *area, bool with_disk_guid)
{
	memset(area, 0, sizeof(*area));
	area->dirfd = -1;
	guid_parse(with_disk_guid ? GUID_DISK_PASSPHRASE : GC, &area->guids[0]);
	guid_parse(GA, &area->guids[1]);
	guid_parse(GB, &area->guids[2]);
	area->count = 3;
}

static const char *guid_of(const struct secret_area *a, const struct key_plan *p, size_t i)
{
	return a->guids[p->c[i].secret].str;
}

static void make_token(struct coco_token *t, const char *guid, int slot)
{
	memset(t, 0, sizeof(*t));
	guid_parse(guid, &t->guid);
	t->n_keyslots = 1;
	t->keyslots[0] = slot;
}

int main(void)
{
	struct volume v = { .uuid = U1, .name = "root" };
	struct coco_token tok[2];
	struct secret_area area;
	struct key_plan plan;
	struct config cfg;

	log_setup(false, false);
	config_init(&cfg);
	make_area(&area, true);

	tap_check(key_plan_build(&cfg, &v, &area, NULL, 0, &plan) == 1 &&
		  plan.c[0].rule == KEY_RULE_CONVENTIONAL && plan.c[0].keyslot == ANY_KEYSLOT,
		  "nothing named: the conventional GUID, any keyslot");
	tap_str_eq(guid_of(&area, &plan, 0), GUID_DISK_PASSPHRASE, "conventional GUID chosen");

	make_token(&tok[0], GA, 2);
	tap_check(key_plan_build(&cfg, &v, &area, tok, 1, &plan) == 1 &&
		  plan.c[0].rule == KEY_RULE_TOKEN && plan.c[0].keyslot == 2,
		  "a token beats the conventional GUID and fixes the keyslot");
	tap_str_eq(guid_of(&area, &plan, 0), GA, "token's GUID");

	make_token(&tok[1], GB, 5);
	tap_check(key_plan_build(&cfg, &v, &area, tok, 2, &plan) == 2 &&
		  plan.c[1].keyslot == 5, "two tokens, both tried");

	make_token(&tok[0], GMISSING, 1);
	tap_check(key_plan_build(&cfg, &v, &area, tok, 1, &plan) == 1 &&
		  plan.c[0].rule == KEY_RULE_CONVENTIONAL, "token with absent secret falls through");

	guid_parse(GB, &cfg.global_key);
	cfg.has_global_key = true;
	make_token(&tok[0], GA, 2);
	tap_check(key_plan_build(&cfg, &v, &area, tok, 1, &plan) == 1 &&
		  plan.c[0].rule == KEY_RULE_EXPLICIT && plan.c[0].keyslot == ANY_KEYSLOT,
		  "rd.coco.key beats a token");
	tap_str_eq(guid_of(&area, &plan, 0), GB, "global key's GUID");

	v.has_crypttab_key = true;
	guid_parse(GA, &v.crypttab_key);
	key_plan_build(&cfg, &v, &area, NULL, 0, &plan);
	tap_str_eq(guid_of(&area, &plan, 0), GA, "crypttab key beats the global rd.coco.key");

	config_add_key(&cfg, U1, &area.guids[0]);
	key_plan_build(&cfg, &v, &area, NULL, 0, &plan);
	tap_str_eq(guid_of(&area, &plan, 0), GUID_DISK_PASSPHRASE,
		   "rd.coco.key=UUID:GUID beats crypttab");

	config_init(&cfg);
	v.has_crypttab_key = false;
	guid_parse(GMISSING, &cfg.global_key);
	cfg.has_global_key = true;
	tap_check(key_plan_build(&cfg, &v, &area, NULL, 0, &plan) == 1 &&
		  plan.c[0].rule == KEY_RULE_CONVENTIONAL, "named key absent: falls through");

	config_init(&cfg);
	make_area(&area, false);
	tap_check(key_plan_build(&cfg, &v, &area, NULL, 0, &plan) == 0,
		  "no rule matches: nothing to try without try-all");
	cfg.try_all = true;
	tap_check(key_plan_build(&cfg, &v, &area, NULL, 0, &plan) == 3 &&
		  plan.c[0].rule == KEY_RULE_TRY_ALL, "try-all: every secret");

	make_token(&tok[0], GA, 2);
	tap_check(key_plan_build(&cfg, &v, &area, tok, 1, &plan) == 4 &&
		  plan.c[0].rule == KEY_RULE_TOKEN,
		  "try-all after the token; the token's secret again on every keyslot");
	return tap_done();
}
