// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The program's own command line. In the initramfs it has none: the
 * kernel command line and /etc/crypttab say what to do. The options are
 * for tests, late hooks and use on a running system.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coco-unlock.h"
#include "header-policy.h"

static void print_help(void)
{
	printf("Usage: coco-unlock [OPTION]...\n"
	       "Unlock LUKS volumes with secrets injected into a confidential VM, then wipe them.\n"
	       "\n"
	       "With no option it loads efi_secret, mounts securityfs, reads the volumes to\n"
	       "unlock from the kernel command line (rd.luks.uuid=, rd.luks.name=,\n"
	       "cryptdevice=) and /etc/crypttab, or finds LUKS2 volumes with a\n"
	       "coco-efi-secret token, unlocks them and unlinks the secrets it used.\n"
	       "\n"
	       "  --wipe-only          only unlink the secrets (late hook before switch_root)\n"
	       "  --log-kmsg           log to the kernel log (/dev/kmsg) even without\n"
	       "                       /etc/initrd-release (initramfs-tools images)\n"
	       "  --dry-run            check keys without activating (no device-mapper needed)\n"
	       "  --secrets-dir DIR    read secrets from DIR: no module load, no mount, no\n"
	       "                       securityfs check\n"
	       "  --cmdline FILE       kernel command line from FILE instead of /proc/cmdline\n"
	       "  --crypttab FILE      crypttab from FILE instead of /etc/crypttab\n"
	       "  --devices-dir DIR    look for LUKS devices among the files in DIR instead of\n"
	       "                       the block devices (tests)\n"
	       "  --kmod-dir DIR       load modules from DIR instead of /lib/modules/RELEASE\n"
	       "  --state-dir DIR      record what --wipe-only must wipe in DIR instead of\n"
	       "                       /run/coco-unlock\n"
	       "  --serial             unlock one volume at a time (by default independent\n"
	       "                       volumes are unlocked at once, one process each, as many\n"
	       "                       as CPUs online, argon2 within the memory budget)\n"
	       "  --parallel-memory KIB  (tests) a lower memory budget for argon2 keyslots\n"
	       "                       unlocked at once\n"
	       "  --pbkdf2-budget N    (tests) a lower PBKDF2 budget than 2^24 iterations per\n"
	       "                       keyslot (a volume's tries: twice that)\n"
	       "  -h, --help           show this help\n"
	       "  -V, --version        show the version\n"
	       "\n"
	       "Kernel parameters: rd.coco=0, rd.coco.key=[UUID:]GUID, rd.coco.timeout=SECONDS,\n"
	       "rd.coco.wipe=used|all|none, rd.coco.try-all, rd.coco.volume-key=UUID:PIN,\n"
	       "rd.coco.require-mac, rd.coco.on-failure=prompt|poweroff, rd.coco.debug.\n"
	       "Exit status: 0 all volumes open, 1 some left closed, 2 usage or\n"
	       "configuration error (every secret wiped), 3 no secrets, 4 a secret could\n"
	       "not be wiped.\n");
}

enum {
	OPT_SECRETS_DIR = 0x100,
	OPT_CMDLINE,
	OPT_CRYPTTAB,
	OPT_DEVICES_DIR,
	OPT_KMOD_DIR,
	OPT_STATE_DIR,
	OPT_DRY_RUN,
	OPT_WIPE_ONLY,
	OPT_LOG_KMSG,
	OPT_SERIAL,
	OPT_PARALLEL_MEMORY,
	OPT_PBKDF2_BUDGET,
};

