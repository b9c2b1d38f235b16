// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The header policy (header-policy.h): every rule refuses with a reason
 * that names the field, so a refused volume says why in one line.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/sysinfo.h>

#include <json-c/json.h>

#include "escape.h"
#include "header-policy.h"
#include "luks2-json.h"

#define KIB (1024ULL)
#define GIB_IN_KIB (1024ULL * 1024)
#define PBKDF2_MAX_ITERATIONS (1ULL << 24)
#define ARGON2_MAX_KIB (4 * GIB_IN_KIB)
#define ARGON2_MAX_WORK_KIB (64 * GIB_IN_KIB)
#define ARGON2_MAX_THREADS 64
#define AF_STRIPES 4000
#define LUKS2_KEYSLOTS_SIZE_MAX (128ULL * 1024 * 1024)

struct cipher_rule {
	const char *name;
	uint64_t key_bytes[3];
};

static const struct cipher_rule allowed_ciphers[] = {
	{ "aes-xts-plain64", { 32, 64 } },
	{ "serpent-xts-plain64", { 32, 64 } },
	{ "twofish-xts-plain64", { 32, 64 } },
	{ "aes-cbc-essiv:sha256", { 16, 24, 32 } },
	{ "serpent-cbc-essiv:sha256", { 16, 24, 32 } },
	{ "twofish-cbc-essiv:sha256", { 16, 24, 32 } },
};

static const char *const allowed_hashes[] = { "sha1", "sha256", "sha384", "sha512" };

/* kdf_budget_cap_memory(): a worker's share of the memory budget (agent/workers.c). */
static uint64_t argon2_cap_kib = UINT64_MAX;
/* kdf_budget_cap_pbkdf2(): a lower PBKDF2 budget, for tests only. */
static uint64_t pbkdf2_cap = PBKDF2_MAX_ITERATIONS;

static int refuse(char why[LUKS_WHY_MAX], const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int refuse(char why[LUKS_WHY_MAX], const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, LUKS_WHY_MAX, fmt, ap);
	va_end(ap);
	return -EPERM;
}

/* A host string, escaped, for a reason; "(none)" when absent. */
static const char *shown(const char *s, char *buf, size_t size)
{
	if (s == NULL)
		return "(none)";
	escape_untrusted(s, buf, size);
	return buf;
}

bool header_policy_cipher_allowed(const char *encryption, uint64_t key_bytes)
{
	size_t i, k;

	if (encryption == NULL)
		return false;
	for (i = 0; i < sizeof(allowed_ciphers) / sizeof(allowed_ciphers[0]); i++) {
		if (strcmp(encryption, allowed_ciphers[i].name) != 0)
			continue;
		for (k = 0; k < 3; k++)
			if (allowed_ciphers[i].key_bytes[k] != 0 && allowed_ciphers[i].key_bytes[k] == key_bytes)
				return true;
	}
	return false;
}

/* The name alone, whatever the key size. */
static bool cipher_name_allowed(const char *encryption)
{
	size_t i;

	for (i = 0; encryption != NULL && i < sizeof(allowed_ciphers) / sizeof(allowed_ciphers[0]); i++)
		if (strcmp(encryption, allowed_ciphers[i].name) == 0)
			return true;
	return false;
}

static bool hash_allowed(const char *hash)
{
	size_t i;

	for (i = 0; hash != NULL && i < sizeof(allowed_hashes) / sizeof(allowed_hashes[0]); i++)
		if (strcmp(hash, allowed_hashes[i]) == 0)
			return true;
	return false;
}

void kdf_budget_default(struct kdf_budget *b)
{
	unsigned long long kib = 0;
	char line[128];
	FILE *f;

	b->pbkdf2_max_iterations = pbkdf2_cap;
	b->argon2_max_work_kib = ARGON2_MAX_WORK_KIB;
	b->argon2_max_threads = ARGON2_MAX_THREADS;
	f = fopen("/proc/meminfo", "re");
	while (f != NULL && fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "MemAvailable: %llu kB", &kib) == 1)
			break;
	if (f != NULL)
		fclose(f);
	if (kib == 0) {
		struct sysinfo si;

		if (sysinfo(&si) == 0)
			kib = (unsigned long long)si.freeram * si.mem_unit / KIB;
	}
	b->argon2_max_kib = kib / 2 < ARGON2_MAX_KIB ? kib / 2 : ARGON2_MAX_KIB;
}

void kdf_budget_cap_memory(uint64_t kib)
{
	argon2_cap_kib = kib;
}

