// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The small parsers the command line and crypttab share: booleans,
 * mapping names, device specs, LUKS UUIDs, the wipe and on-failure
 * settings, the volume options of crypttab and cryptdevice=, and the
 * list the parsers return their volumes in. They fill what they are
 * given and call nothing above them.
 */
#include <errno.h>
#include <stdlib.h>
#include <limits.h>
#include <string.h>
#include <strings.h>

#include "coco-unlock.h"

bool parse_bool_value(const char *text, bool *out)
{
	static const char *const yes[] = { "", "1", "yes", "y", "true", "on" };
	static const char *const no[] = { "0", "no", "n", "false", "off" };
	size_t i;

	if (text == NULL) {
		*out = true;
		return true;
	}
	for (i = 0; i < ARRAY_SIZE(yes); i++)
		if (strcasecmp(text, yes[i]) == 0) {
			*out = true;
			return true;
		}
	for (i = 0; i < ARRAY_SIZE(no); i++)
		if (strcasecmp(text, no[i]) == 0) {
			*out = false;
			return true;
		}
	return false;
}

/*
 * Device-mapper takes names below 128 bytes without '/'; we also keep out
 * white space and control characters so a name is safe in every message.
 */
bool mapping_name_valid(const char *name)
{
	size_t len = strnlen(name, MAPPING_NAME_MAX);
	const char *p;

	if (len == 0 || len >= MAPPING_NAME_MAX || strcmp(name, ".") == 0 ||
	    strcmp(name, "..") == 0)
		return false;
	for (p = name; *p != '\0'; p++)
		if (*p == '/' || (unsigned char)*p <= ' ' || *p == 0x7f)
			return false;
	return true;
}

/* A path, or a tag the initramfs can resolve (a tag's value has no '/'). */
bool device_spec_valid(const char *dev)
{
	static const char *const prefixes[] = { "/", "UUID=", "LABEL=", "PARTUUID=", "PARTLABEL=" };
	size_t i, n;

	for (i = 0; i < ARRAY_SIZE(prefixes); i++) {
		n = strlen(prefixes[i]);
		if (strncmp(dev, prefixes[i], n) != 0 || dev[n] == '\0')
			continue;
		return i == 0 || strchr(dev + n, '/') == NULL;
	}
	return false;
}

/* A LUKS UUID, with or without dracut's "luks-" prefix; stored lowercase. */
bool parse_luks_uuid(const char *text, char out[UUID_STRING_LEN + 1])
{
	struct guid g;

	if (strncasecmp(text, "luks-", 5) == 0)
		text += 5;
	if (!guid_parse(text, &g))
		return false;
	memcpy(out, g.str, UUID_STRING_LEN + 1);
	return true;
}

int on_failure_parse(const char *text, enum on_failure *out)
{
	if (text != NULL && strcmp(text, "prompt") == 0)
		*out = ON_FAILURE_PROMPT;
	else if (text != NULL && strcmp(text, "poweroff") == 0)
		*out = ON_FAILURE_POWEROFF;
	else
		return -EINVAL;
	return 0;
}

/* One option with a value we keep; a bad value is a configuration error. */
static int option_with_value(const char *opt, size_t len, struct volume_options *opts)
{
	static const char header[] = "header=", pin[] = "fixate-volume-key=",
			  on_failure[] = "x-coco.on-failure=";
	char value[PATH_MAX];

	if (len > sizeof(header) - 1 && strncmp(opt, header, sizeof(header) - 1) == 0) {
		if (!copy_string_n(value, sizeof(value), opt + sizeof(header) - 1, len - (sizeof(header) - 1)) ||
		    value[0] != '/') {
			log_err("header= needs the absolute path of a header file in the initramfs");
			return -EINVAL;
		}
		memcpy(opts->header, value, sizeof(opts->header));
		return 1;
	}
	if (len >= sizeof(pin) - 1 && strncmp(opt, pin, sizeof(pin) - 1) == 0) {
		if (!copy_string_n(value, sizeof(value), opt + sizeof(pin) - 1, len - (sizeof(pin) - 1)) ||
		    !volume_key_id_valid(value)) {
			log_err("fixate-volume-key= needs the 64 hex digits of a volume key id");
			return -EINVAL;
		}
		for (size_t i = 0; i <= VOLUME_KEY_ID_LEN; i++)
			opts->pin[i] = (char)(value[i] >= 'A' && value[i] <= 'F' ? value[i] - 'A' + 'a' : value[i]);
		return 1;
	}
	if (len >= sizeof(on_failure) - 1 && strncmp(opt, on_failure, sizeof(on_failure) - 1) == 0) {
		if (!copy_string_n(value, sizeof(value), opt + sizeof(on_failure) - 1,
				   len - (sizeof(on_failure) - 1)) ||
		    on_failure_parse(value, &opts->on_failure) < 0) {
			log_err("x-coco.on-failure= takes prompt or poweroff");
			return -EINVAL;
		}
		return 1;
	}
	return 0;
}

/* A flag: 1 when known, 0 when not ours. */
static int option_flag(const char *opt, struct volume_options *opts)
{
	if (strcmp(opt, "discard") == 0 || strcmp(opt, "allow-discards") == 0)
		opts->discard = true;
	else if (strcmp(opt, "readonly") == 0 || strcmp(opt, "read-only") == 0)
		opts->readonly = true;
	else if (strcmp(opt, "no-read-workqueue") == 0)
		opts->no_read_workqueue = true;
	else if (strcmp(opt, "no-write-workqueue") == 0)
		opts->no_write_workqueue = true;
	else if (strcmp(opt, "x-coco.require-mac") == 0)
		opts->require_mac = true;
	else
		return 0;
	return 1;
}

/*
 * crypttab options and cryptdevice's third field share one parser; it
 * takes both spellings where the two tools differ. Options that do not
 * change how a volume is opened (luks, nofail, timeouts) are ignored;
 * a bad value of one we keep is an error.
 */
int volume_options_parse(const char *text, struct volume_options *opts)
{
	const char *p = text;

	while (*p != '\0') {
		size_t len = strcspn(p, ",");
		char opt[64];
		int r = len > 0 ? option_with_value(p, len, opts) : 1;

		if (r < 0)
			return r;
		if (r == 0 && copy_string_n(opt, sizeof(opt), p, len)) {
			if (option_flag(opt, opts) == 0)
				log_debug("ignoring volume option '%s'", opt);
		} else if (r == 0) {
			log_debug("ignoring an overlong volume option");
		}
		p += len;
		if (*p == ',')
			p++;
	}
	return 0;
}

int wipe_parse_policy(const char *text, enum wipe_policy *out)
{
	if (strcmp(text, "used") == 0)
		*out = WIPE_USED;
	else if (strcmp(text, "all") == 0)
		*out = WIPE_ALL;
	else if (strcmp(text, "none") == 0)
		*out = WIPE_NONE;
	else
		return -EINVAL;
	return 0;
}

int volume_list_add(struct volume_list *list, const struct volume *v)
{
	struct volume *items = reallocarray(list->items, list->n + 1, sizeof(*items));

	if (items == NULL)
		return -ENOMEM;
	list->items = items;
	items[list->n++] = *v;
	return 0;
}

void volume_list_free(struct volume_list *list)
{
	free(list->items);
	list->items = NULL;
	list->n = 0;
}
