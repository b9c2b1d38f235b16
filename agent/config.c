// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The configuration: which volumes to unlock with which options, merged
 * from the kernel command line and crypttab, and the rd.coco.* settings.
 * The parsers (cmdline.c, crypttab.c) return what they read; the merge,
 * and every rule about two sources disagreeing, is here.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "coco-unlock.h"

#define CONFIG_FILE_MAX (64 * 1024)

void config_init(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->use_crypttab = true;
	cfg->timeout_sec = DEFAULT_TIMEOUT_SEC;
	cfg->wipe = WIPE_USED;
}

const char *volume_label(const struct volume *v)
{
	if (v->name[0] != '\0')
		return v->name;
	if (v->uuid[0] != '\0')
		return v->uuid;
	return v->device;
}

/* "UUID=x" and /dev/disk/by-uuid/x name a volume by UUID: merge on it. */
static void normalize_device(struct volume *v)
{
	static const char by_uuid[] = "/dev/disk/by-uuid/";
	const char *value = NULL;
	char uuid[UUID_STRING_LEN + 1];

	if (strncmp(v->device, "UUID=", 5) == 0)
		value = v->device + 5;
	else if (strncmp(v->device, by_uuid, sizeof(by_uuid) - 1) == 0)
		value = v->device + sizeof(by_uuid) - 1;
	if (value == NULL || !parse_luks_uuid(value, uuid))
		return;
	if (v->uuid[0] != '\0' && strcmp(v->uuid, uuid) != 0)
		return;
	memcpy(v->uuid, uuid, sizeof(uuid));
	v->device[0] = '\0';
}

static struct volume *find_same_volume(struct config *cfg, const struct volume *v)
{
	size_t i;

	for (i = 0; i < cfg->n_volumes; i++) {
		struct volume *o = &cfg->volumes[i];

		if (v->uuid[0] != '\0' && strcmp(o->uuid, v->uuid) == 0)
			return o;
		if (v->device[0] != '\0' && strcmp(o->device, v->device) == 0)
			return o;
	}
	return NULL;
}

static struct volume *find_volume_by_name(struct config *cfg, const char *name)
{
	size_t i;

	for (i = 0; i < cfg->n_volumes; i++)
		if (name[0] != '\0' && strcmp(cfg->volumes[i].name, name) == 0)
			return &cfg->volumes[i];
	return NULL;
}

/* Flags add up; a pin or a header given twice must be the same. */
static int merge_options(struct volume_options *to, const struct volume_options *from,
			 const char *label)
{
	if (from->pin[0] != '\0' && to->pin[0] != '\0' && strcmp(from->pin, to->pin) != 0) {
		log_err("volume %s is given two volume key pins", label);
		return -EINVAL;
	}
	if (from->header[0] != '\0' && to->header[0] != '\0' && strcmp(from->header, to->header) != 0) {
		log_err("volume %s is given two detached headers", label);
		return -EINVAL;
	}
	to->discard |= from->discard;
	to->readonly |= from->readonly;
	to->no_read_workqueue |= from->no_read_workqueue;
	to->no_write_workqueue |= from->no_write_workqueue;
	to->require_mac |= from->require_mac;
	if (to->on_failure == ON_FAILURE_UNSET)
		to->on_failure = from->on_failure;
	if (to->pin[0] == '\0')
		memcpy(to->pin, from->pin, sizeof(to->pin));
	if (to->header[0] == '\0')
		memcpy(to->header, from->header, sizeof(to->header));
	return 0;
}

static int merge_volume(struct config *cfg, struct volume *o, const struct volume *v)
{
	struct volume *named;

	if (v->name[0] != '\0' && o->name[0] != '\0' && strcmp(o->name, v->name) != 0) {
		log_err("volume %s is given two names, %s and %s", o->uuid[0] ? o->uuid : o->device,
			o->name, v->name);
		return -EINVAL;
	}
	if (v->has_crypttab_key && o->has_crypttab_key && !guid_equal(&o->crypttab_key, &v->crypttab_key)) {
		log_err("volume %s is given two key files", volume_label(o));
		return -EINVAL;
	}
	if (o->name[0] == '\0' && v->name[0] != '\0') {
		named = find_volume_by_name(cfg, v->name);
		if (named != NULL && named != o) {
			log_err("mapping name %s is used by two volumes", v->name);
			return -EINVAL;
		}
		memcpy(o->name, v->name, sizeof(o->name));
	}
	if (o->uuid[0] == '\0' && v->uuid[0] != '\0')
		memcpy(o->uuid, v->uuid, sizeof(o->uuid));
	if (o->device[0] == '\0' && v->device[0] != '\0')
		memcpy(o->device, v->device, sizeof(o->device));
	if (v->has_crypttab_key) {
		o->has_crypttab_key = true;
		o->crypttab_key = v->crypttab_key;
	}
	return merge_options(&o->options, &v->options, volume_label(o));
}