void kdf_budget_cap_pbkdf2(uint64_t iterations)
{
	if (iterations > 0 && iterations < pbkdf2_cap)
		pbkdf2_cap = iterations;
}

uint64_t header_policy_keyslot_memory(const struct luks_header *h, int keyslot)
{
	struct json_object *kdf;
	const char *type;
	uint64_t memory;

	if (h->version != 2)
		return 0;
	kdf = luks2_object(luks2_numbered(h->json, "keyslots", keyslot), "kdf");
	type = luks2_string(kdf, "type");
	if (type == NULL || (strcmp(type, "argon2i") != 0 && strcmp(type, "argon2id") != 0))
		return 0;
	return luks2_u64(kdf, "memory", UINT64_MAX, &memory) ? memory : 0;
}

/*
 * Cipher and mode names are letters, digits, '-', ':', '(' and ')'
 * ("aes-xts-plain64", "capi:xts(aes)-plain64"), and '_' of the kernel's
 * own names ("cipher_null", refused later by the allow-list with its own
 * reason): a blank or anything else is a host's attempt to smuggle words
 * into a dm-crypt table, where libcryptsetup copies the string as it is.
 */
static bool name_clean(const char *s)
{
	if (s == NULL || *s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      *s == '-' || *s == ':' || *s == '(' || *s == ')' || *s == '_'))
			return false;
	return true;
}

/*
 * "0", or digits without a leading zero, below @limit. libcryptsetup
 * takes these keys and references as numbers (atoi) and prints them back
 * ("%u"), so "00" and "0" would be two objects to us and one to it.
 */
static bool canonical_id(const char *s, uint64_t limit)
{
	uint64_t v = 0;

	if (s == NULL || *s == '\0' || (s[0] == '0' && s[1] != '\0') || strlen(s) > 9)
		return false;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	return v < limit;
}

/* Every member of an array of references ("keyslots", "segments") canonical. */
static bool canonical_refs(struct json_object *obj, const char *key, uint64_t limit)
{
	struct json_object *arr;
	size_t i, n;

	if (!json_object_object_get_ex(obj, key, &arr))
		return true;
	if (!json_object_is_type(arr, json_type_array))
		return false;
	n = json_object_array_length(arr);
	for (i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(arr, i);

		if (!json_object_is_type(e, json_type_string) ||
		    !canonical_id(json_object_get_string(e), limit))
			return false;
	}
	return true;
}

/* ---- LUKS2 ------------------------------------------------------------------- */

#define SEGMENTS_MAX 1000000

/*
 * The keys of keyslots, digests, segments and tokens, and every reference
 * to a keyslot or segment, as libcryptsetup writes them: canonical
 * decimals (canonical_id).
 */
static int check_numbering(struct json_object *json, char why[LUKS_WHY_MAX])
{
	static const struct { const char *section; uint64_t limit; } sections[] = {
		{ "keyslots", LUKS2_KEYSLOTS }, { "tokens", LUKS2_KEYSLOTS },
		{ "digests", SEGMENTS_MAX }, { "segments", SEGMENTS_MAX },
	};
	char buf[64];
	size_t i;

	for (i = 0; i < sizeof(sections) / sizeof(sections[0]); i++) {
		struct json_object *obj = luks2_object(json, sections[i].section);

		if (obj == NULL)
			continue;
		json_object_object_foreach(obj, key, val) {
			if (!canonical_id(key, sections[i].limit))
				return refuse(why, "its %s has a member named %s, not a canonical number",
					      sections[i].section, shown(key, buf, sizeof(buf)));
			if (!canonical_refs(val, "keyslots", LUKS2_KEYSLOTS) ||
			    !canonical_refs(val, "segments", SEGMENTS_MAX))
				return refuse(why, "%s %s refers to a keyslot or segment not by a canonical number",
					      sections[i].section, key);
		}
	}
	return 0;
}

/* Segment 0's and every keyslot's cipher: names, not words (name_clean). */
static int check_cipher_names(struct json_object *json, char why[LUKS_WHY_MAX])
{
	struct json_object *keyslots = luks2_object(json, "keyslots");
	const char *enc = luks2_string(luks2_numbered(json, "segments", 0), "encryption");
	char buf[160];

	if (enc != NULL && !name_clean(enc))
		return refuse(why, "segment 0: encryption %s has characters no cipher name has",
			      shown(enc, buf, sizeof(buf)));
	if (keyslots == NULL)
		return 0;
	json_object_object_foreach(keyslots, key, ks) {
		enc = luks2_string(luks2_object(ks, "area"), "encryption");
		if (enc != NULL && !name_clean(enc))
			return refuse(why, "keyslot %s: area encryption %s has characters no cipher name has",
				      key, shown(enc, buf, sizeof(buf)));
	}
	return 0;
}

