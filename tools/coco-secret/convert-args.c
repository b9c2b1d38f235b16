// SPDX-License-Identifier: LGPL-2.1-or-later
/* coco-secret convert's command line (convert.c runs it). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coco-secret.h"
#include "convert.h"

static const char convert_usage[] =
	"Usage: coco-secret convert --in IMAGE --out IMAGE --secret-out FILE --deb PACKAGE\n"
	"        [--kernel-deb PACKAGE] [--recovery-key-file F] [--guid GUID]\n"
	"        [--export-dir DIR] [--append ARGS] [--no-poweroff] [--force]\n"
	"        [--ovmf FILE --measure MODES --vcpus N --vcpu-type NAME]\n"
	"\n"
	"A Debian 12/13 or Ubuntu 24.04 cloud-style image (raw or qcow2; GPT, an EFI\n"
	"system partition, an ext4 root, maybe a separate /boot) made confidential:\n"
	"its root in LUKS2 opened by a new 32-byte secret (a keyslot and a sealed\n"
	"coco-efi-secret token), coco-unlock installed, crypttab with the volume key's\n"
	"pin, the initramfs made again. The input is never written.\n"
	"\n"
	"  --in IMAGE              the image to convert (read only)\n"
	"  --out IMAGE             the converted image, same format (must not exist)\n"
	"  --secret-out FILE       the new secret (0600; must not exist)\n"
	"  --deb PACKAGE           coco-unlock's package for the image's release\n"
	"  --kernel-deb PACKAGE    a kernel package with efi_secret, installed first\n"
	"                          (Debian's own kernels have none)\n"
	"  --recovery-key-file F   a passphrase keyslot from F's bytes (argon2id)\n"
	"  --guid GUID             the secret's GUID (default the disk GUID\n"
	"                          736869e5-84f0-4973-92ec-06879ce3da0b)\n"
	"  --export-dir DIR        vmlinuz, initrd.img, cmdline, secret.table\n"
	"                          (default OUT.boot)\n"
	"  --append ARGS           more kernel command line\n"
	"  --no-poweroff           no rd.coco.on-failure=poweroff on the command line\n"
	"  --force                 replace --out and the export directory\n"
	"  --ovmf FILE --measure MODES --vcpus N --vcpu-type NAME\n"
	"                          also the launch digests (coco-secret measure) for\n"
	"                          each of MODES (sev,seves,snp) in measure-MODE.txt\n";

enum {
	O_IN = 0x200,
	O_OUT,
	O_SECRET_OUT,
	O_DEB,
	O_KERNEL_DEB,
	O_RECOVERY,
	O_GUID,
	O_EXPORT,
	O_APPEND,
	O_NO_POWEROFF,
	O_FORCE,
	O_OVMF,
	O_MEASURE,
	O_VCPUS,
	O_VCPU_TYPE,
	O_HELP,
};

static const struct option convert_options_long[] = {
	{ "in", required_argument, NULL, O_IN },
	{ "out", required_argument, NULL, O_OUT },
	{ "secret-out", required_argument, NULL, O_SECRET_OUT },
	{ "deb", required_argument, NULL, O_DEB },
	{ "kernel-deb", required_argument, NULL, O_KERNEL_DEB },
	{ "recovery-key-file", required_argument, NULL, O_RECOVERY },
	{ "guid", required_argument, NULL, O_GUID },
	{ "export-dir", required_argument, NULL, O_EXPORT },
	{ "append", required_argument, NULL, O_APPEND },
	{ "no-poweroff", no_argument, NULL, O_NO_POWEROFF },
	{ "force", no_argument, NULL, O_FORCE },
	{ "ovmf", required_argument, NULL, O_OVMF },
	{ "measure", required_argument, NULL, O_MEASURE },
	{ "vcpus", required_argument, NULL, O_VCPUS },
	{ "vcpu-type", required_argument, NULL, O_VCPU_TYPE },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, O_HELP },
	{ 0 }
};

static int convert_usage_error(const char *msg)
{
	err("%s (see coco-secret convert --help)", msg);
	return EXIT_USAGE;
}

static int set_option(int c, struct convert_options *o)
{
	switch (c) {
	case O_IN:
		o->in = optarg;
		break;
	case O_OUT:
		o->out = optarg;
		break;
	case O_SECRET_OUT:
		o->secret_out = optarg;
		break;
	case O_DEB:
		o->deb = optarg;
		break;
	case O_KERNEL_DEB:
		o->kernel_deb = optarg;
		break;
	case O_RECOVERY:
		o->recovery_key_file = optarg;
		break;
	case O_GUID:
		if (!guid_parse(optarg, &o->guid) || guid_is_zero(&o->guid))
			return convert_usage_error("--guid wants a GUID that is not all zero");
		break;
	case O_EXPORT:
		o->export_dir = optarg;
		break;
	case O_APPEND:
		o->append = optarg;
		break;
	case O_NO_POWEROFF:
		o->no_poweroff = true;
		break;
	case O_FORCE:
		o->force = true;
		break;
	case O_OVMF:
		o->ovmf = optarg;
		break;
	case O_MEASURE:
		o->measure_modes = optarg;
		break;
	case O_VCPUS:
		o->vcpus = optarg;
		break;
	case O_VCPU_TYPE:
		o->vcpu_type = optarg;
		break;
	case 'v':
		verbose = true;
		break;
	case O_HELP:
		fputs(convert_usage, stdout);
		exit(EXIT_OK);
	default:
		return convert_usage_error("unknown option or missing value");
	}
	return 0;
}

static int check_options(struct convert_options *o, char **export_buf)
{
	if (!o->in || !o->out || !o->secret_out || !o->deb)
		return convert_usage_error("--in, --out, --secret-out and --deb are needed");
	if (strcmp(o->in, o->out) == 0)
		return convert_usage_error("--out must not be --in: the input is never written");
	if (o->ovmf && (!o->measure_modes || !o->vcpus || !o->vcpu_type))
		return convert_usage_error(
			"--ovmf needs --measure MODES, --vcpus N, --vcpu-type NAME");
	if (!o->ovmf && o->measure_modes)
		return convert_usage_error("--measure needs --ovmf FILE");
	if (o->export_dir == NULL) {
		if (asprintf(export_buf, "%s.boot", o->out) < 0)
			return EXIT_FAIL;
		o->export_dir = *export_buf;
	}
	if (o->helper == NULL)
		o->helper = CONVERT_HELPER_PATH;
	return 0;
}

int cmd_convert(int argc, char **argv)
{
	struct convert_options o = { 0 };
	char *export_buf = NULL;
	int c, r;

	guid_parse(CONVERT_DEFAULT_GUID, &o.guid);
	/* Tests run the helper from the source tree. */
	o.helper = getenv("COCO_SECRET_CONVERT_HELPER");
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "v", convert_options_long, NULL)) != -1) {
		r = set_option(c, &o);
		if (r)
			return r;
	}
	if (optind < argc)
		return convert_usage_error("unexpected argument");
	r = check_options(&o, &export_buf);
	if (r == 0)
		r = convert(&o);
	free(export_buf);
	return r;
}
