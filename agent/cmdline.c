// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The kernel command line: dracut's and systemd's rd.luks.*, mkinitcpio's
 * cryptdevice=, and coco-unlock's own rd.coco.* parameters. A malformed
 * parameter of ours is a configuration error; other parameters are not
 * our business and are skipped.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "coco-unlock.h"

/*
 * Splits like the kernel's next_arg(): words end at unquoted white space,
 * double quotes group and are dropped. Returns the rest of the line.
 */
static const char *next_word(const char *p, char *word)
{
	bool quoted = false;
	size_t n = 0;

	while (*p == ' ' || *p == '\t' || *p == '\n')
		p++;
	for (; *p != '\0'; p++) {
		if (*p == '"') {
			quoted = !quoted;
			continue;
		}
		if (!quoted && (*p == ' ' || *p == '\t' || *p == '\n'))
			break;
		word[n++] = *p;
	}
	word[n] = '\0';
	return p;
}

static int parse_bool_param(const char *key, const char *value, bool *out)
{
	if (parse_bool_value(value, out))
		return 0;
	log_err("%s=%s: expected a boolean (0 or 1)", key, value);
	return -EINVAL;
}

static int parse_timeout(const char *value, int *out)
{
	char *end;
	long n;

	if (value == NULL || value[0] < '0' || value[0] > '9')
		goto bad;
	errno = 0;
	n = strtol(value, &end, 10);
	if (errno != 0 || *end != '\0' || n > MAX_TIMEOUT_SEC)
		goto bad;
	*out = (int)n;
	return 0;
bad:
	log_err("rd.coco.timeout=%s: expected seconds from 0 to %d", value ? value : "",
		MAX_TIMEOUT_SEC);
	return -EINVAL;
}

static int parse_global_key(struct config *cfg, const char *value)
{
	struct guid g;

	if (!guid_parse(value, &g)) {
		log_err("rd.coco.key=%s: not a GUID", value);
		return -EINVAL;
	}
	if (cfg->has_global_key && !guid_equal(&cfg->global_key, &g)) {
		log_err("rd.coco.key is given two different GUIDs for all volumes");
		return -EINVAL;
	}
	cfg->has_global_key = true;
	cfg->global_key = g;
	return 0;
}

/* rd.coco.key=GUID or rd.coco.key=UUID:GUID */
static int parse_key(struct config *cfg, const char *value)
{
	char uuid_text[UUID_STRING_LEN + 6], uuid[UUID_STRING_LEN + 1];
	const char *colon;
	struct guid g;

	if (value == NULL || value[0] == '\0') {
		log_err("rd.coco.key needs a GUID");
		return -EINVAL;
	}
	colon = strchr(value, ':');
	if (colon == NULL)
		return parse_global_key(cfg, value);

	if (!copy_string_n(uuid_text, sizeof(uuid_text), value, (size_t)(colon - value)) ||
	    !parse_luks_uuid(uuid_text, uuid)) {
		log_err("rd.coco.key=%s: expected UUID:GUID with a LUKS UUID", value);
		return -EINVAL;
	}
	if (!guid_parse(colon + 1, &g)) {
		log_err("rd.coco.key=%s: not a GUID after the colon", value);
		return -EINVAL;
	}
	return config_add_key(cfg, uuid, &g);
}

/* rd.coco.volume-key=UUID:PIN (the form of crypttab's fixate-volume-key=) */
static int parse_volume_key(struct config *cfg, const char *value)
{
	char uuid_text[UUID_STRING_LEN + 6], uuid[UUID_STRING_LEN + 1];
	const char *colon = value ? strchr(value, ':') : NULL;

	if (colon == NULL ||
	    !copy_string_n(uuid_text, sizeof(uuid_text), value, (size_t)(colon - value)) ||
	    !parse_luks_uuid(uuid_text, uuid) || !volume_key_id_valid(colon + 1)) {
		log_err("rd.coco.volume-key=%s: expected UUID:PIN, PIN the 64 hex digits of a volume key id",
			value ? value : "");
		return -EINVAL;
	}
	return config_add_pin(cfg, uuid, colon + 1);
}

static int parse_rd_luks_uuid(struct config *cfg, const char *value)
{
	struct volume v = { .source = SOURCE_RD_LUKS_UUID };

	if (value == NULL || !parse_luks_uuid(value, v.uuid)) {
		log_err("rd.luks.uuid=%s: not a LUKS UUID", value ? value : "");
		return -EINVAL;
	}
	return config_add_volume(cfg, &v);
}

/* rd.luks.name=UUID=NAME */
static int parse_rd_luks_name(struct config *cfg, const char *value)
{
	struct volume v = { .source = SOURCE_RD_LUKS_NAME };
	char uuid_text[UUID_STRING_LEN + 6];
	const char *eq = value ? strchr(value, '=') : NULL;

	if (eq == NULL ||
	    !copy_string_n(uuid_text, sizeof(uuid_text), value, (size_t)(eq - value)) ||
	    !parse_luks_uuid(uuid_text, v.uuid)) {
		log_err("rd.luks.name=%s: expected UUID=NAME", value ? value : "");
		return -EINVAL;
	}
	if (!mapping_name_valid(eq + 1) || !copy_string(v.name, sizeof(v.name), eq + 1)) {
		log_err("rd.luks.name: '%s' is not a valid mapping name", eq + 1);
		return -EINVAL;
	}
	return config_add_volume(cfg, &v);
}