static int check_requirements(struct json_object *json, char why[LUKS_WHY_MAX])
{
	struct json_object *config = luks2_object(json, "config"), *req, *mandatory, *m;
	char buf[64];

	if (config == NULL)
		return refuse(why, "its LUKS2 metadata has no config");
	if (!json_object_object_get_ex(config, "requirements", &req))
		return 0;
	mandatory = luks2_array(req, "mandatory");
	if (!json_object_is_type(req, json_type_object) ||
	    (json_object_object_get_ex(req, "mandatory", &m) && mandatory == NULL))
		return refuse(why, "its requirements are malformed");
	if (mandatory != NULL && json_object_array_length(mandatory) > 0) {
		m = json_object_array_get_idx(mandatory, 0);
		return refuse(why, "it requires %s (reencryption, or a feature coco-unlock does not allow)",
			      shown(json_object_get_string(m), buf, sizeof(buf)));
	}
	return 0;
}

static int check_segment(const struct luks_header *h, bool detached, const char **encryption,
			 char why[LUKS_WHY_MAX])
{
	struct json_object *segments = luks2_object(h->json, "segments"), *seg, *m;
	uint64_t sector, offset, tweak, ks_size = 0;
	const char *type;
	char buf[64];
	int n;

	n = segments ? json_object_object_length(segments) : 0;
	if (n != 1)
		return refuse(why, "it has %d data segments (one crypt segment is allowed)", n);
	seg = luks2_numbered(h->json, "segments", 0);
	if (seg == NULL)
		return refuse(why, "its data segment is not segment 0");
	type = luks2_string(seg, "type");
	if (type == NULL || strcmp(type, "crypt") != 0)
		return refuse(why, "segment 0 is of type %s, not crypt", shown(type, buf, sizeof(buf)));
	*encryption = luks2_string(seg, "encryption");
	if (!cipher_name_allowed(*encryption))
		return refuse(why, "segment 0: encryption %s is not allowed",
			      shown(*encryption, buf, sizeof(buf)));
	if (json_object_object_get_ex(seg, "integrity", &m))
		return refuse(why, "segment 0 has integrity protection, which is not allowed");
	if (json_object_object_get_ex(seg, "flags", &m) &&
	    (!json_object_is_type(m, json_type_array) || json_object_array_length(m) > 0))
		return refuse(why, "segment 0 has flags, which are not allowed");
	if (!luks2_u64(seg, "sector_size", 4096, &sector) ||
	    (sector != 512 && sector != 1024 && sector != 2048 && sector != 4096))
		return refuse(why, "segment 0 has a sector size other than 512, 1024, 2048 or 4096");
	if (!luks2_u64(seg, "iv_tweak", UINT64_MAX, &tweak) || tweak != 0)
		return refuse(why, "segment 0 has an IV tweak other than 0");
	if (!luks2_u64(seg, "offset", UINT64_MAX / 4, &offset) || offset % 512 != 0)
		return refuse(why, "segment 0 has no valid offset");
	luks2_u64(luks2_object(h->json, "config"), "keyslots_size", LUKS2_KEYSLOTS_SIZE_MAX, &ks_size);
	if (!detached && offset < 2 * h->hdr_size + ks_size)
		return refuse(why, "segment 0 starts inside the header");
	return 0;
}