/* Adds a volume, or merges it into the one with the same UUID or device. */
int config_add_volume(struct config *cfg, const struct volume *v)
{
	struct volume copy = *v;
	struct volume *o;

	normalize_device(&copy);
	if (copy.uuid[0] == '\0' && copy.device[0] == '\0') {
		log_err("a volume has neither a UUID nor a device");
		return -EINVAL;
	}
	o = find_same_volume(cfg, &copy);
	if (o != NULL)
		return merge_volume(cfg, o, &copy);

	if (find_volume_by_name(cfg, copy.name) != NULL) {
		log_err("mapping name %s is used by two volumes", copy.name);
		return -EINVAL;
	}
	if (cfg->n_volumes >= MAX_VOLUMES) {
		log_err("too many volumes (at most %d)", MAX_VOLUMES);
		return -E2BIG;
	}
	copy.state = VOLUME_PENDING;
	cfg->volumes[cfg->n_volumes++] = copy;
	return 0;
}

/* rd.coco.key=UUID:GUID; the same key twice is fine, two keys are not. */
int config_add_key(struct config *cfg, const char *uuid, const struct guid *guid)
{
	size_t i;

	for (i = 0; i < cfg->n_keys; i++) {
		if (strcmp(cfg->keys[i].uuid, uuid) != 0)
			continue;
		if (guid_equal(&cfg->keys[i].guid, guid))
			return 0;
		log_err("volume %s is given two keys in rd.coco.key", uuid);
		return -EINVAL;
	}
	if (cfg->n_keys >= MAX_VOLUME_KEYS) {
		log_err("too many rd.coco.key= parameters (at most %d)", MAX_VOLUME_KEYS);
		return -E2BIG;
	}
	memcpy(cfg->keys[cfg->n_keys].uuid, uuid, UUID_STRING_LEN + 1);
	cfg->keys[cfg->n_keys].guid = *guid;
	cfg->n_keys++;
	return 0;
}

/* rd.coco.volume-key=UUID:PIN; the same pin twice is fine, two are not. */
int config_add_pin(struct config *cfg, const char *uuid, const char *pin)
{
	size_t i;

	for (i = 0; i < cfg->n_pins; i++) {
		if (strcmp(cfg->pins[i].uuid, uuid) != 0)
			continue;
		if (strcasecmp(cfg->pins[i].pin, pin) == 0)
			return 0;
		log_err("volume %s is given two pins in rd.coco.volume-key", uuid);
		return -EINVAL;
	}
	if (cfg->n_pins >= MAX_VOLUME_KEYS) {
		log_err("too many rd.coco.volume-key= parameters (at most %d)", MAX_VOLUME_KEYS);
		return -E2BIG;
	}
	memcpy(cfg->pins[cfg->n_pins].uuid, uuid, UUID_STRING_LEN + 1);
	for (i = 0; i <= VOLUME_KEY_ID_LEN; i++)
		cfg->pins[cfg->n_pins].pin[i] = (char)(pin[i] >= 'A' && pin[i] <= 'F' ? pin[i] - 'A' + 'a' : pin[i]);
	cfg->n_pins++;
	return 0;
}

const char *volume_pin(const struct config *cfg, const struct volume *v)
{
	size_t i;

	if (v->options.pin[0] != '\0')
		return v->options.pin;
	for (i = 0; i < cfg->n_pins; i++)
		if (v->uuid[0] != '\0' && strcmp(cfg->pins[i].uuid, v->uuid) == 0)
			return cfg->pins[i].pin;
	return NULL;
}

/*
 * rd.coco.try-all lets any secret meet any keyslot: only safe where the
 * header is bound to the owner, by a pin or a mandatory MAC.
 */
static int check_try_all(const struct config *cfg)
{
	size_t i;

	if (!cfg->try_all)
		return 0;
	if (cfg->n_volumes == 0) {
		log_err("rd.coco.try-all needs configured volumes with a pin or x-coco.require-mac");
		return -EINVAL;
	}
	for (i = 0; i < cfg->n_volumes; i++) {
		const struct volume *v = &cfg->volumes[i];

		if (volume_pin(cfg, v) == NULL && !v->options.require_mac) {
			log_err("rd.coco.try-all: volume %s has no pin (fixate-volume-key=, "
				"rd.coco.volume-key=) and no x-coco.require-mac", volume_label(v));
			return -EINVAL;
		}
	}
	return 0;
}

