// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Which volumes to unlock, and waiting for their devices. Configured
 * volumes are waited for up to rd.coco.timeout; with none configured,
 * the LUKS2 devices that carry a coco-efi-secret token are found by a
 * scan of the devices present. The host decides which disks exist, so a
 * scanned device counts only when its token names a secret that is
 * there and its header passes the policy; two devices with one UUID are
 * both refused, and the scan takes at most MAX_VOLUMES of them (found
 * volumes never share the table with configured ones: the scan only
 * runs when nothing is configured).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "coco-unlock.h"
#include "header-policy.h"
#include "luks-header.h"

#define SCAN_TOKENS 8

struct scan {
	struct config *cfg;
	const struct secret_area *area;
	bool full;
};

/* The keyslots of the tokens whose secret is present; how many tokens. */
static int usable_tokens(const struct luks_header *h, const struct secret_area *area,
			 bool tried[LUKS2_KEYSLOTS])
{
	struct coco_token tokens[SCAN_TOKENS];
	int i, n, usable = 0;
	size_t k;

	memset(tried, 0, LUKS2_KEYSLOTS * sizeof(tried[0]));
	n = coco_tokens_from_json(h->json, tokens, ARRAY_SIZE(tokens));
	for (i = 0; i < n; i++) {
		if (tokens[i].malformed || secret_area_find(area, &tokens[i].guid) < 0)
			continue;
		usable++;
		for (k = 0; k < tokens[i].n_keyslots; k++)
			tried[tokens[i].keyslots[k]] = true;
	}
	return usable;
}

/* Judged as the unlock will judge it: the volume, and a token keyslot that passes. */
static bool passes_policy(const char *path, const struct luks_header *h, const bool tried[LUKS2_KEYSLOTS])
{
	struct kdf_budget budget;
	char why[LUKS_WHY_MAX] = "";
	int k;

	kdf_budget_default(&budget);
	if (header_policy_check_volume(h, false, &budget, why) == 0)
		for (k = 0; k < LUKS2_KEYSLOTS; k++)
			if (tried[k] && header_policy_check_keyslot(h, k, false, &budget, why) == 0)
				return true;
	log_warn("%s has a %s token, but its header is refused: %s", path, COCO_TOKEN_TYPE, why);
	return false;
}

static struct volume *volume_with_uuid(struct config *cfg, const char *uuid)
{
	size_t i;

	for (i = 0; i < cfg->n_volumes; i++)
		if (strcmp(cfg->volumes[i].uuid, uuid) == 0)
			return &cfg->volumes[i];
	return NULL;
}

static void add_found(struct scan *s, const char *path, const char *uuid)
{
	struct volume v = { .source = SOURCE_DISCOVERED };
	struct volume *twin = volume_with_uuid(s->cfg, uuid);

	if (twin != NULL) {
		log_err("%s and %s both carry LUKS UUID %s: refusing both", twin->device, path, uuid);
		twin->ambiguous = true;
		return;
	}
	if (s->cfg->n_volumes == MAX_VOLUMES) {
		if (!s->full)
			log_warn("more than %d devices with a %s token: %s and later ones are left alone",
				 MAX_VOLUMES, COCO_TOKEN_TYPE, path);
		s->full = true;
		return;
	}
	memcpy(v.uuid, uuid, sizeof(v.uuid));
	snprintf(v.name, sizeof(v.name), "luks-%s", uuid);
	if (!copy_string(v.device, sizeof(v.device), path))
		return;
	v.options = s->cfg->global_options;
	if (v.options.on_failure == ON_FAILURE_UNSET)
		v.options.on_failure = ON_FAILURE_PROMPT;
	log_info("found %s by scan: it has a %s token (no volume was configured)", path, COCO_TOKEN_TYPE);
	s->cfg->volumes[s->cfg->n_volumes] = v;
	s->cfg->volumes[s->cfg->n_volumes++].state = VOLUME_PENDING;
}

static int add_if_token(const char *path, const char *uuid, int version, void *data)
{
	struct scan *s = data;
	bool tried[LUKS2_KEYSLOTS];
	struct luks_header h;
	char why[LUKS_WHY_MAX];

	if (version != 2)
		return 0;
	if (luks_header_read(path, &h, why) < 0) {
		log_debug("%s: header not usable: %s", path, why);
	} else if (strcmp(h.uuid, uuid) == 0 && usable_tokens(&h, s->area, tried) > 0 &&
		   passes_policy(path, &h, tried)) {
		add_found(s, path, uuid);
	}
	luks_header_free(&h);
	return 0;
}

