// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The host's chain, as sevctl export --full writes it: PDH, PEK, OCA,
 * CEK (SEV format, 2084 bytes each), then ASK and ARK (AMD's CA format),
 * or the first four alone. What holds on a genuine platform:
 *   ARK signs itself and the ASK; the ASK signs the CEK (the chip's key,
 *   so the platform is AMD's); the OCA signs itself; the CEK and the OCA
 *   each sign the PEK; the PEK signs the PDH.
 * The ARK and ASK the host sends are never trusted by themselves: they
 * must be the ones built in for a product (or the owner's --ark/--ask),
 * byte for byte, or the host could bring its own root.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "coco-secret.h"
#include "cert-chain.h"
#include "sev.h"

#define MAX_CHAIN_FILE (4 * SEV_CERT_SIZE + 2 * 1600)
#define MAX_CA_CERT 1600

static const char *const slot_names[CHAIN_SLOTS] = { "PDH", "PEK", "OCA", "CEK", "ASK", "ARK" };
static const uint32_t slot_usages[CHAIN_SLOTS] = {
	SEV_USAGE_PDH, SEV_USAGE_PEK, SEV_USAGE_OCA, SEV_USAGE_CEK, CA_USAGE_ASK, CA_USAGE_ARK,
};

/* Public certificates: plain memory, not locked. */
static int read_small_file(const char *what, const char *path, size_t max, uint8_t **out,
			   size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	ssize_t n = 0;

	if (fd < 0) {
		err("%s %s: %s", what, path, strerror(errno));
		return -1;
	}
	*len = 0;
	*out = malloc(max + 1);
	while (*out && *len <= max) {
		n = read(fd, *out + *len, max + 1 - *len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		*len += (size_t)n;
	}
	close(fd);
	if (*out == NULL || n < 0 || *len > max) {
		err("%s %s: %s", what, path, *len > max ? "too large for a certificate chain" :
		    "cannot read it");
		free(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

int amd_product_cert(const struct amd_product *p, bool ark, uint8_t *out, size_t room)
{
	return base64_decode(ark ? p->ark_b64 : p->ask_b64, out, room);
}

static int parse_slot(struct cert_chain *ch, const char *path, enum chain_slot s,
		      const uint8_t *p, size_t len)
{
	if (platform_cert_parse(p, len, &ch->certs[s]) < 0) {
		err("chain %s: the %s (certificate %d) is truncated, foreign or has an unusable key",
		    path, slot_names[s], s + 1);
		return -1;
	}
	if (ch->certs[s].usage != slot_usages[s]) {
		err("chain %s: certificate %d is not a %s (its usage is 0x%x)", path, s + 1,
		    slot_names[s], ch->certs[s].usage);
		return -1;
	}
	return 0;
}

/* The four SEV certificates, then maybe ASK and ARK of one size. */
static int split_chain(struct cert_chain *ch, const char *path, bool insecure)
{
	size_t rest, ca, i;

	if (insecure && ch->file_len == SEV_CERT_SIZE)
		return parse_slot(ch, path, SLOT_PDH, ch->file, SEV_CERT_SIZE);
	if (ch->file_len < 4 * SEV_CERT_SIZE)
		goto bad;
	rest = ch->file_len - 4 * SEV_CERT_SIZE;
	ca = rest / 2;
	if (rest != 0 && rest != 2 * 832 && rest != 2 * 1600)
		goto bad;
	for (i = 0; i < 4; i++)
		if (parse_slot(ch, path, i, ch->file + i * SEV_CERT_SIZE, SEV_CERT_SIZE) < 0)
			return -1;
	for (i = 0; rest && i < 2; i++)
		if (parse_slot(ch, path, SLOT_ASK + i, ch->file + 4 * SEV_CERT_SIZE + i * ca, ca) < 0)
			return -1;
	return 0;
bad:
	err("chain %s: %zu bytes is not sevctl export's layout (PDH, PEK, OCA, CEK, then "
	    "optionally ASK and ARK)", path, ch->file_len);
	return -1;
}

static void drop_anchors(struct cert_chain *ch)
{
	int i;

	for (i = 0; i < 2; i++) {
		platform_cert_free(&ch->certs[SLOT_ASK + i]);
		free(ch->anchor[i]);
		ch->anchor[i] = NULL;
	}
}

static int take_anchor(struct cert_chain *ch, int i, uint8_t *bytes, size_t len,
		       const char *what)
{
	enum chain_slot s = SLOT_ASK + i;
	const uint8_t *sent = ch->certs[s].raw;
	size_t sent_len = ch->certs[s].len;

	ch->anchor[i] = bytes;
	ch->anchor_len[i] = len;
	if (sent && (sent_len != len || memcmp(sent, bytes, len) != 0)) {
		err("chain: the host's %s is not %s", slot_names[s], what);
		return -1;
	}
	platform_cert_free(&ch->certs[s]);
	if (platform_cert_parse(bytes, len, &ch->certs[s]) < 0 || ch->certs[s].usage != slot_usages[s]) {
		err("%s: not an AMD %s certificate", what, slot_names[s]);
		return -1;
	}
	return 0;
}

static int check_pair(const struct cert_chain *ch, enum chain_slot signer, enum chain_slot signee)
{
	if (platform_cert_signs(&ch->certs[signer], &ch->certs[signee]))
		return 0;
	if (signer == signee)
		err("chain: the %s does not sign itself", slot_names[signer]);
	else
		err("chain: the %s does not sign the %s", slot_names[signer], slot_names[signee]);
	return -1;
}

static int check_links(const struct cert_chain *ch)
{
	static const enum chain_slot pairs[][2] = {
		{ SLOT_ARK, SLOT_ARK }, { SLOT_ARK, SLOT_ASK }, { SLOT_ASK, SLOT_CEK },
		{ SLOT_OCA, SLOT_OCA }, { SLOT_OCA, SLOT_PEK }, { SLOT_CEK, SLOT_PEK },
		{ SLOT_PEK, SLOT_PDH },
	};
	size_t i;

	for (i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++)
		if (check_pair(ch, pairs[i][0], pairs[i][1]) < 0)
			return -1;
	return 0;
}

static int owner_anchors(struct cert_chain *ch, const struct chain_options *o)
{
	uint8_t *ask, *ark;
	size_t ask_len, ark_len;

	if (read_small_file("ASK", o->ask_path, MAX_CA_CERT, &ask, &ask_len) < 0)
		return -1;
	if (read_small_file("ARK", o->ark_path, MAX_CA_CERT, &ark, &ark_len) < 0) {
		free(ask);
		return -1;
	}
	if (take_anchor(ch, 0, ask, ask_len, "the --ask file") < 0 ||
	    take_anchor(ch, 1, ark, ark_len, "the --ark file") < 0)
		return -1;
	return check_links(ch);
}

/* The product whose built-in ASK signed the CEK; its keys then anchor the chain. */
static int builtin_anchors(struct cert_chain *ch)
{
	const struct amd_product *p;
	struct platform_cert ask;
	uint8_t *buf;
	int n;

	for (p = amd_products; p->name; p++) {
		buf = malloc(MAX_CA_CERT + 3);
		n = buf ? amd_product_cert(p, false, buf, MAX_CA_CERT + 3) : -1;
		if (n < 0 || platform_cert_parse(buf, (size_t)n, &ask) < 0) {
			free(buf);
			continue;
		}
		if (platform_cert_signs(&ask, &ch->certs[SLOT_CEK])) {
			platform_cert_free(&ask);
			ch->product = p->name;
			if (take_anchor(ch, 0, buf, (size_t)n, "AMD's ASK for that product") < 0)
				return -1;
			buf = malloc(MAX_CA_CERT + 3);
			n = buf ? amd_product_cert(p, true, buf, MAX_CA_CERT + 3) : -1;
			if (n < 0 || take_anchor(ch, 1, buf, (size_t)n, "AMD's ARK for that product") < 0)
				return -1;
			return check_links(ch);
		}
		platform_cert_free(&ask);
		free(buf);
	}
	err("chain: no built-in AMD signing key (naples, rome, milan, genoa, turin) signs its CEK: "
	    "not a genuine AMD platform, or a product to give with --ark and --ask");
	return -1;
}

int cert_chain_load(const struct chain_options *o, struct cert_chain *ch)
{
	int r;

	memset(ch, 0, sizeof(*ch));
	if (read_small_file("chain", o->path, MAX_CHAIN_FILE, &ch->file, &ch->file_len) < 0)
		return -1;
	r = split_chain(ch, o->path, o->insecure);
	if (r == 0 && !o->insecure)
		r = o->ark_path ? owner_anchors(ch, o) : builtin_anchors(ch);
	if (r < 0)
		cert_chain_free(ch);
	return r;
}

void cert_chain_free(struct cert_chain *ch)
{
	int i;

	drop_anchors(ch);
	for (i = 0; i < CHAIN_SLOTS; i++)
		platform_cert_free(&ch->certs[i]);
	free(ch->file);
	ch->file = NULL;
}