static const struct option long_options[] = {
	{ "secrets-dir", required_argument, NULL, OPT_SECRETS_DIR },
	{ "cmdline", required_argument, NULL, OPT_CMDLINE },
	{ "crypttab", required_argument, NULL, OPT_CRYPTTAB },
	{ "devices-dir", required_argument, NULL, OPT_DEVICES_DIR },
	{ "kmod-dir", required_argument, NULL, OPT_KMOD_DIR },
	{ "state-dir", required_argument, NULL, OPT_STATE_DIR },
	{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
	{ "wipe-only", no_argument, NULL, OPT_WIPE_ONLY },
	{ "log-kmsg", no_argument, NULL, OPT_LOG_KMSG },
	{ "serial", no_argument, NULL, OPT_SERIAL },
	{ "parallel-memory", required_argument, NULL, OPT_PARALLEL_MEMORY },
	{ "pbkdf2-budget", required_argument, NULL, OPT_PBKDF2_BUDGET },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static bool non_empty(const char *arg, const char *option)
{
	if (arg[0] != '\0')
		return true;
	fprintf(stderr, "coco-unlock: %s needs a non-empty argument\n", option);
	return false;
}

/* A positive number, at most 2^40, for @option. */
static bool parse_amount(const char *arg, const char *option, uint64_t *out)
{
	unsigned long long v = 0;
	char *end = NULL;

	errno = 0;
	if (arg[0] >= '0' && arg[0] <= '9')
		v = strtoull(arg, &end, 10);
	if (end == NULL || errno != 0 || *end != '\0' || v == 0 || v > (1ULL << 40)) {
		fprintf(stderr, "coco-unlock: %s needs a positive number, not '%s'\n", option, arg);
		return false;
	}
	*out = v;
	return true;
}

/*
 * Returns 1 to go on, 0 after --help or --version, or -EXIT_USAGE.
 */
int options_parse(int argc, char **argv, struct options *opts)
{
	int c;

	memset(opts, 0, sizeof(*opts));
	opts->cmdline_file = "/proc/cmdline";
	opts->crypttab_file = "/etc/crypttab";

	optind = 1;
	while ((c = getopt_long(argc, argv, "hV", long_options, NULL)) != -1) {
		switch (c) {
		case OPT_SECRETS_DIR:
			opts->secrets_dir = optarg;
			break;
		case OPT_CMDLINE:
			opts->cmdline_file = optarg;
			break;
		case OPT_CRYPTTAB:
			opts->crypttab_file = optarg;
			opts->crypttab_given = true;
			break;
		case OPT_DEVICES_DIR:
			opts->devices_dir = optarg;
			break;
		case OPT_KMOD_DIR:
			opts->kmod_dir = optarg;
			break;
		case OPT_STATE_DIR:
			opts->state_dir = optarg;
			break;
		case OPT_DRY_RUN:
			opts->dry_run = true;
			break;
		case OPT_WIPE_ONLY:
			opts->wipe_only = true;
			break;
		case OPT_LOG_KMSG:
			opts->log_kmsg = true;
			break;
		case OPT_SERIAL:
			opts->serial = true;
			break;
		case OPT_PARALLEL_MEMORY:
			if (!parse_amount(optarg, "--parallel-memory", &opts->parallel_memory_kib))
				return -EXIT_USAGE;
			break;
		case OPT_PBKDF2_BUDGET:
			/* Only ever lower: header-policy.c keeps the smaller. */
			if (!parse_amount(optarg, "--pbkdf2-budget", &opts->pbkdf2_budget))
				return -EXIT_USAGE;
			kdf_budget_cap_pbkdf2(opts->pbkdf2_budget);
			break;
		case 'h':
			print_help();
			return 0;
		case 'V':
			printf("coco-unlock %s\n", VERSION);
			return 0;
		default:
			fprintf(stderr, "coco-unlock: try 'coco-unlock --help'\n");
			return -EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "coco-unlock: unexpected argument '%s'\n", argv[optind]);
		return -EXIT_USAGE;
	}
	if ((opts->secrets_dir && !non_empty(opts->secrets_dir, "--secrets-dir")) ||
	    !non_empty(opts->cmdline_file, "--cmdline") ||
	    !non_empty(opts->crypttab_file, "--crypttab") ||
	    (opts->devices_dir && !non_empty(opts->devices_dir, "--devices-dir")) ||
	    (opts->kmod_dir && !non_empty(opts->kmod_dir, "--kmod-dir")) ||
	    (opts->state_dir && !non_empty(opts->state_dir, "--state-dir")))
		return -EXIT_USAGE;
	return 1;
}
