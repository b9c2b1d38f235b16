// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * crypttab(5) in the initramfs: "NAME DEVICE [KEYFILE [OPTIONS]]". A volume
 * is ours when its key file is a file of the secrets directory, or when
 * it has no key file (a token or the conventional secret may open it).
 * Volumes keyed by other files, and noauto ones, are left to the standard
 * units. The volumes read are returned in file order; config.c merges them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "coco-unlock.h"

#define CRYPTTAB_FIELDS 4

/* The GUID of a key file under @dir, or false. */
static bool key_file_guid(const char *key_file, const char *dir, struct guid *out)
{
	size_t len;

	if (dir == NULL)
		return false;
	len = strlen(dir);
	while (len > 1 && dir[len - 1] == '/')
		len--;
	if (strncmp(key_file, dir, len) != 0 || key_file[len] != '/')
		return false;
	return guid_parse(key_file + len + 1, out);
}

static bool has_option(const char *options, const char *name)
{
	size_t n = strlen(name);
	const char *p = options;

	while (p != NULL && *p != '\0') {
		if (strncmp(p, name, n) == 0 && (p[n] == ',' || p[n] == '\0'))
			return true;
		p = strchr(p, ',');
		if (p != NULL)
			p++;
	}
	return false;
}

static int split_fields(char *line, char *fields[CRYPTTAB_FIELDS])
{
	int n = 0;
	char *save = NULL, *tok;

	for (tok = strtok_r(line, " \t", &save); tok != NULL; tok = strtok_r(NULL, " \t", &save)) {
		if (n == CRYPTTAB_FIELDS)
			return -EINVAL;
		fields[n++] = tok;
	}
	return n;
}

static int parse_line(struct volume_list *out, char *line, unsigned lineno, const char *secrets_dir)
{
	char *f[CRYPTTAB_FIELDS] = { NULL, NULL, NULL, NULL };
	struct volume v = { .source = SOURCE_CRYPTTAB };
	const char *key_file, *options;
	int n;

	n = split_fields(line, f);
	if (n == 0)
		return 0;
	if (n < 2) {
		log_err("crypttab line %u: expected NAME DEVICE [KEYFILE [OPTIONS]]", lineno);
		return -EINVAL;
	}
	key_file = n > 2 ? f[2] : "none";
	options = n > 3 ? f[3] : "";

	if (has_option(options, "noauto")) {
		log_debug("crypttab line %u: %s is noauto, skipped", lineno, f[0]);
		return 0;
	}
	if (strcmp(key_file, "none") != 0 && strcmp(key_file, "-") != 0) {
		if (!key_file_guid(key_file, SECRETS_DIR, &v.crypttab_key) &&
		    !key_file_guid(key_file, secrets_dir, &v.crypttab_key)) {
			log_debug("crypttab line %u: %s has a key file of its own, skipped", lineno, f[0]);
			return 0;
		}
		v.has_crypttab_key = true;
	}
	if (!mapping_name_valid(f[0]) || !copy_string(v.name, sizeof(v.name), f[0])) {
		log_err("crypttab line %u: '%s' is not a valid mapping name", lineno, f[0]);
		return -EINVAL;
	}
	if (!device_spec_valid(f[1]) || !copy_string(v.device, sizeof(v.device), f[1])) {
		log_err("crypttab line %u: the device must be a path or UUID=, LABEL=, PARTUUID=, "
			"PARTLABEL= (at most %d bytes)", lineno, PATH_MAX - 1);
		return -EINVAL;
	}
	if (volume_options_parse(options, &v.options) < 0) {
		log_err("crypttab line %u: bad options for %s", lineno, f[0]);
		return -EINVAL;
	}
	return volume_list_add(out, &v);
}

int crypttab_parse(const char *text, const char *secrets_dir, struct volume_list *out)
{
	char *copy, *line;
	unsigned lineno = 0;
	int r = 0;

	memset(out, 0, sizeof(*out));
	copy = strdup(text);
	if (copy == NULL)
		return -ENOMEM;
	/* Split by hand: strtok_r would merge empty lines and skew the numbers. */
	for (line = copy; line != NULL; ) {
		char *next = strchr(line, '\n');
		char *hash;

		if (next != NULL)
			*next++ = '\0';
		lineno++;
		hash = strchr(line, '#');
		if (hash != NULL)
			*hash = '\0';
		r = parse_line(out, line, lineno, secrets_dir);
		if (r < 0)
			break;
		line = next;
	}
	free(copy);
	if (r < 0)
		volume_list_free(out);
	return r;
}