/* cryptdevice=DEVICE:NAME[:OPTIONS] (mkinitcpio's encrypt hook) */
int cryptdevice_parse(const char *value, struct volume *v)
{
	const char *name, *opts;
	size_t name_len;

	memset(v, 0, sizeof(*v));
	v->source = SOURCE_CRYPTDEVICE;
	name = value ? strchr(value, ':') : NULL;
	if (name == NULL) {
		log_err("cryptdevice=%s: expected DEVICE:NAME[:OPTIONS]", value ? value : "");
		return -EINVAL;
	}
	if (!copy_string_n(v->device, sizeof(v->device), value, (size_t)(name - value)) ||
	    !device_spec_valid(v->device)) {
		log_err("cryptdevice: the device must be a path or UUID=, LABEL=, PARTUUID=, PARTLABEL=");
		return -EINVAL;
	}
	name++;
	opts = strchr(name, ':');
	name_len = opts ? (size_t)(opts - name) : strlen(name);
	if (!copy_string_n(v->name, sizeof(v->name), name, name_len) || !mapping_name_valid(v->name)) {
		log_err("cryptdevice: the mapping name is missing or not valid");
		return -EINVAL;
	}
	if (opts != NULL)
		return volume_options_parse(opts + 1, &v->options);
	return 0;
}

/*
 * cryptdevice=, and mkinitcpio's cryptheader= for it. Only a header in the
 * initramfs (rootfs:PATH) is taken: one on another disk is the host's.
 */
static int parse_cryptdevice(struct config *cfg, const char *value, const char *header)
{
	struct volume v;
	int r;

	r = cryptdevice_parse(value, &v);
	if (r < 0)
		return r;
	if (header != NULL) {
		if (strncmp(header, "rootfs:/", 8) != 0 ||
		    !copy_string(v.options.header, sizeof(v.options.header), header + 7)) {
			log_err("cryptheader=%s: only rootfs:PATH (a header file in the initramfs) is supported",
				header);
			return -EINVAL;
		}
	}
	return config_add_volume(cfg, &v);
}

static int parse_param(struct config *cfg, const char *key, const char *value)
{
	bool b;
	int r;

	if (strcmp(key, "rd.coco") == 0 || strcmp(key, "rd.luks") == 0) {
		r = parse_bool_param(key, value, &b);
		if (r == 0 && !b)
			cfg->disabled = true;
		return r;
	}
	if (strcmp(key, "rd.coco.debug") == 0)
		return parse_bool_param(key, value, &cfg->debug);
	if (strcmp(key, "rd.coco.try-all") == 0)
		return parse_bool_param(key, value, &cfg->try_all);
	if (strcmp(key, "rd.luks.crypttab") == 0)
		return parse_bool_param(key, value, &cfg->use_crypttab);
	if (strcmp(key, "rd.luks.allow-discards") == 0) {
		/* dracut's old per-UUID form, too, turns discards on. */
		if (!parse_bool_value(value, &b))
			b = true;
		cfg->global_options.discard |= b;
		return 0;
	}
	if (strcmp(key, "rd.coco.timeout") == 0)
		return parse_timeout(value, &cfg->timeout_sec);
	if (strcmp(key, "rd.coco.wipe") == 0) {
		if (value != NULL && wipe_parse_policy(value, &cfg->wipe) == 0)
			return 0;
		log_err("rd.coco.wipe=%s: expected used, all or none", value ? value : "");
		return -EINVAL;
	}
	if (strcmp(key, "rd.coco.key") == 0)
		return parse_key(cfg, value);
	if (strcmp(key, "rd.coco.volume-key") == 0)
		return parse_volume_key(cfg, value);
	if (strcmp(key, "rd.coco.require-mac") == 0)
		return parse_bool_param(key, value, &cfg->global_options.require_mac);
	if (strcmp(key, "rd.coco.on-failure") == 0) {
		if (on_failure_parse(value, &cfg->global_options.on_failure) == 0)
			return 0;
		log_err("rd.coco.on-failure=%s: expected prompt or poweroff", value ? value : "");
		return -EINVAL;
	}
	if (strcmp(key, "rd.luks.uuid") == 0)
		return parse_rd_luks_uuid(cfg, value);
	if (strcmp(key, "rd.luks.name") == 0)
		return parse_rd_luks_name(cfg, value);
	if (strcmp(key, "cryptdevice") == 0)
		return parse_cryptdevice(cfg, value, cfg->cryptheader);
	if (strcmp(key, "cryptheader") == 0)
		return 0;
	if (strncmp(key, "rd.coco.", 8) == 0)
		log_warn("unknown parameter %s ignored", key);
	return 0;
}

/* mkinitcpio's cryptheader=, wherever it stands: cryptdevice= needs it. */
static char *find_cryptheader(const char *cmdline, char *word)
{
	const char *p = cmdline;
	char *found = NULL;

	for (;;) {
		p = next_word(p, word);
		if (word[0] == '\0')
			break;
		if (strncmp(word, "cryptheader=", 12) == 0) {
			free(found);
			found = strdup(word + 12);
		}
	}
	return found;
}

int cmdline_parse(struct config *cfg, const char *cmdline)
{
	const char *p = cmdline;
	char *word;
	int r = 0;

	word = malloc(strlen(cmdline) + 1);
	if (word == NULL)
		return -ENOMEM;
	cfg->cryptheader = find_cryptheader(cmdline, word);
	for (;;) {
		char *eq;

		p = next_word(p, word);
		if (word[0] == '\0')
			break;
		eq = strchr(word, '=');
		if (eq != NULL)
			*eq = '\0';
		r = parse_param(cfg, word, eq ? eq + 1 : NULL);
		if (r < 0)
			break;
	}
	free(cfg->cryptheader);
	cfg->cryptheader = NULL;
	free(word);
	return r;
}
