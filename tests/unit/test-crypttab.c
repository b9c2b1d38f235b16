// SPDX-License-Identifier: LGPL-2.1-or-later
/* crypttab(5) lines: which are ours, their keys and options. */
#include <string.h>

#include "coco-unlock.h"
#include "tap.h"

#define U1 "11111111-2222-3333-4444-555555555555"
#define G1 "01234567-89ab-cdef-0123-456789abcdef"

static int parse(struct config *cfg, const char *text, const char *secrets_dir)
{
	config_init(cfg);
	if (config_parse_crypttab(cfg, text, secrets_dir) < 0)
		return -1;
	return config_finish(cfg);
}

static void test_entries(void)
{
	struct config cfg;

	tap_check(parse(&cfg, "# comment\n\nroot UUID=" U1 " /sys/kernel/security/secrets/coco/" G1
			" luks,discard\n", NULL) == 0, "entry with a coco key file");
	tap_check(cfg.n_volumes == 1, "one volume");
	tap_str_eq(cfg.volumes[0].name, "root", "name");
	tap_str_eq(cfg.volumes[0].uuid, U1, "UUID= device becomes the UUID");
	tap_check(cfg.volumes[0].has_crypttab_key && strcmp(cfg.volumes[0].crypttab_key.str, G1) == 0,
		  "key GUID from the key file name");
	tap_check(cfg.volumes[0].options.discard && !cfg.volumes[0].options.readonly, "discard option");

	tap_check(parse(&cfg, "data /dev/vdb none readonly,no-read-workqueue,no-write-workqueue\n",
			NULL) == 0 && cfg.n_volumes == 1, "entry without key file is ours");
	tap_check(!cfg.volumes[0].has_crypttab_key && cfg.volumes[0].options.readonly &&
		  cfg.volumes[0].options.no_read_workqueue && cfg.volumes[0].options.no_write_workqueue,
		  "readonly and workqueue options");
	tap_check(parse(&cfg, "data /dev/vdb - read-only", NULL) == 0 &&
		  cfg.volumes[0].options.readonly, "'-' key file and read-only spelling");
	tap_check(parse(&cfg, "data /dev/vdb", NULL) == 0 && cfg.n_volumes == 1, "two fields");

	tap_check(parse(&cfg, "swap /dev/vdc /dev/urandom swap\nhome /dev/vdd /etc/home.key\n", NULL) == 0 &&
		  cfg.n_volumes == 0, "volumes with other key files are left alone");
	tap_check(parse(&cfg, "late /dev/vdc none noauto\n", NULL) == 0 && cfg.n_volumes == 0,
		  "noauto entries are left alone");
	tap_check(parse(&cfg, "t /dev/vdb /tmp/s/" G1 "\n", "/tmp/s") == 0 &&
		  cfg.volumes[0].has_crypttab_key, "key file under --secrets-dir");
	tap_check(parse(&cfg, "t /dev/vdb /tmp/s/" G1 "\n", "/tmp/s/") == 0 &&
		  cfg.volumes[0].has_crypttab_key, "secrets dir with trailing slash");
	tap_check(parse(&cfg, "t /dev/vdb /sys/kernel/security/secrets/coco/nope\n", NULL) == 0 &&
		  cfg.n_volumes == 0, "non-GUID file in the secrets dir is not a coco key");
	tap_check(parse(&cfg, "t /dev/vdb /sys/kernel/security/secrets/coco/" G1 "/x\n", NULL) == 0 &&
		  cfg.n_volumes == 0, "path below a GUID is not a coco key");
}

static void test_malformed(void)
{
	struct config cfg;
	char long_line[5000];

	tap_check(parse(&cfg, "justname\n", NULL) < 0, "one field refused");
	tap_check(parse(&cfg, "a /dev/vdb none luks extra\n", NULL) < 0, "five fields refused");
	tap_check(parse(&cfg, "a/b /dev/vdb none\n", NULL) < 0, "bad mapping name refused");
	tap_check(parse(&cfg, "a vdb none\n", NULL) < 0, "relative device refused");
	tap_check(parse(&cfg, "a LABEL= none\n", NULL) < 0, "empty LABEL= refused");
	tap_check(parse(&cfg, "a /dev/vdb none\na /dev/vdc none\n", NULL) < 0,
		  "one name for two devices refused");
	tap_check(parse(&cfg, "a /dev/vdb none\nb /dev/vdb none\n", NULL) < 0,
		  "two names for one device refused");
	tap_check(parse(&cfg, "a UUID=" U1 " /sys/kernel/security/secrets/coco/" G1 "\n"
			"a UUID=" U1 " /sys/kernel/security/secrets/coco/" G1 "\n", NULL) == 0 &&
		  cfg.n_volumes == 1, "an identical line twice is one volume");
	memset(long_line, 'x', sizeof(long_line));
	memcpy(long_line, "a /", 3);
	strcpy(long_line + sizeof(long_line) - 6, " none");
	tap_check(parse(&cfg, long_line, NULL) < 0, "overlong device refused");
	tap_check(parse(&cfg, "a LABEL=../../vda none\n", NULL) < 0, "a LABEL= with '/' refused");
	tap_check(parse(&cfg, "a PARTUUID=x/y none\n", NULL) < 0, "a PARTUUID= with '/' refused");
	tap_check(parse(&cfg, "a /dev/vdb none luks,header=relative.hdr\n", NULL) < 0,
		  "a relative header= refused");
	tap_check(parse(&cfg, "a /dev/vdb none luks,fixate-volume-key=abc\n", NULL) < 0,
		  "a short fixate-volume-key= refused");
	tap_check(parse(&cfg, "a /dev/vdb none x-coco.on-failure=reboot\n", NULL) < 0,
		  "an unknown x-coco.on-failure= refused");
}

static void test_binding(void)
{
	static const char pin[] = "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef";
	struct config cfg;
	char line[512];

	snprintf(line, sizeof(line), "root UUID=%s none luks,header=/etc/root.hdr,fixate-volume-key=%s,"
		 "x-coco.require-mac,x-coco.on-failure=poweroff\n", U1, pin);
	tap_check(parse(&cfg, line, NULL) == 0 && cfg.n_volumes == 1, "header, pin, MAC and poweroff options");
	tap_str_eq(cfg.volumes[0].options.header, "/etc/root.hdr", "header= kept");
	tap_str_eq(cfg.volumes[0].options.pin,
		   "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		   "fixate-volume-key= kept, lowercase");
	tap_check(cfg.volumes[0].options.require_mac, "x-coco.require-mac kept");
	tap_check(cfg.volumes[0].options.on_failure == ON_FAILURE_POWEROFF, "x-coco.on-failure=poweroff kept");
	tap_check(parse(&cfg, "root /dev/vdb none luks\n", NULL) == 0 &&
		  cfg.volumes[0].options.on_failure == ON_FAILURE_PROMPT && !cfg.volumes[0].options.require_mac,
		  "by default: the prompt, no mandatory MAC");
}

int main(void)
{
	log_setup(false, false);
	test_entries();
	test_malformed();
	test_binding();
	return tap_done();
}
