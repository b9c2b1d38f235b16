/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The launch commands' options (launch-args.c) and the measure inputs
 * built from them (measure-input.c).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "sev.h"

enum launch_option {
	LOPT_FIRST = 0x200,
	LOPT_MODE = LOPT_FIRST,
	LOPT_OVMF,
	LOPT_KERNEL,
	LOPT_INITRD,
	LOPT_APPEND,
	LOPT_VCPUS,
	LOPT_VCPU_TYPE,
	LOPT_VCPU_SIG,
	LOPT_VCPU_FAMILY,
	LOPT_VCPU_MODEL,
	LOPT_VCPU_STEPPING,
	LOPT_VMSA_FPU,
	LOPT_GUEST_FEATURES,
	LOPT_OUTPUT_FORMAT,
	LOPT_TIK,
	LOPT_TEK,
	LOPT_BLOB,
	LOPT_DIGEST,
	LOPT_API_MAJOR,
	LOPT_API_MINOR,
	LOPT_BUILD_ID,
	LOPT_POLICY,
	LOPT_ALLOW_POLICY,
	LOPT_TABLE,
	LOPT_HEADER_OUT,
	LOPT_PAYLOAD_OUT,
	LOPT_QMP_OUT,
	LOPT_IV,
	LOPT_AREA_SIZE,
	LOPT_PDH,
	LOPT_NAME,
	LOPT_ARK,
	LOPT_ASK,
	LOPT_INSECURE_NO_CHAIN,
	LOPT_QMP,
	LOPT_QMP_TIMEOUT,
	LOPT_END
};

#define LOPT_BIT(c) (1ull << ((c) - LOPT_FIRST))
#define LOPT_COUNT (LOPT_END - LOPT_FIRST)

/* What measure takes, and verify and package with it. */
#define LOPTS_MEASURE (LOPT_BIT(LOPT_MODE) | LOPT_BIT(LOPT_OVMF) | LOPT_BIT(LOPT_KERNEL) | \
		       LOPT_BIT(LOPT_INITRD) | LOPT_BIT(LOPT_APPEND) | LOPT_BIT(LOPT_VCPUS) | \
		       LOPT_BIT(LOPT_VCPU_TYPE) | LOPT_BIT(LOPT_VCPU_SIG) | \
		       LOPT_BIT(LOPT_VCPU_FAMILY) | LOPT_BIT(LOPT_VCPU_MODEL) | \
		       LOPT_BIT(LOPT_VCPU_STEPPING) | LOPT_BIT(LOPT_VMSA_FPU) | \
		       LOPT_BIT(LOPT_GUEST_FEATURES))
#define LOPTS_VERIFY (LOPTS_MEASURE | LOPT_BIT(LOPT_TIK) | LOPT_BIT(LOPT_BLOB) | \
		      LOPT_BIT(LOPT_DIGEST) | LOPT_BIT(LOPT_API_MAJOR) | \
		      LOPT_BIT(LOPT_API_MINOR) | LOPT_BIT(LOPT_BUILD_ID) | \
		      LOPT_BIT(LOPT_POLICY) | LOPT_BIT(LOPT_ALLOW_POLICY))
#define LOPTS_PACKAGE (LOPTS_VERIFY | LOPT_BIT(LOPT_TEK) | LOPT_BIT(LOPT_TABLE) | \
		       LOPT_BIT(LOPT_HEADER_OUT) | LOPT_BIT(LOPT_PAYLOAD_OUT) | \
		       LOPT_BIT(LOPT_QMP_OUT) | LOPT_BIT(LOPT_IV) | LOPT_BIT(LOPT_AREA_SIZE))

#define LOPTS_SESSION (LOPT_BIT(LOPT_PDH) | LOPT_BIT(LOPT_POLICY) | LOPT_BIT(LOPT_NAME) | \
		       LOPT_BIT(LOPT_ARK) | LOPT_BIT(LOPT_ASK) | LOPT_BIT(LOPT_INSECURE_NO_CHAIN))

/* launch: the measure options, the keys and the secrets; the rest comes from QMP. */
#define LOPTS_LAUNCH (LOPTS_MEASURE | LOPT_BIT(LOPT_TIK) | LOPT_BIT(LOPT_TEK) | \
		      LOPT_BIT(LOPT_TABLE) | LOPT_BIT(LOPT_ALLOW_POLICY) | \
		      LOPT_BIT(LOPT_QMP) | LOPT_BIT(LOPT_QMP_TIMEOUT))

struct launch_args {
	const char *cmd;
	uint64_t seen;			/* LOPT_BIT of each option given */
	const char *str[LOPT_COUNT];	/* path and text options, by LOPT_ - LOPT_FIRST */
	uint64_t num[LOPT_COUNT];	/* numeric options */
	enum sev_mode mode;
	enum vmsa_fpu fpu;
	bool base64;
	uint32_t allow_policy;
	char **pos;
	int n_pos;
};

static inline bool has(const struct launch_args *a, int opt)
{
	return a->seen & LOPT_BIT(opt);
}

static inline const char *str(const struct launch_args *a, int opt)
{
	return a->str[opt - LOPT_FIRST];
}

static inline uint64_t num(const struct launch_args *a, int opt)
{
	return a->num[opt - LOPT_FIRST];
}

int launch_usage(const char *msg, const char *what);
int launch_args_parse(int argc, char **argv, const char *cmd, uint64_t allowed,
		      const char *help, struct launch_args *a);

/* measure-input.c: the firmware loaded, the hashes computed, the vCPUs chosen. */
struct measure_setup {
	struct ovmf fw;
	struct boot_hashes hashes;
	struct measure_input in;
};

/* 0, EXIT_USAGE (said why) or EXIT_FAIL (an input file is unusable; said why). */
int measure_setup(const struct launch_args *a, struct measure_setup *m);
void measure_setup_free(struct measure_setup *m);
bool measure_options_given(const struct launch_args *a);

/* verify.c: the steps verify and package share. */
struct verify_request {
	struct secret_buf tik;
	struct launch_blob blob;
	struct platform_info pi;
	uint32_t allow;			/* policy protections the owner waived */
	bool measured;			/* m holds the measure options' launch */
	struct measure_setup m;
	uint8_t digest[SHA256_LEN];
};

/* 0, EXIT_USAGE or EXIT_FAIL (said why); verify_free() in every case. */
int verify_prepare(const struct launch_args *a, struct verify_request *v);
/* EXIT_OK when verified; EXIT_FAIL after saying why not. */
int verify_run(const struct verify_request *v);
void verify_free(struct verify_request *v);

/* diagnose.c */
void diagnose_mismatch(const struct measure_input *in, const struct launch_blob *blob,
		       const struct secret_buf *tik, const struct platform_info *pi);

/* package.c: the packet for a verified launch, which launch sends over QMP. */
struct package_job {
	struct secret_buf tek;
	struct secret_buf table;
	uint8_t iv[SECRET_IV_SIZE];
	struct secret_packet pkt;
};

/* --tek and one way of giving the secrets; EXIT_USAGE after saying why. */
int package_check_secrets(const struct launch_args *a);
/* verify_run(), then the table, the TEK and the packet; EXIT_* after saying why. */
int package_build(const struct launch_args *a, struct verify_request *v,
		  struct package_job *job);
void package_job_free(struct package_job *job);
