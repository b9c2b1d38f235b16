/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The fuzz targets of the header: whatever luks_header_read() accepts goes
 * through everything coco-unlock does with a header before libcryptsetup:
 * tokens, keyslots, the policy (attached and detached), every token's
 * MAC, and the private copy.
 */
#pragma once

#include "header-policy.h"
#include "luks-header.h"
#include "token-mac.h"
#include "token.h"

static inline void fuzz_judge_header(const char *path)
{
	static const uint8_t secret[] = "a fuzzed secret of at least thirty-two bytes";
	struct coco_token tokens[8];
	bool active[LUKS2_KEYSLOTS];
	char why[LUKS_WHY_MAX], mac[TOKEN_MAC_HEX_LEN + 1];
	struct kdf_budget budget = {
		.pbkdf2_max_iterations = 1u << 24, .argon2_max_kib = 1u << 20,
		.argon2_max_work_kib = 1ull << 26, .argon2_max_threads = 64,
	};
	struct luks_header h;
	int i, n = 0;

	if (luks_header_read(path, &h, why) == 0) {
		if (h.version == 2)
			n = coco_tokens_from_json(h.json, tokens, 8);
		for (i = 0; i < n; i++) {
			token_mac_compute(&h, &tokens[i], secret, sizeof(secret) - 1, mac);
			token_mac_verify(&h, &tokens[i], secret, sizeof(secret) - 1);
		}
		luks_header_keyslots(&h, active);
		header_policy_check(&h, active, false, &budget, why);
		if (header_policy_check(&h, active, true, &budget, why) == 0)
			luks_header_snapshot(&h, path, active, why);
	}
	luks_header_free(&h);
}