/* Defaults that depend on everything read: names, global options. */
int config_finish(struct config *cfg)
{
	size_t i;
	int r;

	for (i = 0; i < cfg->n_volumes; i++) {
		struct volume *v = &cfg->volumes[i];

		if (v->name[0] == '\0' && v->uuid[0] != '\0') {
			char name[MAPPING_NAME_MAX];

			snprintf(name, sizeof(name), "luks-%s", v->uuid);
			if (find_volume_by_name(cfg, name) != NULL) {
				log_err("mapping name %s is used by two volumes", name);
				return -EINVAL;
			}
			memcpy(v->name, name, sizeof(name));
		}
		r = merge_options(&v->options, &cfg->global_options, volume_label(v));
		if (r < 0)
			return r;
		if (v->options.on_failure == ON_FAILURE_UNSET)
			v->options.on_failure = ON_FAILURE_PROMPT;
	}
	return check_try_all(cfg);
}

/* Reads a whole small text file; returns a NUL-terminated copy. */
static int read_text_file(const char *path, char **out)
{
	size_t len = 0;
	char *buf;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	buf = malloc(CONFIG_FILE_MAX + 1);
	if (buf == NULL) {
		close(fd);
		return -ENOMEM;
	}
	for (;;) {
		ssize_t n = read(fd, buf + len, CONFIG_FILE_MAX - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int r = -errno;

			free(buf);
			close(fd);
			return r;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len == CONFIG_FILE_MAX) {
			free(buf);
			close(fd);
			return -EFBIG;
		}
	}
	close(fd);
	buf[len] = '\0';
	*out = buf;
	return 0;
}

/*
 * The command line's settings, then its volumes, keys and pins, in the
 * order given: one volume named twice merges, two keys for one volume
 * are refused (config_add_*).
 */
int config_merge_cmdline(struct config *cfg, const struct cmdline *cl)
{
	size_t i;
	int r;

	cfg->disabled = cl->disabled;
	cfg->debug = cl->debug;
	cfg->try_all = cl->try_all;
	cfg->use_crypttab = cl->use_crypttab;
	cfg->timeout_sec = cl->timeout_sec;
	cfg->wipe = cl->wipe;
	cfg->has_global_key = cl->has_global_key;
	cfg->global_key = cl->global_key;
	cfg->global_options = cl->global_options;
	for (i = 0; i < cl->volumes.n; i++) {
		r = config_add_volume(cfg, &cl->volumes.items[i]);
		if (r < 0)
			return r;
	}
	for (i = 0; i < cl->n_keys; i++) {
		r = config_add_key(cfg, cl->keys[i].uuid, &cl->keys[i].guid);
		if (r < 0)
			return r;
	}
	for (i = 0; i < cl->n_pins; i++) {
		r = config_add_pin(cfg, cl->pins[i].uuid, cl->pins[i].pin);
		if (r < 0)
			return r;
	}
	return 0;
}

int config_merge_volumes(struct config *cfg, const struct volume_list *list)
{
	size_t i;
	int r;

	for (i = 0; i < list->n; i++) {
		r = config_add_volume(cfg, &list->items[i]);
		if (r < 0)
			return r;
	}
	return 0;
}

int config_parse_cmdline(struct config *cfg, const char *text)
{
	struct cmdline cl;
	int r;

	r = cmdline_parse(text, &cl);
	if (r < 0)
		return r;
	r = config_merge_cmdline(cfg, &cl);
	cmdline_free(&cl);
	return r;
}

int config_parse_crypttab(struct config *cfg, const char *text, const char *secrets_dir)
{
	struct volume_list list;
	int r;

	r = crypttab_parse(text, secrets_dir, &list);
	if (r < 0)
		return r;
	r = config_merge_volumes(cfg, &list);
	volume_list_free(&list);
	return r;
}

static int load_cmdline(struct config *cfg, const struct options *opts)
{
	char *text;
	int r;

	r = read_text_file(opts->cmdline_file, &text);
	if (r < 0) {
		log_err("cannot read the kernel command line from %s: %s", opts->cmdline_file, strerror(-r));
		return r;
	}
	r = config_parse_cmdline(cfg, text);
	free(text);
	return r;
}

static int load_crypttab(struct config *cfg, const struct options *opts)
{
	char *text;
	int r;

	r = read_text_file(opts->crypttab_file, &text);
	if (r == -ENOENT && !opts->crypttab_given) {
		log_debug("no %s", opts->crypttab_file);
		return 0;
	}
	if (r < 0) {
		log_err("cannot read %s: %s", opts->crypttab_file, strerror(-r));
		return r;
	}
	r = config_parse_crypttab(cfg, text, opts->secrets_dir);
	free(text);
	return r;
}

int config_load(struct config *cfg, const struct options *opts)
{
	int r;

	config_init(cfg);
	r = load_cmdline(cfg, opts);
	if (r < 0)
		return r;
	if (cfg->debug)
		log_set_debug(true);
	if (cfg->use_crypttab) {
		r = load_crypttab(cfg, opts);
		if (r < 0)
			return r;
	}
	return config_finish(cfg);
}
