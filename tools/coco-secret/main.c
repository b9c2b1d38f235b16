// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * coco-secret: command line parsing and dispatch. Each command lives in
 * its own file; this one only turns arguments into their options.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coco-secret.h"
#include "sev.h"
#include "convert.h"

static const char usage_text[] =
	"Usage: coco-secret COMMAND [OPTIONS]\n"
	"\n"
	"Secret tables (what the firmware injects and efi_secret exposes):\n"
	"  build -o TABLE GUID=FILE...   a table holding each FILE's bytes under GUID\n"
	"        [--area-size N] [--no-pad]\n"
	"  show TABLE [--reveal]         GUID and length of each secret (--reveal: data too)\n"
	"  check TABLE [--area-size N]   validate as the kernel does; name the first fault\n"
	"\n"
	"LUKS volumes (block devices or image files):\n"
	"  enroll DEVICE --guid GUID (--secret-file F | --generate F)\n"
	"        [--unlock-key-file K] [--no-token]\n"
	"                                add a keyslot for the secret and a coco-efi-secret\n"
	"                                token; --generate writes 32 random bytes to new F\n"
	"  list DEVICE                   keyslots and the GUIDs of their tokens\n"
	"  remove DEVICE --guid GUID     remove that GUID's token and keyslot\n"
	"  seal DEVICE --guid GUID --secret-file F\n"
	"                                (re)write the MAC of that GUID's token\n"
	"  pin DEVICE (--secret-file F | --unlock-key-file K) [--name NAME]\n"
	"                                print the volume key's pin (fixate-volume-key=)\n"
	"\n"
	"SEV launches (the owner's attestation; see coco-secret(1)):\n"
	"  session --pdh CHAIN --policy N --name NAME [--ark F --ask F]\n"
	"                                verify the host's chain; NAME_godh.b64,\n"
	"                                NAME_session.b64, NAME_tek.bin, NAME_tik.bin\n"
	"  measure --mode sev|seves|snp --ovmf FILE [--kernel F --initrd F --append S]\n"
	"        [--vcpus N --vcpu-type NAME] [--vmsa-fpu legacy|init2]\n"
	"                                the launch digest to expect\n"
	"  verify --tik F --launch-measure-blob B64 --api-major N --api-minor N\n"
	"        --build-id N --policy N (--launch-digest D | the measure options)\n"
	"                                is the host's measurement that launch? why not?\n"
	"  package (the verify options) --tek F (--table T | GUID=FILE...)\n"
	"        [--header-out F --payload-out F] [--qmp-out F]\n"
	"                                the LAUNCH_SECRET packet, for a verified launch\n"
	"  launch --qmp SOCKET --tik F --tek F (--table T | GUID=FILE...)\n"
	"        (the measure options)\n"
	"                                all of it against a QEMU started with -S:\n"
	"                                verify, package, inject, continue\n"
	"  (each of these five: COMMAND --help for its options)\n"
	"\n"
	"Images (see coco-secret(1), COMMANDS, convert):\n"
	"  convert --in IMAGE --out IMAGE --secret-out FILE --deb PACKAGE\n"
	"                                a cloud image made confidential: its root in\n"
	"                                LUKS2, coco-unlock inside, boot files beside\n"
	"                                (convert --help for its options)\n"
	"\n"
	"Options:\n"
	"  -o, --output TABLE       where build writes the table (mode 0600)\n"
	"  --area-size N            secret area size in bytes (default 3072, OVMF's)\n"
	"  --no-pad                 do not pad the table to a multiple of 16 bytes\n"
	"  --reveal                 show prints the secrets' bytes (escaped)\n"
	"  --guid GUID              the secret's GUID, e.g. 736869e5-84f0-4973-92ec-06879ce3da0b\n"
	"  --secret-file F          the secret is F's bytes, as they are\n"
	"  --generate F             make a new secret and write it to F (must not exist)\n"
	"  --unlock-key-file K      an existing passphrase, from file K (default: ask)\n"
	"  --no-token               keyslot only (the only choice on LUKS1)\n"
	"  --weak-secret            enroll a --secret-file under 32 bytes, with argon2id\n"
	"  --name NAME              the mapping name the pin is for (default luks-UUID)\n"
	"  -v, --verbose            also show libcryptsetup's messages\n"
	"  -h, --help               this text\n"
	"  --version                the version\n"
	"\n"
	"A guest owner's flow:\n"
	"  coco-secret enroll disk.img --guid 736869e5-84f0-4973-92ec-06879ce3da0b \\\n"
	"      --generate disk.secret\n"
	"  coco-secret build -o secret.table 736869e5-84f0-4973-92ec-06879ce3da0b=disk.secret\n"
	"  then inject secret.table (sevctl, or coco-inject.efi in tests) and boot.\n"
	"\n"
	"Exit status: 0 success, 1 failure or invalid table, 2 usage error.\n"
	"See coco-secret(1).\n";

