// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * From the measure options to what the digest needs: the firmware and
 * its footer table, the kernel/initrd/command-line hashes, the vCPUs.
 * Combinations QEMU would not launch are refused here, before any file
 * is read, so a typo never turns into a digest that looks plausible.
 */
#include <string.h>

#include "coco-secret.h"
#include "launch-args.h"

#define VCPU_OPTS (LOPT_BIT(LOPT_VCPUS) | LOPT_BIT(LOPT_VCPU_TYPE) | LOPT_BIT(LOPT_VCPU_SIG) | \
		   LOPT_BIT(LOPT_VCPU_FAMILY) | LOPT_BIT(LOPT_VCPU_MODEL) | \
		   LOPT_BIT(LOPT_VCPU_STEPPING) | LOPT_BIT(LOPT_VMSA_FPU) | \
		   LOPT_BIT(LOPT_GUEST_FEATURES))
#define FMS_OPTS (LOPT_BIT(LOPT_VCPU_FAMILY) | LOPT_BIT(LOPT_VCPU_MODEL) | \
		  LOPT_BIT(LOPT_VCPU_STEPPING))

bool measure_options_given(const struct launch_args *a)
{
	return (a->seen & LOPTS_MEASURE) != 0;
}

static int choose_sig(const struct launch_args *a, uint32_t *sig)
{
	int ways = has(a, LOPT_VCPU_TYPE) + has(a, LOPT_VCPU_SIG) + ((a->seen & FMS_OPTS) != 0);

	if (ways != 1)
		return launch_usage("give the vCPU type once: --vcpu-type, --vcpu-sig, or "
				    "--vcpu-family with --vcpu-model and --vcpu-stepping", NULL);
	if (has(a, LOPT_VCPU_TYPE)) {
		if (!vcpu_sig_by_name(str(a, LOPT_VCPU_TYPE), sig))
			return launch_usage("unknown --vcpu-type (EPYC, EPYC-Rome, EPYC-Milan, "
					    "EPYC-Genoa, EPYC-Turin and their -vN)",
					    str(a, LOPT_VCPU_TYPE));
	} else if (has(a, LOPT_VCPU_SIG)) {
		*sig = (uint32_t)num(a, LOPT_VCPU_SIG);
	} else if ((a->seen & FMS_OPTS) != FMS_OPTS) {
		return launch_usage("--vcpu-family, --vcpu-model and --vcpu-stepping go together",
				    NULL);
	} else {
		*sig = vcpu_sig_from_fms((unsigned)num(a, LOPT_VCPU_FAMILY),
					 (unsigned)num(a, LOPT_VCPU_MODEL),
					 (unsigned)num(a, LOPT_VCPU_STEPPING));
	}
	return 0;
}

/*
 * SEV-ES: KVM_SEV_ES_INIT's FPU fields unless told (QEMU's default, see
 * vmsa.c), no SEV features unless told (DebugSwap is the one a host
 * kernel may add). SNP: always KVM_SEV_INIT2, SNPActive at least.
 */
static int choose_cpu(const struct launch_args *a, struct vcpu_config *cpu)
{
	bool snp = a->mode == SEV_MODE_SNP;

	if (!has(a, LOPT_VCPUS) || num(a, LOPT_VCPUS) == 0)
		return launch_usage("seves and snp need --vcpus N (1 or more)", NULL);
	cpu->vcpus = (unsigned)num(a, LOPT_VCPUS);
	if (choose_sig(a, &cpu->vcpu_sig))
		return EXIT_USAGE;
	cpu->fpu = has(a, LOPT_VMSA_FPU) ? a->fpu : snp ? VMSA_FPU_INIT2 : VMSA_FPU_LEGACY;
	if (snp && cpu->fpu == VMSA_FPU_LEGACY)
		return launch_usage("SNP guests are always made with KVM_SEV_INIT2: "
				    "--vmsa-fpu legacy does not apply", NULL);
	cpu->guest_features = has(a, LOPT_GUEST_FEATURES) ? num(a, LOPT_GUEST_FEATURES) :
			      snp ? SEV_FEATURE_SNP_ACTIVE : 0;
	if (!snp && (cpu->guest_features & SEV_FEATURE_SNP_ACTIVE))
		return launch_usage("--guest-features bit 0 (SNPActive) is for --mode snp", NULL);
	if (snp && !(cpu->guest_features & SEV_FEATURE_SNP_ACTIVE))
		return launch_usage("--guest-features for snp must have bit 0 (SNPActive)", NULL);
	return 0;
}

static int check_options(const struct launch_args *a)
{
	if (!has(a, LOPT_MODE))
		return launch_usage("measuring needs --mode sev, seves or snp", NULL);
	if (!has(a, LOPT_OVMF))
		return launch_usage("measuring needs --ovmf FILE (the firmware QEMU boots)", NULL);
	if ((has(a, LOPT_INITRD) || has(a, LOPT_APPEND)) && !has(a, LOPT_KERNEL))
		return launch_usage("--initrd and --append are measured only with --kernel "
				    "(QEMU's kernel-hashes=on)", NULL);
	if (a->mode == SEV_MODE_SEV && (a->seen & VCPU_OPTS))
		return launch_usage("--mode sev measures no vCPU state: the vCPU options are for "
				    "seves and snp", NULL);
	return 0;
}

int measure_setup(const struct launch_args *a, struct measure_setup *m)
{
	int r;

	memset(m, 0, sizeof(*m));
	r = check_options(a);
	if (r == 0 && a->mode != SEV_MODE_SEV)
		r = choose_cpu(a, &m->in.cpu);
	if (r)
		return r;
	if (ovmf_load(str(a, LOPT_OVMF), &m->fw) < 0)
		return EXIT_FAIL;
	m->in.mode = a->mode;
	m->in.fw = &m->fw;
	if (has(a, LOPT_KERNEL)) {
		if (boot_hashes_compute(str(a, LOPT_KERNEL), str(a, LOPT_INITRD),
					str(a, LOPT_APPEND), &m->hashes) < 0) {
			ovmf_free(&m->fw);
			return EXIT_FAIL;
		}
		m->in.hashes = &m->hashes;
	}
	return 0;
}

void measure_setup_free(struct measure_setup *m)
{
	ovmf_free(&m->fw);
}
