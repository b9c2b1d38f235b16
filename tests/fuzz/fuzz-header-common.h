/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The fuzz targets of the header: whatever luks_header_read() accepts goes
 * through everything coco-unlock does with a header before libcryptsetup:
 * tokens, keyslots, the policy (attached and detached), every token's
 * MAC, the KDF cost of each keyslot and the private copy; and the token
 * plugin's rules (persistent flags) on the same header.
 */
#pragma once

#include "header-policy.h"
#include "luks-header.h"
#include "token-mac.h"
#include "token.h"

static const struct kdf_budget fuzz_budget = {
	.pbkdf2_max_iterations = 1u << 24, .argon2_max_kib = 1u << 20,
	.argon2_max_work_kib = 1ull << 26, .argon2_max_threads = 64,
};

/* Tokens, MACs, the policy and the KDF costs; true when the policy passed (detached). */
static inline bool fuzz_judge(const struct luks_header *h, bool active[LUKS2_KEYSLOTS])
{
	static const uint8_t secret[] = "a fuzzed secret of at least thirty-two bytes";
	struct coco_token tokens[8];
	struct kdf_account account = { 0 };
	char why[LUKS_WHY_MAX], mac[TOKEN_MAC_HEX_LEN + 1];
	int i, n = 0;
	bool passed;

	if (h->version == 2)
		n = coco_tokens_from_json(h->json, tokens, 8);
	for (i = 0; i < n; i++) {
		token_mac_compute(h, &tokens[i], secret, sizeof(secret) - 1, mac);
		token_mac_verify(h, &tokens[i], secret, sizeof(secret) - 1);
	}
	luks_header_keyslots(h, active);
	header_policy_check(h, active, false, &fuzz_budget, why);
	header_policy_check_persistent_flags(h, why);
	passed = header_policy_check(h, active, true, &fuzz_budget, why) == 0;
	/* Costs are only asked of keyslots that passed. */
	for (i = 0; passed && i < LUKS2_KEYSLOTS; i++)
		if (active[i])
			kdf_account_spend(&account, header_policy_try_cost(h, i, &fuzz_budget));
	return passed;
}

static inline void fuzz_judge_header(const char *path)
{
	bool active[LUKS2_KEYSLOTS];
	char why[LUKS_WHY_MAX];
	struct luks_header h;

	if (luks_header_read(path, &h, why) == 0 && fuzz_judge(&h, active))
		luks_header_snapshot(&h, path, active, why);
	luks_header_free(&h);
}

/* The plugin's path: the same metadata as libcryptsetup would hold it. */
static inline void fuzz_judge_loaded(const char *uuid, uint64_t hdr_size, const char *json)
{
	bool active[LUKS2_KEYSLOTS];
	char why[LUKS_WHY_MAX];
	struct luks_header h;

	if (luks_header_from_loaded(&h, uuid, hdr_size, json, why) == 0)
		fuzz_judge(&h, active);
	luks_header_free(&h);
}
