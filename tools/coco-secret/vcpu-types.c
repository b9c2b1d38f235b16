// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * QEMU's AMD CPU models and the CPUID signature each one reports: KVM
 * puts the signature in the initial rdx of every vCPU, so the SEV-ES and
 * SNP VMSAs, and with them the launch digest, depend on the -cpu model.
 */
#include <string.h>

#include "sev.h"

/*
 * CPUID Fn0000_0001_EAX (AMD pub. 25481): stepping in 3:0, base model
 * in 7:4, base family in 11:8 (0xf for families above 15), extended
 * model in 19:16, extended family (family - 0xf) in 27:20.
 */
uint32_t vcpu_sig_from_fms(unsigned family, unsigned model, unsigned stepping)
{
	unsigned fam_lo = family > 0xf ? 0xf : family;
	unsigned fam_hi = family > 0xf ? (family - 0xf) & 0xff : 0;

	return fam_hi << 20 | ((model >> 4) & 0xf) << 16 | fam_lo << 8 | (model & 0xf) << 4 |
	       (stepping & 0xf);
}

#define SIG(f, m, s) (((f) > 0xf ? ((f) - 0xf) << 20 | 0xf00 : (f) << 8) | \
		      ((m) >> 4) << 16 | ((m) & 0xf) << 4 | (s))

/* One name per signature, first: the diagnosis walks these. */
const struct vcpu_type vcpu_families[] = {
	{ "EPYC", SIG(23, 1, 2) },
	{ "EPYC-Rome", SIG(23, 49, 0) },
	{ "EPYC-Milan", SIG(25, 1, 1) },
	{ "EPYC-Genoa", SIG(25, 17, 0) },
	{ "EPYC-Turin", SIG(26, 0, 0) },
	{ NULL, 0 }
};

/* QEMU's versioned aliases of those models (builtin_x86_defs). */
static const struct vcpu_type vcpu_aliases[] = {
	{ "EPYC-v1", SIG(23, 1, 2) },
	{ "EPYC-v2", SIG(23, 1, 2) },
	{ "EPYC-IBPB", SIG(23, 1, 2) },
	{ "EPYC-v3", SIG(23, 1, 2) },
	{ "EPYC-v4", SIG(23, 1, 2) },
	{ "EPYC-v5", SIG(23, 1, 2) },
	{ "EPYC-Rome-v1", SIG(23, 49, 0) },
	{ "EPYC-Rome-v2", SIG(23, 49, 0) },
	{ "EPYC-Rome-v3", SIG(23, 49, 0) },
	{ "EPYC-Rome-v4", SIG(23, 49, 0) },
	{ "EPYC-Rome-v5", SIG(23, 49, 0) },
	{ "EPYC-Milan-v1", SIG(25, 1, 1) },
	{ "EPYC-Milan-v2", SIG(25, 1, 1) },
	{ "EPYC-Milan-v3", SIG(25, 1, 1) },
	{ "EPYC-Genoa-v1", SIG(25, 17, 0) },
	{ "EPYC-Genoa-v2", SIG(25, 17, 0) },
	{ "EPYC-Turin-v1", SIG(26, 0, 0) },
	{ NULL, 0 }
};

static bool find(const struct vcpu_type *t, const char *name, uint32_t *sig)
{
	for (; t->name; t++)
		if (strcasecmp(t->name, name) == 0) {
			*sig = t->sig;
			return true;
		}
	return false;
}

bool vcpu_sig_by_name(const char *name, uint32_t *sig)
{
	return find(vcpu_families, name, sig) || find(vcpu_aliases, name, sig);
}

const char *vcpu_name_of_sig(uint32_t sig)
{
	const struct vcpu_type *t;

	for (t = vcpu_families; t->name; t++)
		if (t->sig == sig)
			return t->name;
	return NULL;
}
