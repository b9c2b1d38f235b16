// SPDX-License-Identifier: LGPL-2.1-or-later
/* The kernel command line: rd.luks.*, cryptdevice=, rd.coco.* */
#include <string.h>

#include "coco-unlock.h"
#include "tap.h"

#define U1 "11111111-2222-3333-4444-555555555555"
#define U2 "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
#define G1 "01234567-89ab-cdef-0123-456789abcdef"
#define G2 "fedcba98-7654-3210-fedc-ba9876543210"

static int parse(struct config *cfg, const char *line)
{
	config_init(cfg);
	if (config_parse_cmdline(cfg, line) < 0)
		return -1;
	return config_finish(cfg);
}

static void test_defaults(void)
{
	struct config cfg;

	tap_check(parse(&cfg, "BOOT_IMAGE=/vmlinuz root=/dev/mapper/root ro quiet") == 0,
		  "unrelated parameters are fine");
	tap_check(cfg.n_volumes == 0 && !cfg.disabled && cfg.timeout_sec == 30 &&
		  cfg.wipe == WIPE_USED && cfg.use_crypttab && !cfg.try_all && !cfg.debug,
		  "defaults: no volume, enabled, 30 s, wipe=used, crypttab on");
}

static void test_rd_luks(void)
{
	struct config cfg;

	tap_check(parse(&cfg, "rd.luks.uuid=" U1 " rd.luks.uuid=luks-" U2) == 0, "two rd.luks.uuid");
	tap_check(cfg.n_volumes == 2, "two volumes");
	tap_str_eq(cfg.volumes[0].uuid, U1, "plain UUID");
	tap_str_eq(cfg.volumes[1].uuid, U2, "luks- prefix dropped");
	tap_str_eq(cfg.volumes[0].name, "luks-" U1, "default mapping name luks-UUID");

	tap_check(parse(&cfg, "rd.luks.uuid=" U1 " rd.luks.name=" U1 "=root") == 0,
		  "rd.luks.uuid and rd.luks.name for one volume");
	tap_check(cfg.n_volumes == 1, "merged into one volume");
	tap_str_eq(cfg.volumes[0].name, "root", "name from rd.luks.name");

	tap_check(parse(&cfg, "rd.luks.uuid=" U1 " rd.luks.uuid=" U1) == 0 && cfg.n_volumes == 1,
		  "duplicate rd.luks.uuid merged");
	tap_check(parse(&cfg, "rd.luks.uuid=AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEEE") == 0 &&
		  strcmp(cfg.volumes[0].uuid, U2) == 0, "uppercase UUID folded");

	tap_check(parse(&cfg, "rd.luks.name=" U1 "=a rd.luks.name=" U1 "=b") < 0,
		  "one volume with two names refused");
	tap_check(parse(&cfg, "rd.luks.name=" U1 "=root rd.luks.name=" U2 "=root") < 0,
		  "two volumes with one name refused");
	tap_check(parse(&cfg, "rd.luks.uuid=1234") < 0, "short UUID refused");
	tap_check(parse(&cfg, "rd.luks.uuid=") < 0, "empty rd.luks.uuid refused");
	tap_check(parse(&cfg, "rd.luks.uuid") < 0, "rd.luks.uuid without value refused");
	tap_check(parse(&cfg, "rd.luks.name=" U1) < 0, "rd.luks.name without =NAME refused");
	tap_check(parse(&cfg, "rd.luks.name=" U1 "=") < 0, "rd.luks.name with empty name refused");
	tap_check(parse(&cfg, "rd.luks.name=" U1 "=a/b") < 0, "name with slash refused");
	tap_check(parse(&cfg, "rd.luks.name=notauuid=root") < 0, "rd.luks.name with bad UUID refused");
	{
		char line[400] = "rd.luks.name=" U1 "=";
		size_t n = strlen(line);

		memset(line + n, 'x', 200);
		line[n + 200] = '\0';
		tap_check(parse(&cfg, line) < 0, "overlong mapping name refused");
	}
	{
		char line[200] = "rd.luks.uuid=" U1;

		strcat(line, "00000000000000000000");
		tap_check(parse(&cfg, line) < 0, "overlong UUID refused");
	}
	tap_check(parse(&cfg, "rd.luks=0 rd.luks.uuid=" U1) == 0 && cfg.disabled, "rd.luks=0 disables");
	tap_check(parse(&cfg, "rd.luks.crypttab=0") == 0 && !cfg.use_crypttab, "rd.luks.crypttab=0");
	tap_check(parse(&cfg, "rd.luks.allow-discards rd.luks.uuid=" U1) == 0 &&
		  cfg.volumes[0].options.discard, "rd.luks.allow-discards applies to volumes");
}

