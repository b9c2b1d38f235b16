// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The kernel command line: dracut's and systemd's rd.luks.*, mkinitcpio's
 * cryptdevice=, and coco-unlock's own rd.coco.* parameters. A malformed
 * parameter of ours is a configuration error; other parameters are not
 * our business and are skipped. What is read goes into a struct cmdline,
 * in the order given; config.c merges it with crypttab's volumes.
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

/* rd.coco.key=UUID:GUID, as read: config.c says whether two disagree. */
static int cmdline_add_key(struct cmdline *cl, const char *uuid, const struct guid *guid)
{
	struct volume_key *k = reallocarray(cl->keys, cl->n_keys + 1, sizeof(*k));

	if (k == NULL)
		return -ENOMEM;
	cl->keys = k;
	memcpy(k[cl->n_keys].uuid, uuid, UUID_STRING_LEN + 1);
	k[cl->n_keys].guid = *guid;
	cl->n_keys++;
	return 0;
}

/* rd.coco.volume-key=UUID:PIN, as read. */
static int cmdline_add_pin(struct cmdline *cl, const char *uuid, const char *pin)
{
	struct volume_pin *p = reallocarray(cl->pins, cl->n_pins + 1, sizeof(*p));

	if (p == NULL)
		return -ENOMEM;
	cl->pins = p;
	memcpy(p[cl->n_pins].uuid, uuid, UUID_STRING_LEN + 1);
	memcpy(p[cl->n_pins].pin, pin, VOLUME_KEY_ID_LEN + 1);
	cl->n_pins++;
	return 0;
}

static int parse_global_key(struct cmdline *cl, const char *value)
{
	struct guid g;

	if (!guid_parse(value, &g)) {
		log_err("rd.coco.key=%s: not a GUID", value);
		return -EINVAL;
	}
	if (cl->has_global_key && !guid_equal(&cl->global_key, &g)) {
		log_err("rd.coco.key is given two different GUIDs for all volumes");
		return -EINVAL;
	}
	cl->has_global_key = true;
	cl->global_key = g;
	return 0;
}

/* rd.coco.key=GUID or rd.coco.key=UUID:GUID */
static int parse_key(struct cmdline *cl, const char *value)
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
		return parse_global_key(cl, value);

	if (!copy_string_n(uuid_text, sizeof(uuid_text), value, (size_t)(colon - value)) ||
	    !parse_luks_uuid(uuid_text, uuid)) {
		log_err("rd.coco.key=%s: expected UUID:GUID with a LUKS UUID", value);
		return -EINVAL;
	}
	if (!guid_parse(colon + 1, &g)) {
		log_err("rd.coco.key=%s: not a GUID after the colon", value);
		return -EINVAL;
	}
	return cmdline_add_key(cl, uuid, &g);
}

/* rd.coco.volume-key=UUID:PIN (the form of crypttab's fixate-volume-key=) */
static int parse_volume_key(struct cmdline *cl, const char *value)
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
	return cmdline_add_pin(cl, uuid, colon + 1);
}

static int parse_rd_luks_uuid(struct cmdline *cl, const char *value)
{
	struct volume v = { .source = SOURCE_RD_LUKS_UUID };

	if (value == NULL || !parse_luks_uuid(value, v.uuid)) {
		log_err("rd.luks.uuid=%s: not a LUKS UUID", value ? value : "");
		return -EINVAL;
	}
	return volume_list_add(&cl->volumes, &v);
}

/* rd.luks.name=UUID=NAME */
static int parse_rd_luks_name(struct cmdline *cl, const char *value)
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
	return volume_list_add(&cl->volumes, &v);
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
static int parse_cryptdevice(struct cmdline *cl, const char *value, const char *header)
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
	return volume_list_add(&cl->volumes, &v);
}

static int parse_param(struct cmdline *cl, const char *key, const char *value,
		       const char *cryptheader)
{
	bool b;
	int r;

	if (strcmp(key, "rd.coco") == 0 || strcmp(key, "rd.luks") == 0) {
		r = parse_bool_param(key, value, &b);
		if (r == 0 && !b)
			cl->disabled = true;
		return r;
	}
	if (strcmp(key, "rd.coco.debug") == 0)
		return parse_bool_param(key, value, &cl->debug);
	if (strcmp(key, "rd.coco.try-all") == 0)
		return parse_bool_param(key, value, &cl->try_all);
	if (strcmp(key, "rd.luks.crypttab") == 0)
		return parse_bool_param(key, value, &cl->use_crypttab);
	if (strcmp(key, "rd.luks.allow-discards") == 0) {
		/* dracut's old per-UUID form, too, turns discards on. */
		if (!parse_bool_value(value, &b))
			b = true;
		cl->global_options.discard |= b;
		return 0;
	}
	if (strcmp(key, "rd.coco.timeout") == 0)
		return parse_timeout(value, &cl->timeout_sec);
	if (strcmp(key, "rd.coco.wipe") == 0) {
		if (value != NULL && wipe_parse_policy(value, &cl->wipe) == 0)
			return 0;
		log_err("rd.coco.wipe=%s: expected used, all or none", value ? value : "");
		return -EINVAL;
	}
	if (strcmp(key, "rd.coco.key") == 0)
		return parse_key(cl, value);
	if (strcmp(key, "rd.coco.volume-key") == 0)
		return parse_volume_key(cl, value);
	if (strcmp(key, "rd.coco.require-mac") == 0)
		return parse_bool_param(key, value, &cl->global_options.require_mac);
	if (strcmp(key, "rd.coco.on-failure") == 0) {
		if (on_failure_parse(value, &cl->global_options.on_failure) == 0)
			return 0;
		log_err("rd.coco.on-failure=%s: expected prompt or poweroff", value ? value : "");
		return -EINVAL;
	}
	if (strcmp(key, "rd.luks.uuid") == 0)
		return parse_rd_luks_uuid(cl, value);
	if (strcmp(key, "rd.luks.name") == 0)
		return parse_rd_luks_name(cl, value);
	if (strcmp(key, "cryptdevice") == 0)
		return parse_cryptdevice(cl, value, cryptheader);
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

void cmdline_init(struct cmdline *cl)
{
	memset(cl, 0, sizeof(*cl));
	cl->use_crypttab = true;
	cl->timeout_sec = DEFAULT_TIMEOUT_SEC;
	cl->wipe = WIPE_USED;
}

void cmdline_free(struct cmdline *cl)
{
	volume_list_free(&cl->volumes);
	free(cl->keys);
	free(cl->pins);
	cmdline_init(cl);
}

int cmdline_parse(const char *cmdline, struct cmdline *cl)
{
	const char *p = cmdline;
	char *word, *cryptheader;
	int r = 0;

	cmdline_init(cl);
	word = malloc(strlen(cmdline) + 1);
	if (word == NULL)
		return -ENOMEM;
	cryptheader = find_cryptheader(cmdline, word);
	for (;;) {
		char *eq;

		p = next_word(p, word);
		if (word[0] == '\0')
			break;
		eq = strchr(word, '=');
		if (eq != NULL)
			*eq = '\0';
		r = parse_param(cl, word, eq ? eq + 1 : NULL, cryptheader);
		if (r < 0)
			break;
	}
	free(cryptheader);
	free(word);
	if (r < 0)
		cmdline_free(cl);
	return r;
}
