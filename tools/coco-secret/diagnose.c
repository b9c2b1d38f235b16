// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Why a measurement does not match. Most mismatches are not an attack
 * but a launch that differs from the owner's expectation in one of a few
 * ways the host chooses: the vCPU count, the VMSA's FPU fields (which
 * KVM init call QEMU used), the DebugSwap feature a host kernel may turn
 * on, the -cpu model. Each is tried (SEV-ES; SEV has no vCPU state in
 * its digest) and the one whose digest the host's MEASURE proves is
 * named; if none, what is left is the firmware, kernel, initrd or
 * command line.
 */
#include <stdio.h>
#include <string.h>

#include "coco-secret.h"
#include "launch-args.h"

struct diagnosis {
	const struct launch_blob *blob;
	const struct secret_buf *tik;
	const struct platform_info *pi;
	const struct vcpu_config *expected;
};

static const char *fpu_name(enum vmsa_fpu f)
{
	return f == VMSA_FPU_INIT2 ? "init2 (KVM_SEV_INIT2)" : "legacy (KVM_SEV_ES_INIT)";
}

static void sig_text(uint32_t sig, char *buf, size_t size)
{
	const char *name = vcpu_name_of_sig(sig);

	snprintf(buf, size, "%s%s0x%x%s", name ? name : "", name ? " (" : "", sig, name ? ")" : "");
}

/* One clause per way the host's launch differs from the expected one. */
static void say_found(const struct vcpu_config *want, const struct vcpu_config *got)
{
	char a[48], b[48];

	err("not verified: the host's measurement matches your launch with these differences:");
	if (got->vcpus != want->vcpus)
		err("  the host launched %u vCPUs, you expected %u (--vcpus)", got->vcpus,
		    want->vcpus);
	if (got->fpu != want->fpu)
		err("  its KVM built the VMSAs as --vmsa-fpu %s, you expected %s",
		    fpu_name(got->fpu), fpu_name(want->fpu));
	if (got->guest_features != want->guest_features)
		err("  its vCPUs have SEV features 0x%llx (DebugSwap %s), you expected 0x%llx "
		    "(--guest-features)", (unsigned long long)got->guest_features,
		    got->guest_features & SEV_FEATURE_DEBUG_SWAP ? "on" : "off",
		    (unsigned long long)want->guest_features);
	if (got->vcpu_sig != want->vcpu_sig) {
		sig_text(got->vcpu_sig, a, sizeof(a));
		sig_text(want->vcpu_sig, b, sizeof(b));
		err("  its vCPU type is %s, you expected %s (--vcpu-type)", a, b);
	}
	err("if that launch is acceptable, verify it with those options; nothing was sent");
}

/* 1 and *@found when some count of vCPUs of @kind matches, 0 when none, -1 on error. */
static int try_kind(const struct diagnosis *d, const struct launch_prefix *p,
		    const struct vcpu_config *kind, struct vcpu_config *found)
{
	uint8_t digests[DIAGNOSE_MAX_VCPUS][SHA256_LEN];
	unsigned n;

	if (launch_digest_counts(p, kind, DIAGNOSE_MAX_VCPUS, digests) < 0)
		return -1;
	for (n = 0; n < DIAGNOSE_MAX_VCPUS; n++) {
		int r = launch_blob_matches(d->blob, d->tik, d->pi, digests[n]);

		if (r < 0)
			return -1;
		if (r) {
			*found = *kind;
			found->vcpus = n + 1;
			return 1;
		}
	}
	return 0;
}

#define CHANGE_FPU 1u
#define CHANGE_DEBUG_SWAP 2u
#define CHANGE_TYPE 4u

/* @kind with the changes of @mask, and for CHANGE_TYPE each other vCPU type. */
static int try_changes(const struct diagnosis *d, const struct launch_prefix *p,
		       unsigned mask, struct vcpu_config *found)
{
	const struct vcpu_config *want = d->expected;
	struct vcpu_config kind = *want;
	const struct vcpu_type *t;
	int r;

	if (mask & CHANGE_FPU)
		kind.fpu = want->fpu == VMSA_FPU_LEGACY ? VMSA_FPU_INIT2 : VMSA_FPU_LEGACY;
	if (mask & CHANGE_DEBUG_SWAP)
		kind.guest_features ^= SEV_FEATURE_DEBUG_SWAP;
	if (!(mask & CHANGE_TYPE))
		return try_kind(d, p, &kind, found);
	for (t = vcpu_families; t->name; t++) {
		if (t->sig == want->vcpu_sig)
			continue;
		kind.vcpu_sig = t->sig;
		r = try_kind(d, p, &kind, found);
		if (r)
			return r;
	}
	return 0;
}

/* Fewest changes first: the likeliest explanation is the one named. */
static int search(const struct diagnosis *d, const struct launch_prefix *p,
		  struct vcpu_config *found)
{
	static const unsigned order[] = {
		0, CHANGE_FPU, CHANGE_DEBUG_SWAP, CHANGE_TYPE,
		CHANGE_FPU | CHANGE_DEBUG_SWAP, CHANGE_FPU | CHANGE_TYPE,
		CHANGE_DEBUG_SWAP | CHANGE_TYPE, CHANGE_FPU | CHANGE_DEBUG_SWAP | CHANGE_TYPE,
	};
	size_t i;
	int r;

	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		r = try_changes(d, p, order[i], found);
		if (r)
			return r;
	}
	return 0;
}

void diagnose_mismatch(const struct measure_input *in, const struct launch_blob *blob,
		       const struct secret_buf *tik, const struct platform_info *pi)
{
	struct diagnosis d = { blob, tik, pi, &in->cpu };
	struct vcpu_config found;
	struct launch_prefix *p;
	int r = 0;

	if (in->mode == SEV_MODE_SEVES) {
		p = launch_prefix_new(in);
		r = p ? search(&d, p, &found) : -1;
		launch_prefix_free(p);
		if (r > 0) {
			say_found(&in->cpu, &found);
			return;
		}
		if (r == 0)
			err("not verified: no vCPU count (1-%d), --vmsa-fpu, DebugSwap or vCPU type "
			    "explains the host's measurement", DIAGNOSE_MAX_VCPUS);
	}
	err("not verified: the host's firmware, kernel, initrd or command line differ from yours "
	    "(or the TIK, API version, build ID or policy given are not this launch's)");
}