static int check_kdf(struct json_object *kdf, const char *what, const struct kdf_budget *b,
		     char why[LUKS_WHY_MAX])
{
	const char *type = luks2_string(kdf, "type");
	uint64_t iterations, memory, threads;
	char buf[64];

	if (type != NULL && strcmp(type, "pbkdf2") == 0) {
		if (!hash_allowed(luks2_string(kdf, "hash")))
			return refuse(why, "%s: pbkdf2 hash %s is not allowed", what,
				      shown(luks2_string(kdf, "hash"), buf, sizeof(buf)));
		if (!luks2_u64(kdf, "iterations", UINT64_MAX, &iterations) || iterations == 0)
			return refuse(why, "%s: pbkdf2 has no valid iteration count", what);
		if (iterations > b->pbkdf2_max_iterations)
			return refuse(why, "%s: pbkdf2 iterations %llu are over the budget of %llu", what,
				      (unsigned long long)iterations,
				      (unsigned long long)b->pbkdf2_max_iterations);
		return 0;
	}
	if (type == NULL || (strcmp(type, "argon2i") != 0 && strcmp(type, "argon2id") != 0))
		return refuse(why, "%s: KDF %s is not allowed", what, shown(type, buf, sizeof(buf)));
	if (!luks2_u64(kdf, "time", UINT64_MAX, &iterations) || iterations == 0 ||
	    !luks2_u64(kdf, "memory", UINT64_MAX, &memory) || memory == 0 ||
	    !luks2_u64(kdf, "cpus", UINT64_MAX, &threads) || threads == 0)
		return refuse(why, "%s: %s has no valid time, memory or cpus", what, type);
	if (memory > b->argon2_max_kib)
		return refuse(why, "%s: %s memory %llu KiB is over the budget of %llu KiB (half of MemAvailable, at most 4 GiB)",
			      what, type, (unsigned long long)memory, (unsigned long long)b->argon2_max_kib);
	if (memory > argon2_cap_kib)
		return refuse(why, "%s: %s memory %llu KiB is more than this volume was granted beside the others (%llu KiB): its header changed after it was first read",
			      what, type, (unsigned long long)memory, (unsigned long long)argon2_cap_kib);
	if (iterations > b->argon2_max_work_kib / memory)
		return refuse(why, "%s: %s memory x time (%llu KiB x %llu) is over the budget of %llu KiB",
			      what, type, (unsigned long long)memory, (unsigned long long)iterations,
			      (unsigned long long)b->argon2_max_work_kib);
	if (threads > b->argon2_max_threads)
		return refuse(why, "%s: %s with %llu threads is over the budget of %llu", what, type,
			      (unsigned long long)threads, (unsigned long long)b->argon2_max_threads);
	return 0;
}

static int check_keyslot(const struct luks_header *h, int id, const char *segment_encryption,
			 const struct kdf_budget *b, char why[LUKS_WHY_MAX])
{
	struct json_object *ks = luks2_numbered(h->json, "keyslots", id), *area, *af;
	uint64_t key_size, area_key, stripes, off, len;
	const char *type, *enc;
	char what[32], buf[64];

	snprintf(what, sizeof(what), "keyslot %d", id);
	if (ks == NULL)
		return refuse(why, "%s does not exist", what);
	type = luks2_string(ks, "type");
	if (type == NULL || strcmp(type, "luks2") != 0)
		return refuse(why, "%s is of type %s, not luks2", what, shown(type, buf, sizeof(buf)));
	if (!luks2_u64(ks, "key_size", 1024, &key_size) ||
	    !header_policy_cipher_allowed(segment_encryption, key_size))
		return refuse(why, "segment 0: encryption %s with a %llu-bit key is not allowed",
			      shown(segment_encryption, buf, sizeof(buf)), (unsigned long long)key_size * 8);
	area = luks2_object(ks, "area");
	type = luks2_string(area, "type");
	if (type == NULL || strcmp(type, "raw") != 0)
		return refuse(why, "%s: area type %s is not raw", what, shown(type, buf, sizeof(buf)));
	enc = luks2_string(area, "encryption");
	if (!luks2_u64(area, "key_size", 1024, &area_key) || !header_policy_cipher_allowed(enc, area_key))
		return refuse(why, "%s: area encryption %s with a %llu-bit key is not allowed", what,
			      shown(enc, buf, sizeof(buf)), (unsigned long long)area_key * 8);
	af = luks2_object(ks, "af");
	type = luks2_string(af, "type");
	if (type == NULL || strcmp(type, "luks1") != 0 || !luks2_u64(af, "stripes", UINT32_MAX, &stripes) ||
	    stripes != AF_STRIPES)
		return refuse(why, "%s: anti-forensic split is not luks1 with %d stripes", what, AF_STRIPES);
	if (!hash_allowed(luks2_string(af, "hash")))
		return refuse(why, "%s: AF hash %s is not allowed", what,
			      shown(luks2_string(af, "hash"), buf, sizeof(buf)));
	if (!luks_header_keyslot_area(h, id, &off, &len) || len < key_size * AF_STRIPES)
		return refuse(why, "%s: its area is outside the keyslots area or too small", what);
	return check_kdf(luks2_object(ks, "kdf"), what, b, why);
}

