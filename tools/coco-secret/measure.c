// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * coco-secret measure: the launch digest the owner expects for its
 * firmware, kernel, initrd, command line and vCPUs, on one line.
 */
#include <stdio.h>

#include "coco-secret.h"
#include "launch-args.h"

static const char measure_help[] =
"Usage: coco-secret measure --mode sev|seves|snp --ovmf FILE [--kernel F]\n"
"        [--initrd F] [--append CMDLINE] [--vcpus N] [--vcpu-type NAME |\n"
"        --vcpu-sig N | --vcpu-family N --vcpu-model N --vcpu-stepping N]\n"
"        [--vmsa-fpu legacy|init2] [--guest-features N] [--output-format hex|base64]\n"
"Prints the launch digest the PSP computes for that launch (SHA-256 for sev\n"
"and seves, SHA-384 for snp). See coco-secret(1).\n";

/* The digest as the owner asked: hex (sev-snp-measure) or base64 (sevctl). */
void print_digest(const uint8_t *d, size_t len, bool base64)
{
	char text[2 * LAUNCH_DIGEST_MAX + 1];

	if (base64)
		base64_encode(d, len, text);
	else
		hex_encode(d, len, text);
	puts(text);
}

int cmd_measure(int argc, char **argv)
{
	struct launch_args a;
	struct measure_setup m;
	uint8_t digest[LAUNCH_DIGEST_MAX];
	int r, len;

	r = launch_args_parse(argc, argv, "measure",
			      LOPTS_MEASURE | LOPT_BIT(LOPT_OUTPUT_FORMAT), measure_help, &a);
	if (r)
		return r;
	if (a.n_pos)
		return launch_usage("measure takes no arguments besides options", a.pos[0]);
	r = measure_setup(&a, &m);
	if (r)
		return r;
	len = launch_digest(&m.in, digest);
	measure_setup_free(&m);
	if (len < 0)
		return EXIT_FAIL;
	print_digest(digest, (size_t)len, a.base64);
	return EXIT_OK;
}
