/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What a LUKS header must be before any secret meets it. The host writes
 * the header; LUKS2 metadata is checksummed, not authenticated. A header
 * passes only with:
 *   - one data segment, of type crypt, encrypted with an allowed cipher
 *     and key size (no integrity, no flags), starting after the header
 *     and keyslots area unless the header is detached;
 *   - no mandatory requirement (reencryption, or anything unknown);
 *   - for every keyslot to be tried: type luks2 (LUKS1: enabled), an
 *     allowed area cipher and key size, AF luks1 with 4000 stripes and an
 *     allowed hash, and a KDF within the budget below;
 *   - for every digest of those keyslots: pbkdf2 with an allowed hash
 *     within the budget.
 * The volume rules refuse the volume; a keyslot that fails is not tried
 * (header_policy_check_keyslot), and the caller refuses the volume when
 * no keyslot is left.
 * Allowed ciphers: aes, serpent and twofish, in xts-plain64 (256- or
 * 512-bit keys) and cbc-essiv:sha256 (128, 192 or 256 bits): what
 * cryptsetup and installers format. Never cipher_null, null or ecb.
 * Allowed hashes: sha1, sha256, sha384, sha512.
 * The KDF budget (kdf_budget_default):
 *   - PBKDF2: at most 2^24 = 16,777,216 iterations (above what
 *     cryptsetup's 2-second benchmark picks on today's fastest CPUs);
 *   - argon2i/argon2id: memory at most half of MemAvailable and at most
 *     4 GiB (libcryptsetup's own limit), memory x iterations at most
 *     64 GiB (16 times the work of cryptsetup's default 1 GiB x 4), at
 *     most 64 threads.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "luks-header.h"

struct kdf_budget {
	uint64_t pbkdf2_max_iterations;
	uint64_t argon2_max_kib;		/* memory */
	uint64_t argon2_max_work_kib;		/* memory (KiB) x iterations */
	uint64_t argon2_max_threads;
};

/* The budget above, from this machine's /proc/meminfo (MemAvailable). */
void kdf_budget_default(struct kdf_budget *b);

/*
 * From now on an argon2 KDF over @kib of memory is refused too (with its
 * own reason), whatever the budget: what the agent granted a worker that
 * unlocks one volume beside others (agent/workers.c), so a header changed
 * between the agent's first read and the worker's cannot take more.
 * UINT64_MAX (the start): no cap.
 */
void kdf_budget_cap_memory(uint64_t kib);

/* For tests only: a PBKDF2 budget below 2^24 (a larger value changes nothing). */
void kdf_budget_cap_pbkdf2(uint64_t iterations);

/* The argon2 memory (KiB) of keyslot @keyslot; 0 for PBKDF2, LUKS1 or none. */
uint64_t header_policy_keyslot_memory(const struct luks_header *h, int keyslot);

/*
 * The volume as a whole (segment, requirements; LUKS1: cipher, hash and
 * digest): 0, or -EPERM and the reason in @why (host strings escaped).
 * @detached: the header is not on the data device, so the data may start
 * anywhere. A volume that fails is refused.
 */
int header_policy_check_volume(const struct luks_header *h, bool detached,
			       const struct kdf_budget *budget, char why[LUKS_WHY_MAX]);

/*
 * One keyslot and the digest that covers it: 0, or -EPERM and the reason.
 * A keyslot that fails is never tried; the volume may still open through
 * another.
 */
int header_policy_check_keyslot(const struct luks_header *h, int keyslot, bool detached,
				const struct kdf_budget *budget, char why[LUKS_WHY_MAX]);

/* Both: the volume and every keyslot in @tried. */
int header_policy_check(const struct luks_header *h, const bool tried[LUKS2_KEYSLOTS],
			bool detached, const struct kdf_budget *budget, char why[LUKS_WHY_MAX]);

/*
 * The plugin path only: cryptsetup and systemd-cryptsetup apply the
 * header's persistent flags (config.flags: allow-discards, ...), which
 * the host writes and neither this policy nor the MAC binds; a header
 * with any is refused (-EPERM and the reason). The agent ignores them
 * (CRYPT_ACTIVATE_IGNORE_PERSISTENT).
 */
int header_policy_check_persistent_flags(const struct luks_header *h, char why[LUKS_WHY_MAX]);

/*
 * A volume's KDF work, over every keyslot, secret and retry its tries
 * meet: one try of a keyslot costs its KDF plus its digest's, counted in
 * millionths of one keyslot's budget (KDF_COST_UNIT: 2^24 PBKDF2
 * iterations, or 64 GiB x iterations of argon2), and all the tries of
 * one volume together stay within KDF_VOLUME_BUDGET, twice that. Without
 * it a named secret met every keyslot that passed on its own: 8 keyslots
 * at the budget took 8 times as long, twice that with a retry.
 */
#define KDF_COST_UNIT 1000000ULL
#define KDF_VOLUME_BUDGET (2 * KDF_COST_UNIT)

struct kdf_account {
	uint64_t spent;
};

/* One try of keyslot @keyslot, which passed the policy. */
uint64_t header_policy_try_cost(const struct luks_header *h, int keyslot,
				const struct kdf_budget *budget);
/* Charges @cost: false (nothing charged) when it would go over the volume's budget. */
bool kdf_account_spend(struct kdf_account *a, uint64_t cost);

/* The cipher allow-list alone: "aes-xts-plain64" with a key of @key_bytes. */
bool header_policy_cipher_allowed(const char *encryption, uint64_t key_bytes);