/* Every digest that covers a tried keyslot: pbkdf2, allowed hash, budget. */
static int check_digests(const struct luks_header *h, const bool tried[LUKS2_KEYSLOTS],
			 const struct kdf_budget *b, char why[LUKS_WHY_MAX])
{
	struct json_object *digests = luks2_object(h->json, "digests");
	bool covered[LUKS2_KEYSLOTS] = { false };
	int i, r;

	/* One digest each: libcryptsetup and the MAC both take the first. */

	if (digests == NULL)
		return refuse(why, "its LUKS2 metadata has no digests");
	json_object_object_foreach(digests, key, d) {
		struct json_object *slots = luks2_array(d, "keyslots");
		bool relevant = false;
		char what[48];

		for (i = 0; i < LUKS2_KEYSLOTS; i++) {
			if (!tried[i] || !luks2_array_has_id(slots, i))
				continue;
			if (covered[i])
				return refuse(why, "keyslot %d is covered by more than one digest", i);
			relevant = covered[i] = true;
		}
		if (!relevant)
			continue;
		snprintf(what, sizeof(what), "digest %.8s", key);
		if (!luks2_array_has_id(luks2_array(d, "segments"), 0))
			return refuse(why, "%s does not cover segment 0", what);
		r = check_kdf(d, what, b, why);
		if (r < 0)
			return r;
	}
	for (i = 0; i < LUKS2_KEYSLOTS; i++)
		if (tried[i] && !covered[i])
			return refuse(why, "keyslot %d has no digest", i);
	return 0;
}

static int check_volume2(const struct luks_header *h, bool detached, char why[LUKS_WHY_MAX])
{
	const char *encryption = NULL;
	int r = check_numbering(h->json, why);

	if (r == 0)
		r = check_requirements(h->json, why);
	if (r == 0)
		r = check_cipher_names(h->json, why);
	if (r == 0)
		r = check_segment(h, detached, &encryption, why);
	return r;
}

static int check_keyslot2(const struct luks_header *h, int id, const struct kdf_budget *b,
			  char why[LUKS_WHY_MAX])
{
	bool tried[LUKS2_KEYSLOTS] = { false };
	int r;

	r = check_keyslot(h, id, luks2_string(luks2_numbered(h->json, "segments", 0), "encryption"), b, why);
	if (r < 0)
		return r;
	tried[id] = true;
	return check_digests(h, tried, b, why);
}

/* ---- LUKS1 ------------------------------------------------------------------- */

static int check_volume1(const struct luks_header *h, const struct kdf_budget *b,
			 char why[LUKS_WHY_MAX])
{
	const struct luks1_fields *f = &h->luks1;
	char encryption[72], buf[96];

	snprintf(encryption, sizeof(encryption), "%s-%s", f->cipher, f->mode);
	if (!name_clean(f->cipher) || !name_clean(f->mode))
		return refuse(why, "cipher %s has characters no cipher name has",
			      shown(encryption, buf, sizeof(buf)));
	if (!header_policy_cipher_allowed(encryption, f->key_bytes))
		return refuse(why, "cipher %s with a %llu-bit key is not allowed",
			      shown(encryption, buf, sizeof(buf)), (unsigned long long)f->key_bytes * 8);
	if (!hash_allowed(f->hash))
		return refuse(why, "hash %s is not allowed", shown(f->hash, buf, sizeof(buf)));
	if (f->digest_iterations == 0 || f->digest_iterations > b->pbkdf2_max_iterations)
		return refuse(why, "the volume key digest's %u iterations are outside 1 to %llu",
			      f->digest_iterations, (unsigned long long)b->pbkdf2_max_iterations);
	return 0;
}

static int check_keyslot1(const struct luks_header *h, int i, bool detached, const struct kdf_budget *b,
			  char why[LUKS_WHY_MAX])
{
	const struct luks1_keyslot *k = &h->luks1.keyslots[i];
	uint64_t off, len, data;

	luks_header_data_offset(h, &data);
	if (!k->active)
		return refuse(why, "keyslot %d is not enabled", i);
	if (k->iterations == 0 || k->iterations > b->pbkdf2_max_iterations)
		return refuse(why, "keyslot %d: pbkdf2 iterations %u are outside 1 to %llu", i,
			      k->iterations, (unsigned long long)b->pbkdf2_max_iterations);
	if (k->stripes != AF_STRIPES)
		return refuse(why, "keyslot %d: %u stripes, not %d", i, k->stripes, AF_STRIPES);
	if (!luks_header_keyslot_area(h, i, &off, &len) || (!detached && off + len > data))
		return refuse(why, "keyslot %d: its key material is outside the header", i);
	return 0;
}

