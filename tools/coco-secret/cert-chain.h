/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The host's certificate chain, from AMD's root down to the PDH the
 * owner's session is made against (cert-chain.c), and AMD's keys built
 * in for each product (amd-certs.c).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "platform-cert.h"

struct amd_product {
	const char *name;
	const char *ark_b64;
	const char *ask_b64;
};

extern const struct amd_product amd_products[];

/* The order of sevctl export --full. */
enum chain_slot { SLOT_PDH, SLOT_PEK, SLOT_OCA, SLOT_CEK, SLOT_ASK, SLOT_ARK, CHAIN_SLOTS };

struct cert_chain {
	uint8_t *file;			/* the chain file's bytes */
	size_t file_len;
	uint8_t *anchor[2];		/* trusted ASK and ARK bytes */
	size_t anchor_len[2];
	struct platform_cert certs[CHAIN_SLOTS];
	const char *product;		/* built-in product whose keys verified it, or NULL */
};

struct chain_options {
	const char *path;		/* --pdh */
	const char *ark_path;		/* --ark / --ask: trust these instead */
	const char *ask_path;
	bool insecure;			/* --insecure-no-chain: take the PDH unverified */
};

/* 0 and @chain->certs[SLOT_PDH] verified (or taken, when insecure); -1 after saying why. */
int cert_chain_load(const struct chain_options *o, struct cert_chain *chain);
void cert_chain_free(struct cert_chain *chain);
/* A built-in product's certificate, decoded: its length, or -1. */
int amd_product_cert(const struct amd_product *p, bool ark, uint8_t *out, size_t room);