static void test_cryptdevice(void)
{
	struct config cfg;
	struct volume v;

	tap_check(cryptdevice_parse("/dev/vda2:root", &v) == 0, "cryptdevice DEVICE:NAME");
	tap_str_eq(v.device, "/dev/vda2", "device");
	tap_str_eq(v.name, "root", "name");
	tap_check(cryptdevice_parse("UUID=" U1 ":cryptroot:allow-discards,no-read-workqueue", &v) == 0,
		  "cryptdevice with UUID= and options");
	tap_check(v.options.discard && v.options.no_read_workqueue && !v.options.no_write_workqueue &&
		  !v.options.readonly, "allow-discards and no-read-workqueue set, nothing else");
	tap_check(cryptdevice_parse("/dev/vda2", &v) < 0, "missing name refused");
	tap_check(cryptdevice_parse("/dev/vda2:", &v) < 0, "empty name refused");
	tap_check(cryptdevice_parse(":root", &v) < 0, "empty device refused");
	tap_check(cryptdevice_parse("vda2:root", &v) < 0, "relative device refused");
	tap_check(cryptdevice_parse("UUID=:root", &v) < 0, "empty UUID= refused");
	{
		char value[PATH_MAX + 64] = "/";

		memset(value + 1, 'd', PATH_MAX + 10);
		strcpy(value + PATH_MAX + 11, ":root");
		tap_check(cryptdevice_parse(value, &v) < 0, "overlong device refused");
	}
	tap_check(parse(&cfg, "cryptdevice=UUID=" U1 ":root") == 0 && cfg.n_volumes == 1,
		  "cryptdevice on the command line");
	tap_str_eq(cfg.volumes[0].uuid, U1, "UUID= device merges by UUID");
	tap_check(parse(&cfg, "cryptdevice=UUID=" U1 ":root rd.luks.uuid=" U1) == 0 && cfg.n_volumes == 1,
		  "cryptdevice and rd.luks.uuid of one volume merge");
	tap_check(parse(&cfg, "cryptdevice=/dev/vda:a cryptdevice=/dev/vda:b") < 0,
		  "one device with two names refused");
}

static void test_coco_params(void)
{
	struct config cfg;

	tap_check(parse(&cfg, "rd.coco=0") == 0 && cfg.disabled, "rd.coco=0 disables");
	tap_check(parse(&cfg, "rd.coco=1") == 0 && !cfg.disabled, "rd.coco=1 enables");
	tap_check(parse(&cfg, "rd.coco=maybe") < 0, "rd.coco=maybe refused");
	tap_check(parse(&cfg, "rd.coco.debug rd.coco.require-mac rd.luks.uuid=" U1 " rd.coco.try-all") == 0 &&
		  cfg.debug && cfg.try_all && cfg.global_options.require_mac, "flags without value");
	tap_check(parse(&cfg, "rd.coco.try-all rd.luks.uuid=" U1) < 0,
		  "rd.coco.try-all on a volume without a pin or a mandatory MAC: refused");
	tap_check(parse(&cfg, "rd.coco.try-all") < 0,
		  "rd.coco.try-all with only a scan for volumes: refused");
	tap_check(parse(&cfg, "rd.coco.try-all=0") == 0 && !cfg.try_all, "rd.coco.try-all=0");
	tap_check(parse(&cfg, "rd.coco.timeout=5") == 0 && cfg.timeout_sec == 5, "timeout 5");
	tap_check(parse(&cfg, "rd.coco.timeout=0") == 0 && cfg.timeout_sec == 0, "timeout 0");
	tap_check(parse(&cfg, "rd.coco.timeout=5 rd.coco.timeout=7") == 0 && cfg.timeout_sec == 7,
		  "last timeout wins, as on any kernel command line");
	tap_check(parse(&cfg, "rd.coco.timeout=-1") < 0, "negative timeout refused");
	tap_check(parse(&cfg, "rd.coco.timeout=5s") < 0, "timeout with unit refused");
	tap_check(parse(&cfg, "rd.coco.timeout=99999999999999999999") < 0, "huge timeout refused");
	tap_check(parse(&cfg, "rd.coco.timeout=") < 0, "empty timeout refused");
	tap_check(parse(&cfg, "rd.coco.wipe=all") == 0 && cfg.wipe == WIPE_ALL, "wipe=all");
	tap_check(parse(&cfg, "rd.coco.wipe=none") == 0 && cfg.wipe == WIPE_NONE, "wipe=none");
	tap_check(parse(&cfg, "rd.coco.wipe=used") == 0 && cfg.wipe == WIPE_USED, "wipe=used");
	tap_check(parse(&cfg, "rd.coco.wipe=some") < 0, "wipe=some refused");
	tap_check(parse(&cfg, "rd.coco.wipe") < 0, "wipe without value refused");
}

