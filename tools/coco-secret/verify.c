// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * coco-secret verify: is the host's measurement blob the PSP's MAC of
 * the launch the owner expects? Yes only when the MEASURE the host
 * returned is HMAC(TIK, platform info, policy, the owner's own digest,
 * MNONCE), and the policy keeps the host out (NODBG, NOKS, and ES when
 * SEV-ES was measured). Otherwise "not verified", and why (diagnose.c).
 * package runs the same steps first: it never packages for an
 * unverified launch.
 */
#include <stdio.h>
#include <string.h>

#include "coco-secret.h"
#include "launch-args.h"

static const char verify_help[] =
"Usage: coco-secret verify --tik F --launch-measure-blob B64 --api-major N\n"
"        --api-minor N --build-id N --policy N [--allow-policy nodbg,noks,es]\n"
"        (--launch-digest HEX|B64 | the measure options)\n"
"Exit 0 and \"measurement verified\" only when the host's blob is the MAC of the\n"
"expected launch digest and the policy is safe; 1 otherwise, saying why.\n"
"See coco-secret(1).\n";

static int need(const struct launch_args *a, int opt, const char *text)
{
	return has(a, opt) ? 0 : launch_usage(a->cmd, text);
}

static int check_required(const struct launch_args *a)
{
	if (need(a, LOPT_TIK, "needs --tik F (the session's TIK)") ||
	    need(a, LOPT_BLOB, "needs --launch-measure-blob B64 (query-sev-launch-measure)") ||
	    need(a, LOPT_API_MAJOR, "needs --api-major N (query-sev)") ||
	    need(a, LOPT_API_MINOR, "needs --api-minor N (query-sev)") ||
	    need(a, LOPT_BUILD_ID, "needs --build-id N (query-sev)") ||
	    need(a, LOPT_POLICY, "needs --policy N (the guest policy the host launched with)"))
		return EXIT_USAGE;
	if (has(a, LOPT_DIGEST) == measure_options_given(a))
		return launch_usage("give the expected launch either as --launch-digest or as the "
				    "measure options (--mode, --ovmf, ...), not both", NULL);
	if (has(a, LOPT_MODE) && a->mode == SEV_MODE_SNP)
		return launch_usage("SNP launches have no launch measurement to verify (they are "
				    "attested from inside the guest): --mode is sev or seves", NULL);
	return 0;
}

static int parse_digest(const char *text, uint8_t out[SHA256_LEN])
{
	uint8_t raw[SHA256_LEN + 3];

	if (hex_decode(text, out, SHA256_LEN))
		return 0;
	if (strlen(text) == BASE64_LEN(SHA256_LEN) &&
	    base64_decode(text, raw, sizeof(raw)) == SHA256_LEN) {
		memcpy(out, raw, SHA256_LEN);
		return 0;
	}
	return launch_usage("--launch-digest is 32 bytes in hex or base64", text);
}

/* The measure options' digest: SHA-256, as SEV and SEV-ES launches have. */
static int expected_digest(const struct launch_args *a, struct verify_request *v)
{
	uint8_t d[LAUNCH_DIGEST_MAX];
	int r = measure_setup(a, &v->m);

	v->measured = r == 0;
	if (r == 0 && launch_digest(&v->m.in, d) != SHA256_LEN)
		r = EXIT_FAIL;
	if (r == 0)
		memcpy(v->digest, d, SHA256_LEN);
	return r;
}

int verify_prepare(const struct launch_args *a, struct verify_request *v)
{
	int r;

	memset(v, 0, sizeof(*v));
	r = check_required(a);
	if (r)
		return r;
	if (!launch_blob_parse(str(a, LOPT_BLOB), &v->blob))
		return launch_usage("--launch-measure-blob is not 48 bytes of base64", NULL);
	v->pi.api_major = (uint8_t)num(a, LOPT_API_MAJOR);
	v->pi.api_minor = (uint8_t)num(a, LOPT_API_MINOR);
	v->pi.build_id = (uint8_t)num(a, LOPT_BUILD_ID);
	v->pi.policy = (uint32_t)num(a, LOPT_POLICY);
	v->allow = a->allow_policy;
	r = has(a, LOPT_DIGEST) ? parse_digest(str(a, LOPT_DIGEST), v->digest) :
				  expected_digest(a, v);
	if (r == 0 && key_file_read("TIK", str(a, LOPT_TIK), TIK_SIZE, &v->tik) < 0)
		r = EXIT_FAIL;
	return r;
}

void verify_free(struct verify_request *v)
{
	secret_buf_free(&v->tik);
	if (v->measured)
		measure_setup_free(&v->m);
}

/* Each protection the policy lacks, unless the owner allowed it by name. */
static bool policy_safe(const struct verify_request *v)
{
	uint32_t pol = v->pi.policy;
	bool ok = true;

	if (!(pol & POLICY_NODBG) && !(v->allow & POLICY_NODBG)) {
		err("not verified: policy 0x%x lets the host debug the guest (NODBG clear; "
		    "--allow-policy=nodbg to accept)", pol);
		ok = false;
	}
	if (!(pol & POLICY_NOKS) && !(v->allow & POLICY_NOKS)) {
		err("not verified: policy 0x%x lets the guest share keys with others (NOKS clear; "
		    "--allow-policy=noks to accept)", pol);
		ok = false;
	}
	if (v->measured && v->m.in.mode == SEV_MODE_SEVES && !(pol & POLICY_ES) &&
	    !(v->allow & POLICY_ES)) {
		err("not verified: policy 0x%x lacks ES, but an SEV-ES launch was measured "
		    "(--allow-policy=es to accept)", pol);
		ok = false;
	}
	if (v->measured && v->m.in.mode == SEV_MODE_SEV && (pol & POLICY_ES)) {
		err("not verified: policy 0x%x has ES: the host launched SEV-ES, measure it with "
		    "--mode seves", pol);
		ok = false;
	}
	return ok;
}

int verify_run(const struct verify_request *v)
{
	int r;

	if (!policy_safe(v))
		return EXIT_FAIL;
	r = launch_blob_matches(&v->blob, &v->tik, &v->pi, v->digest);
	if (r < 0)
		return EXIT_FAIL;
	if (r)
		return EXIT_OK;
	if (v->measured)
		diagnose_mismatch(&v->m.in, &v->blob, &v->tik, &v->pi);
	else
		err("not verified: the host's measurement is not the MAC of that launch digest "
		    "(with this TIK, API version, build ID and policy); give the measure options "
		    "instead of --launch-digest to learn why");
	return EXIT_FAIL;
}

int cmd_verify(int argc, char **argv)
{
	struct launch_args a;
	struct verify_request v;
	int r;

	r = launch_args_parse(argc, argv, "verify", LOPTS_VERIFY, verify_help, &a);
	if (r)
		return r;
	if (a.n_pos)
		return launch_usage("verify takes no arguments besides options", a.pos[0]);
	r = verify_prepare(&a, &v);
	if (r == 0)
		r = verify_run(&v);
	verify_free(&v);
	if (r == 0)
		puts("measurement verified");
	return r;
}