enum {
	OPT_AREA_SIZE = 0x100,
	OPT_NO_PAD,
	OPT_REVEAL,
	OPT_GUID,
	OPT_SECRET_FILE,
	OPT_GENERATE,
	OPT_UNLOCK_KEY_FILE,
	OPT_NO_TOKEN,
	OPT_WEAK_SECRET,
	OPT_NAME,
	OPT_VERSION,
};

static const struct option long_options[] = {
	{ "output", required_argument, NULL, 'o' },
	{ "area-size", required_argument, NULL, OPT_AREA_SIZE },
	{ "no-pad", no_argument, NULL, OPT_NO_PAD },
	{ "reveal", no_argument, NULL, OPT_REVEAL },
	{ "guid", required_argument, NULL, OPT_GUID },
	{ "secret-file", required_argument, NULL, OPT_SECRET_FILE },
	{ "generate", required_argument, NULL, OPT_GENERATE },
	{ "unlock-key-file", required_argument, NULL, OPT_UNLOCK_KEY_FILE },
	{ "no-token", no_argument, NULL, OPT_NO_TOKEN },
	{ "weak-secret", no_argument, NULL, OPT_WEAK_SECRET },
	{ "name", required_argument, NULL, OPT_NAME },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ 0 }
};

/* Every option of every command; each command then says what it allows. */
struct args {
	const char *output;
	size_t area_size;
	bool area_size_set;
	bool no_pad;
	bool reveal;
	bool guid_set;
	struct guid guid;
	const char *secret_file;
	const char *generate_file;
	const char *unlock_key_file;
	const char *name;
	bool no_token;
	bool weak_secret;
	char **pos;		/* positional arguments after the command */
	int n_pos;
};

static int usage_error(const char *msg, const char *what)
{
	err("%s%s%s (see --help)", msg, what ? ": " : "", what ? what : "");
	return EXIT_USAGE;
}

static int parse_area_size(const char *text, size_t *out)
{
	char *end;
	unsigned long v;

	if (text[0] < '0' || text[0] > '9')
		return -1;
	v = strtoul(text, &end, 0);
	if (*end != '\0' || v < TABLE_HEADER_SIZE || v > 1024 * 1024)
		return -1;
	*out = v;
	return 0;
}

static int parse_option(int c, struct args *a)
{
	switch (c) {
	case 'o': a->output = optarg; break;
	case OPT_AREA_SIZE:
		if (parse_area_size(optarg, &a->area_size) < 0)
			return usage_error("--area-size wants a number of bytes from 20 to 1048576",
					   optarg);
		a->area_size_set = true;
		break;
	case OPT_NO_PAD: a->no_pad = true; break;
	case OPT_REVEAL: a->reveal = true; break;
	case OPT_GUID:
		if (!guid_parse(optarg, &a->guid))
			return usage_error("not a GUID", optarg);
		a->guid_set = true;
		break;
	case OPT_SECRET_FILE: a->secret_file = optarg; break;
	case OPT_GENERATE: a->generate_file = optarg; break;
	case OPT_UNLOCK_KEY_FILE: a->unlock_key_file = optarg; break;
	case OPT_NO_TOKEN: a->no_token = true; break;
	case OPT_WEAK_SECRET: a->weak_secret = true; break;
	case OPT_NAME: a->name = optarg; break;
	case 'v': verbose = true; break;
	case 'h': fputs(usage_text, stdout); exit(EXIT_OK);
	case OPT_VERSION: puts("coco-secret " VERSION); exit(EXIT_OK);
	default: return EXIT_USAGE;
	}
	return 0;
}