static void test_keys(void)
{
	struct config cfg;

	tap_check(parse(&cfg, "rd.coco.key=" G1) == 0 && cfg.has_global_key &&
		  strcmp(cfg.global_key.str, G1) == 0, "global rd.coco.key");
	tap_check(parse(&cfg, "rd.coco.key=" U1 ":" G2) == 0 && cfg.n_keys == 1 &&
		  strcmp(cfg.keys[0].uuid, U1) == 0 && strcmp(cfg.keys[0].guid.str, G2) == 0,
		  "per-volume rd.coco.key=UUID:GUID");
	tap_check(parse(&cfg, "rd.coco.key=luks-" U1 ":" G2) == 0 && cfg.n_keys == 1,
		  "per-volume key with luks- prefix");
	tap_check(parse(&cfg, "rd.coco.key=" U1 ":" G2 " rd.coco.key=" U1 ":" G2) == 0 &&
		  cfg.n_keys == 1, "same key twice is one key");
	tap_check(parse(&cfg, "rd.coco.key=" U1 ":" G1 " rd.coco.key=" U1 ":" G2) < 0,
		  "two keys for one volume refused");
	tap_check(parse(&cfg, "rd.coco.key=" G1 " rd.coco.key=" G2) < 0, "two global keys refused");
	tap_check(parse(&cfg, "rd.coco.key=nonsense") < 0, "bad GUID refused");
	tap_check(parse(&cfg, "rd.coco.key=" U1 ":") < 0, "UUID: without GUID refused");
	tap_check(parse(&cfg, "rd.coco.key=" U1 G1) < 0, "missing colon refused");
	tap_check(parse(&cfg, "rd.coco.key=123:" G1) < 0, "bad UUID before colon refused");
	tap_check(parse(&cfg, "rd.coco.key=") < 0, "empty rd.coco.key refused");
}

static void test_quoting(void)
{
	struct config cfg;

	tap_check(parse(&cfg, "  \"rd.luks.name=" U1 "=root\"\trd.coco.timeout=\"3\"\n") == 0,
		  "quotes and tabs handled like the kernel");
	tap_check(cfg.n_volumes == 1 && strcmp(cfg.volumes[0].name, "root") == 0 && cfg.timeout_sec == 3,
		  "quoted values parsed");
	tap_check(parse(&cfg, "") == 0 && cfg.n_volumes == 0, "empty line");
}

#define PIN "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

static void test_binding(void)
{
	struct config cfg;

	tap_check(parse(&cfg, "rd.luks.uuid=" U1 " rd.coco.volume-key=" U1 ":" PIN) == 0 && cfg.n_pins == 1,
		  "rd.coco.volume-key=UUID:PIN");
	tap_str_eq(volume_pin(&cfg, &cfg.volumes[0]), PIN, "the pin applies to that volume");
	tap_check(parse(&cfg, "rd.coco.volume-key=" U1 ":abc") < 0, "a short pin refused");
	tap_check(parse(&cfg, "rd.coco.volume-key=" PIN) < 0, "a pin without UUID refused");
	tap_check(parse(&cfg, "rd.coco.volume-key=" U1 ":" PIN " rd.coco.volume-key=" U1 ":"
			"ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff") < 0,
		  "two pins for one volume refused");
	tap_check(parse(&cfg, "rd.luks.uuid=" U1 " rd.coco.on-failure=poweroff") == 0 &&
		  cfg.volumes[0].options.on_failure == ON_FAILURE_POWEROFF, "rd.coco.on-failure=poweroff");
	tap_check(parse(&cfg, "rd.luks.uuid=" U1) == 0 && cfg.volumes[0].options.on_failure == ON_FAILURE_PROMPT,
		  "on-failure defaults to the prompt");
	tap_check(parse(&cfg, "rd.coco.on-failure=halt") < 0, "rd.coco.on-failure=halt refused");
	tap_check(parse(&cfg, "rd.luks.uuid=" U1 " rd.coco.require-mac") == 0 &&
		  cfg.volumes[0].options.require_mac, "rd.coco.require-mac reaches every volume");
	tap_check(parse(&cfg, "cryptheader=rootfs:/etc/root.hdr cryptdevice=/dev/vdb:root") == 0 &&
		  strcmp(cfg.volumes[0].options.header, "/etc/root.hdr") == 0,
		  "cryptheader=rootfs:PATH before cryptdevice=");
	tap_check(parse(&cfg, "cryptdevice=/dev/vdb:root cryptheader=rootfs:/etc/root.hdr") == 0 &&
		  strcmp(cfg.volumes[0].options.header, "/etc/root.hdr") == 0, "and after it");
	tap_check(parse(&cfg, "cryptdevice=/dev/vdb:root cryptheader=/dev/sdb1:ext4:/root.hdr") < 0,
		  "a header on another disk (the host's) refused");
}

int main(void)
{
	log_setup(false, false);
	test_binding();
	test_defaults();
	test_rd_luks();
	test_cryptdevice();
	test_coco_params();
	test_keys();
	test_quoting();
	return tap_done();
}