int volumes_discover(struct config *cfg, const struct options *opts, const struct secret_area *area)
{
	struct scan s = { .cfg = cfg, .area = area };
	int r;

	if (cfg->n_volumes > 0)
		return 0;
	r = luks_devices_foreach(opts->devices_dir, add_if_token, &s);
	if (r < 0)
		log_err("cannot list devices: %s", strerror(-r));
	if (cfg->n_volumes == 0)
		log_info("no volume to unlock: none configured, none with a usable %s token",
			 COCO_TOKEN_TYPE);
	return r;
}

/* Where the volume's device is now; false while it is missing (or refused). */
static bool locate(const struct config *cfg, struct secret_area *area, struct volume *v,
		   const char *devices_dir)
{
	char other[PATH_MAX];
	int r;

	if (v->ambiguous) {
		volume_refused(cfg, area, v);
		return false;
	}
	r = device_resolve(v, devices_dir, v->path, sizeof(v->path), other);
	if (r == -ENOTUNIQ) {
		log_err("%s: %s and %s both carry LUKS UUID %s: nobody can say which is the owner's; "
			"refused", volume_label(v), v->path, other, v->uuid);
		volume_refused(cfg, area, v);
	}
	return r == 0;
}

/*
 * Unlocks the volumes whose devices are there (several at once where it
 * pays: workers.c); returns how many still wait.
 */
static size_t unlock_present(struct config *cfg, const struct options *opts,
			     struct secret_area *area, struct secret_mem *mem)
{
	struct volume *present[MAX_VOLUMES];
	size_t i, n = 0, waiting = 0;

	for (i = 0; i < cfg->n_volumes; i++) {
		struct volume *v = &cfg->volumes[i];

		if (v->state != VOLUME_PENDING)
			continue;
		if (!locate(cfg, area, v, opts->devices_dir)) {
			waiting += v->state == VOLUME_PENDING;
			continue;
		}
		present[n++] = v;
	}
	workers_unlock(cfg, opts, area, mem, present, n, waiting > 0);
	return waiting;
}

/* The secrets named for a device that never came go too: nothing here uses them. */
static void give_up_waiting(struct config *cfg, struct secret_area *area, int timeout_sec)
{
	size_t i;

	for (i = 0; i < cfg->n_volumes; i++) {
		struct volume *v = &cfg->volumes[i];

		if (v->state != VOLUME_PENDING)
			continue;
		volume_refused(cfg, area, v);
		v->state = VOLUME_MISSING;
		log_err("%s: device %s did not appear within %d s", volume_label(v),
			v->device[0] ? v->device : v->uuid, timeout_sec);
	}
}

/* EXIT_ALL_OPEN when every volume is open, else EXIT_SOME_CLOSED. */
int volumes_unlock_all(struct config *cfg, const struct options *opts,
		       struct secret_area *area, struct secret_mem *mem)
{
	long long deadline = monotonic_ms() + (long long)cfg->timeout_sec * 1000;
	bool announced = false;
	struct device_events ev;
	size_t i, waiting;

	/* Before the first look: what appears after it is an event to read. */
	device_events_open(&ev, opts->devices_dir);
	while ((waiting = unlock_present(cfg, opts, area, mem)) > 0) {
		if (monotonic_ms() >= deadline) {
			give_up_waiting(cfg, area, cfg->timeout_sec);
			break;
		}
		if (!announced)
			log_info("waiting up to %d s for %zu device(s)", cfg->timeout_sec, waiting);
		announced = true;
		device_events_wait(&ev, deadline);
	}
	device_events_close(&ev);
	for (i = 0; i < cfg->n_volumes; i++)
		if (cfg->volumes[i].state != VOLUME_OPEN)
			return EXIT_SOME_CLOSED;
	return EXIT_ALL_OPEN;
}

/* --wipe-only: the secrets each volume's key choice names, without waiting. */
int volumes_mark_planned(struct config *cfg, const struct options *opts,
			 struct secret_area *area)
{
	char other[PATH_MAX];
	size_t i;

	for (i = 0; i < cfg->n_volumes; i++) {
		struct volume *v = &cfg->volumes[i];

		if (device_resolve(v, opts->devices_dir, v->path, sizeof(v->path), other) < 0)
			v->path[0] = '\0';
		volume_mark_planned_secrets(cfg, area, v);
	}
	return 0;
}