int header_policy_check_volume(const struct luks_header *h, bool detached,
			       const struct kdf_budget *budget, char why[LUKS_WHY_MAX])
{
	return h->version == 1 ? check_volume1(h, budget, why) : check_volume2(h, detached, why);
}

int header_policy_check_keyslot(const struct luks_header *h, int keyslot, bool detached,
				const struct kdf_budget *budget, char why[LUKS_WHY_MAX])
{
	if (keyslot < 0 || keyslot >= (h->version == 1 ? LUKS1_KEYSLOTS : LUKS2_KEYSLOTS))
		return refuse(why, "keyslot %d does not exist", keyslot);
	if (h->version == 1)
		return check_keyslot1(h, keyslot, detached, budget, why);
	return check_keyslot2(h, keyslot, budget, why);
}

int header_policy_check(const struct luks_header *h, const bool tried[LUKS2_KEYSLOTS],
			bool detached, const struct kdf_budget *budget, char why[LUKS_WHY_MAX])
{
	int i, n = 0, r;

	r = header_policy_check_volume(h, detached, budget, why);
	for (i = 0; r == 0 && i < LUKS2_KEYSLOTS; i++)
		if (tried[i]) {
			n++;
			r = header_policy_check_keyslot(h, i, detached, budget, why);
		}
	if (r == 0 && n == 0)
		r = refuse(why, "no keyslot to try");
	return r;
}

/* ---- what the plugin path adds ------------------------------------------------- */

int header_policy_check_persistent_flags(const struct luks_header *h, char why[LUKS_WHY_MAX])
{
	struct json_object *config, *flags, *f;
	char buf[64];

	if (h->version != 2)
		return 0;
	config = luks2_object(h->json, "config");
	if (config == NULL || !json_object_object_get_ex(config, "flags", &flags))
		return 0;
	if (!json_object_is_type(flags, json_type_array))
		return refuse(why, "its persistent flags are malformed");
	if (json_object_array_length(flags) == 0)
		return 0;
	f = json_object_array_get_idx(flags, 0);
	return refuse(why, "it carries persistent flags (%s) that cryptsetup would apply; the "
		      "header is not the owner's to set them: put them in crypttab",
		      shown(json_object_get_string(f), buf, sizeof(buf)));
}

/* ---- a volume's KDF work --------------------------------------------------------- */

/* @part of @whole, in KDF_COST_UNIT units, rounded up. */
static uint64_t share(uint64_t part, uint64_t whole)
{
	if (whole == 0)
		return UINT64_MAX / 4;
	/* part and whole are within budgets far below 2^40: no overflow. */
	return (part * KDF_COST_UNIT + whole - 1) / whole;
}

/* One KDF (a keyslot's or a digest's), passed by check_kdf() before. */
static uint64_t kdf_cost(struct json_object *kdf, const struct kdf_budget *b)
{
	const char *type = luks2_string(kdf, "type");
	uint64_t iterations = 0, memory = 0;

	if (type != NULL && strcmp(type, "pbkdf2") == 0) {
		luks2_u64(kdf, "iterations", b->pbkdf2_max_iterations, &iterations);
		return share(iterations, b->pbkdf2_max_iterations);
	}
	luks2_u64(kdf, "time", UINT32_MAX, &iterations);
	luks2_u64(kdf, "memory", UINT32_MAX, &memory);
	return share(iterations * memory, b->argon2_max_work_kib);
}

uint64_t header_policy_try_cost(const struct luks_header *h, int keyslot,
				const struct kdf_budget *b)
{
	struct json_object *digests;
	uint64_t cost;

	if (h->version == 1)
		return share(h->luks1.keyslots[keyslot].iterations, b->pbkdf2_max_iterations) +
		       share(h->luks1.digest_iterations, b->pbkdf2_max_iterations);
	cost = kdf_cost(luks2_object(luks2_numbered(h->json, "keyslots", keyslot), "kdf"), b);
	digests = luks2_object(h->json, "digests");
	if (digests == NULL)
		return cost;
	json_object_object_foreach(digests, key, d) {
		(void)key;
		if (luks2_array_has_id(luks2_array(d, "keyslots"), keyslot))
			return cost + kdf_cost(d, b);
	}
	return cost;
}

bool kdf_account_spend(struct kdf_account *a, uint64_t cost)
{
	if (cost > KDF_VOLUME_BUDGET || a->spent > KDF_VOLUME_BUDGET - cost)
		return false;
	a->spent += cost;
	return true;
}
