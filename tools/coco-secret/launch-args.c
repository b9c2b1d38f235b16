// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The options of the launch commands (measure, verify, package and
 * launch), parsed once: they share the measure options, verify's
 * options are package's too, and each command names the ones it takes,
 * so an option given to the wrong command is an error, not ignored. The
 * flag names are sev-snp-measure's and sevctl's, so habits carry over.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coco-secret.h"
#include "launch-args.h"

static const struct option launch_options[] = {
	{ "mode", required_argument, NULL, LOPT_MODE },
	{ "ovmf", required_argument, NULL, LOPT_OVMF },
	{ "kernel", required_argument, NULL, LOPT_KERNEL },
	{ "initrd", required_argument, NULL, LOPT_INITRD },
	{ "append", required_argument, NULL, LOPT_APPEND },
	{ "vcpus", required_argument, NULL, LOPT_VCPUS },
	{ "vcpu-type", required_argument, NULL, LOPT_VCPU_TYPE },
	{ "vcpu-sig", required_argument, NULL, LOPT_VCPU_SIG },
	{ "vcpu-family", required_argument, NULL, LOPT_VCPU_FAMILY },
	{ "vcpu-model", required_argument, NULL, LOPT_VCPU_MODEL },
	{ "vcpu-stepping", required_argument, NULL, LOPT_VCPU_STEPPING },
	{ "vmsa-fpu", required_argument, NULL, LOPT_VMSA_FPU },
	{ "guest-features", required_argument, NULL, LOPT_GUEST_FEATURES },
	{ "output-format", required_argument, NULL, LOPT_OUTPUT_FORMAT },
	{ "tik", required_argument, NULL, LOPT_TIK },
	{ "tek", required_argument, NULL, LOPT_TEK },
	{ "launch-measure-blob", required_argument, NULL, LOPT_BLOB },
	{ "launch-digest", required_argument, NULL, LOPT_DIGEST },
	{ "api-major", required_argument, NULL, LOPT_API_MAJOR },
	{ "api-minor", required_argument, NULL, LOPT_API_MINOR },
	{ "build-id", required_argument, NULL, LOPT_BUILD_ID },
	{ "policy", required_argument, NULL, LOPT_POLICY },
	{ "allow-policy", required_argument, NULL, LOPT_ALLOW_POLICY },
	{ "table", required_argument, NULL, LOPT_TABLE },
	{ "header-out", required_argument, NULL, LOPT_HEADER_OUT },
	{ "payload-out", required_argument, NULL, LOPT_PAYLOAD_OUT },
	{ "qmp-out", required_argument, NULL, LOPT_QMP_OUT },
	{ "iv", required_argument, NULL, LOPT_IV },
	{ "area-size", required_argument, NULL, LOPT_AREA_SIZE },
	{ "pdh", required_argument, NULL, LOPT_PDH },
	{ "name", required_argument, NULL, LOPT_NAME },
	{ "ark", required_argument, NULL, LOPT_ARK },
	{ "ask", required_argument, NULL, LOPT_ASK },
	{ "insecure-no-chain", no_argument, NULL, LOPT_INSECURE_NO_CHAIN },
	{ "qmp", required_argument, NULL, LOPT_QMP },
	{ "qmp-timeout", required_argument, NULL, LOPT_QMP_TIMEOUT },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ 0 }
};

int launch_usage(const char *msg, const char *what)
{
	err("%s%s%s (see --help)", msg, what ? ": " : "", what ? what : "");
	return EXIT_USAGE;
}

static bool parse_u64(const char *text, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (text[0] < '0' || text[0] > '9')
		return false;
	v = strtoull(text, &end, 0);
	if (*end != '\0' || v > max)
		return false;
	*out = v;
	return true;
}

static int number(const char *opt, const char *text, uint64_t max, uint64_t *out)
{
	char msg[96];

	if (parse_u64(text, max, out))
		return 0;
	snprintf(msg, sizeof(msg), "--%s wants a number from 0 to %llu", opt,
		 (unsigned long long)max);
	return launch_usage(msg, text);
}

/* --allow-policy=nodbg,noks,es: the protections the owner lets the policy lack. */
static int parse_allow(const char *text, uint32_t *out)
{
	char *copy = strdup(text), *save = NULL, *tok;
	int r = 0;

	if (copy == NULL)
		return EXIT_FAIL;
	for (tok = strtok_r(copy, ",", &save); tok && r == 0; tok = strtok_r(NULL, ",", &save)) {
		if (strcasecmp(tok, "nodbg") == 0)
			*out |= POLICY_NODBG;
		else if (strcasecmp(tok, "noks") == 0)
			*out |= POLICY_NOKS;
		else if (strcasecmp(tok, "es") == 0)
			*out |= POLICY_ES;
		else
			r = launch_usage("--allow-policy names nodbg, noks or es", tok);
	}
	free(copy);
	return r;
}