static int parse_args(int argc, char **argv, struct args *a)
{
	int c, r;

	a->area_size = DEFAULT_AREA_SIZE;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "o:vh", long_options, NULL)) != -1) {
		if (c == '?')
			return usage_error("unknown option or missing value", argv[optind - 1]);
		r = parse_option(c, a);
		if (r)
			return r;
	}
	a->pos = argv + optind;
	a->n_pos = argc - optind;
	return 0;
}

/* Options a command does not take are errors, not silently ignored. */
static int only(const struct args *a, const char *cmd, const char *allowed)
{
	static const struct { const char *name; size_t off; } opts[] = {
		{ "output", offsetof(struct args, output) },
		{ "secret-file", offsetof(struct args, secret_file) },
		{ "generate", offsetof(struct args, generate_file) },
		{ "unlock-key-file", offsetof(struct args, unlock_key_file) },
		{ "name", offsetof(struct args, name) },
	};
	const bool flags[] = { a->area_size_set, a->no_pad, a->reveal, a->guid_set, a->no_token,
			       a->weak_secret };
	static const char *const flag_names[] = { "area-size", "no-pad", "reveal", "guid",
						  "no-token", "weak-secret" };
	size_t i;

	for (i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
		if (*(const char *const *)((const char *)a + opts[i].off) != NULL &&
		    !strstr(allowed, opts[i].name)) {
			err("%s does not take --%s (see --help)", cmd, opts[i].name);
			return EXIT_USAGE;
		}
	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
		if (flags[i] && !strstr(allowed, flag_names[i])) {
			err("%s does not take --%s (see --help)", cmd, flag_names[i]);
			return EXIT_USAGE;
		}
	return 0;
}

static int cmd_build(struct args *a)
{
	struct table_input *in;
	int i, r;

	if (only(a, "build", "output area-size no-pad"))
		return EXIT_USAGE;
	if (a->output == NULL)
		return usage_error("build needs -o TABLE", NULL);
	in = calloc(a->n_pos ? (size_t)a->n_pos : 1, sizeof(*in));
	if (in == NULL)
		return EXIT_FAIL;
	for (i = 0; i < a->n_pos; i++) {
		const char *eq = strchr(a->pos[i], '=');

		if (eq == NULL || !guid_parse_n(a->pos[i], (size_t)(eq - a->pos[i]), &in[i].guid) ||
		    eq[1] == '\0') {
			free(in);
			return usage_error("expected GUID=FILE", a->pos[i]);
		}
		in[i].path = eq + 1;
	}
	r = table_build(a->output, in, (size_t)a->n_pos, a->area_size, !a->no_pad);
	free(in);
	return r;
}

static int cmd_table(struct args *a, const char *cmd)
{
	bool show = strcmp(cmd, "show") == 0;

	if (only(a, cmd, show ? "reveal area-size" : "area-size"))
		return EXIT_USAGE;
	if (a->n_pos != 1)
		return usage_error(show ? "show takes one TABLE" : "check takes one TABLE", NULL);
	return show ? table_show(a->pos[0], a->area_size, a->reveal) :
		      table_check(a->pos[0], a->area_size);
}

static int cmd_enroll(struct args *a)
{
	struct enroll_options o = { 0 };

	if (only(a, "enroll", "guid secret-file generate unlock-key-file no-token weak-secret name"))
		return EXIT_USAGE;
	if (a->n_pos != 1)
		return usage_error("enroll takes one DEVICE", NULL);
	if (!a->guid_set)
		return usage_error("enroll needs --guid GUID", NULL);
	if (guid_is_zero(&a->guid))
		return usage_error("the all-zero GUID marks deleted secrets", NULL);
	if ((a->secret_file == NULL) == (a->generate_file == NULL))
		return usage_error("enroll needs one of --secret-file F and --generate F", NULL);
	o.device = a->pos[0];
	o.guid = a->guid;
	o.secret_file = a->secret_file;
	o.generate_file = a->generate_file;
	o.unlock_key_file = a->unlock_key_file;
	o.no_token = a->no_token;
	o.weak_secret = a->weak_secret;
	o.name = a->name;
	return enroll(&o);
}

static int cmd_pin_seal(struct args *a, const char *cmd)
{
	bool is_pin = strcmp(cmd, "pin") == 0;
	struct pin_options o = { 0 };

	if (only(a, cmd, is_pin ? "secret-file unlock-key-file name" : "guid secret-file"))
		return EXIT_USAGE;
	if (a->n_pos != 1)
		return usage_error(is_pin ? "pin takes one DEVICE" : "seal takes one DEVICE", NULL);
	if (!is_pin && (!a->guid_set || a->secret_file == NULL))
		return usage_error("seal needs --guid GUID and --secret-file F", NULL);
	if (is_pin && (a->secret_file == NULL) == (a->unlock_key_file == NULL))
		return usage_error("pin needs one of --secret-file F and --unlock-key-file K", NULL);
	o.device = a->pos[0];
	o.key_file = a->secret_file ? a->secret_file : a->unlock_key_file;
	o.name = a->name;
	o.guid = a->guid;
	return is_pin ? pin(&o) : seal(&o);
}

static int cmd_device(struct args *a, const char *cmd)
{
	bool list = strcmp(cmd, "list") == 0;

	if (only(a, cmd, list ? "" : "guid"))
		return EXIT_USAGE;
	if (a->n_pos != 1)
		return usage_error(list ? "list takes one DEVICE" : "remove takes one DEVICE", NULL);
	if (list)
		return list_device(a->pos[0]);
	if (!a->guid_set)
		return usage_error("remove needs --guid GUID", NULL);
	return remove_guid(a->pos[0], &a->guid);
}

int main(int argc, char **argv)
{
	struct args a = { 0 };
	const char *cmd;
	int r;

	secure_process_setup();
	if (argc < 2)
		return usage_error("no command", NULL);
	cmd = argv[1];
	if (strcmp(cmd, "help") == 0) {
		fputs(usage_text, stdout);
		return EXIT_OK;
	}
	if (cmd[0] == '-') {
		/* Only --help, --version and their kin make sense without a command. */
		r = parse_args(argc, argv, &a);
		return r ? r : usage_error("no command", NULL);
	}
	/* The launch commands parse their own, larger, set of options. */
	if (strcmp(cmd, "measure") == 0)
		return cmd_measure(argc - 1, argv + 1);
	if (strcmp(cmd, "verify") == 0)
		return cmd_verify(argc - 1, argv + 1);
	if (strcmp(cmd, "package") == 0)
		return cmd_package(argc - 1, argv + 1);
	if (strcmp(cmd, "session") == 0)
		return cmd_session(argc - 1, argv + 1);
	if (strcmp(cmd, "launch") == 0)
		return cmd_launch(argc - 1, argv + 1);
	if (strcmp(cmd, "convert") == 0)
		return cmd_convert(argc - 1, argv + 1);
	r = parse_args(argc - 1, argv + 1, &a);
	if (r)
		return r;
	if (strcmp(cmd, "build") == 0)
		return cmd_build(&a);
	if (strcmp(cmd, "show") == 0 || strcmp(cmd, "check") == 0)
		return cmd_table(&a, cmd);
	if (strcmp(cmd, "enroll") == 0)
		return cmd_enroll(&a);
	if (strcmp(cmd, "list") == 0 || strcmp(cmd, "remove") == 0)
		return cmd_device(&a, cmd);
	if (strcmp(cmd, "pin") == 0 || strcmp(cmd, "seal") == 0)
		return cmd_pin_seal(&a, cmd);
	return usage_error("unknown command", cmd);
}