static int parse_mode(const char *text, struct launch_args *a)
{
	if (strcmp(text, "sev") == 0)
		a->mode = SEV_MODE_SEV;
	else if (strcmp(text, "seves") == 0 || strcmp(text, "sev-es") == 0)
		a->mode = SEV_MODE_SEVES;
	else if (strcmp(text, "snp") == 0 || strcmp(text, "sev-snp") == 0)
		a->mode = SEV_MODE_SNP;
	else
		return launch_usage("--mode is sev, seves or snp", text);
	return 0;
}

static int parse_choice(int c, const char *text, struct launch_args *a)
{
	if (c == LOPT_MODE)
		return parse_mode(text, a);
	if (c == LOPT_VMSA_FPU) {
		if (strcmp(text, "legacy") && strcmp(text, "init2"))
			return launch_usage("--vmsa-fpu is legacy or init2", text);
		a->fpu = strcmp(text, "init2") == 0 ? VMSA_FPU_INIT2 : VMSA_FPU_LEGACY;
		return 0;
	}
	if (strcmp(text, "hex") && strcmp(text, "base64"))
		return launch_usage("--output-format is hex or base64", text);
	a->base64 = strcmp(text, "base64") == 0;
	return 0;
}

static int parse_numeric(int c, const char *text, struct launch_args *a)
{
	static const struct { int opt; const char *name; uint64_t max; } limits[] = {
		{ LOPT_VCPUS, "vcpus", MAX_VCPUS }, { LOPT_VCPU_SIG, "vcpu-sig", 0xffffffff },
		{ LOPT_VCPU_FAMILY, "vcpu-family", 0x10e }, { LOPT_VCPU_MODEL, "vcpu-model", 0xff },
		{ LOPT_VCPU_STEPPING, "vcpu-stepping", 0xf },
		{ LOPT_GUEST_FEATURES, "guest-features", UINT64_MAX },
		{ LOPT_API_MAJOR, "api-major", 0xff }, { LOPT_API_MINOR, "api-minor", 0xff },
		{ LOPT_BUILD_ID, "build-id", 0xff }, { LOPT_POLICY, "policy", 0xffffffff },
		{ LOPT_AREA_SIZE, "area-size", 1u << 20 },
		{ LOPT_QMP_TIMEOUT, "qmp-timeout", 3600 },
	};
	size_t i;

	for (i = 0; i < sizeof(limits) / sizeof(limits[0]); i++)
		if (limits[i].opt == c)
			return number(limits[i].name, text, limits[i].max, &a->num[c - LOPT_FIRST]);
	return launch_usage("internal: no limit for an option", text);
}

static int parse_one(int c, const char *text, struct launch_args *a)
{
	switch (c) {
	case LOPT_MODE: case LOPT_VMSA_FPU: case LOPT_OUTPUT_FORMAT:
		return parse_choice(c, text, a);
	case LOPT_ALLOW_POLICY:
		return parse_allow(text, &a->allow_policy);
	case LOPT_VCPUS: case LOPT_VCPU_SIG: case LOPT_VCPU_FAMILY: case LOPT_VCPU_MODEL:
	case LOPT_VCPU_STEPPING: case LOPT_GUEST_FEATURES: case LOPT_API_MAJOR:
	case LOPT_API_MINOR: case LOPT_BUILD_ID: case LOPT_POLICY: case LOPT_AREA_SIZE:
	case LOPT_QMP_TIMEOUT:
		return parse_numeric(c, text, a);
	default:
		a->str[c - LOPT_FIRST] = text;
		return 0;
	}
}

static const char *option_name(int c)
{
	const struct option *o;

	for (o = launch_options; o->name; o++)
		if (o->val == c)
			return o->name;
	return "?";
}

int launch_args_parse(int argc, char **argv, const char *cmd, uint64_t allowed,
		      const char *help, struct launch_args *a)
{
	int c, r;

	memset(a, 0, sizeof(*a));
	a->cmd = cmd;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "vh", launch_options, NULL)) != -1) {
		if (c == '?')
			return launch_usage("unknown option or missing value", argv[optind - 1]);
		if (c == 'h') {
			fputs(help, stdout);
			exit(EXIT_OK);
		}
		if (c == 'v') {
			verbose = true;
			continue;
		}
		if (!(allowed & LOPT_BIT(c))) {
			err("%s does not take --%s (see --help)", cmd, option_name(c));
			return EXIT_USAGE;
		}
		a->seen |= LOPT_BIT(c);
		r = parse_one(c, optarg, a);
		if (r)
			return r;
	}
	a->pos = argv + optind;
	a->n_pos = argc - optind;
	return 0;
}
