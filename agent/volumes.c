// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Which volumes to unlock, and waiting for their devices. Configured
 * volumes are waited for up to rd.coco.timeout; with none configured,
 * the LUKS2 devices that carry a coco-efi-secret token are found by a
 * scan of the devices present.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <libcryptsetup.h>

#include "coco-unlock.h"

#define POLL_INTERVAL_MS 100

static int add_if_token(const char *path, const char *uuid, int version, void *data)
{
	struct config *cfg = data;
	struct volume v = { .source = SOURCE_DISCOVERED };
	struct coco_token tokens[8];
	struct crypt_device *cd;
	int i, n = 0, valid = 0;

	if (version != 2 || crypt_init(&cd, path) < 0)
		return 0;
	if (crypt_load(cd, CRYPT_LUKS2, NULL) == 0)
		n = coco_tokens_read(cd, tokens, ARRAY_SIZE(tokens));
	crypt_free(cd);
	for (i = 0; i < n; i++)
		valid += !tokens[i].malformed;
	if (valid == 0)
		return 0;

	memcpy(v.uuid, uuid, sizeof(v.uuid));
	snprintf(v.name, sizeof(v.name), "luks-%s", uuid);
	if (!copy_string(v.device, sizeof(v.device), path))
		return 0;
	log_info("found %s with a %s token", path, COCO_TOKEN_TYPE);
	/* A second device with the same UUID is refused by the merge. */
	if (config_add_volume(cfg, &v) < 0)
		log_warn("%s: skipped", path);
	return 0;
}

int volumes_discover(struct config *cfg, const struct options *opts)
{
	int r;

	if (cfg->n_volumes > 0)
		return 0;
	r = luks_devices_foreach(opts->devices_dir, add_if_token, cfg);
	if (r < 0)
		log_err("cannot list devices: %s", strerror(-r));
	if (cfg->n_volumes == 0)
		log_info("no volume to unlock: none configured, none with a %s token", COCO_TOKEN_TYPE);
	return r;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Unlocks the volumes whose devices are there; returns how many still wait. */
static size_t unlock_present(struct config *cfg, const struct options *opts,
			     struct secret_area *area, struct secret_buf *buf)
{
	size_t i, waiting = 0;

	for (i = 0; i < cfg->n_volumes; i++) {
		struct volume *v = &cfg->volumes[i];

		if (v->state != VOLUME_PENDING)
			continue;
		if (device_resolve(v, opts->devices_dir, v->path, sizeof(v->path)) < 0) {
			waiting++;
			continue;
		}
		unlock_volume(cfg, opts, area, buf, v);
	}
	return waiting;
}

static void give_up_waiting(struct config *cfg, int timeout_sec)
{
	size_t i;

	for (i = 0; i < cfg->n_volumes; i++) {
		struct volume *v = &cfg->volumes[i];

		if (v->state != VOLUME_PENDING)
			continue;
		v->state = VOLUME_MISSING;
		log_err("%s: device %s did not appear within %d s", volume_label(v),
			v->device[0] ? v->device : v->uuid, timeout_sec);
	}
}

/* EXIT_ALL_OPEN when every volume is open, else EXIT_SOME_CLOSED. */
int volumes_unlock_all(struct config *cfg, const struct options *opts,
		       struct secret_area *area, struct secret_buf *buf)
{
	long long deadline = now_ms() + (long long)cfg->timeout_sec * 1000;
	bool announced = false;
	size_t i, waiting;

	while ((waiting = unlock_present(cfg, opts, area, buf)) > 0) {
		if (now_ms() >= deadline) {
			give_up_waiting(cfg, cfg->timeout_sec);
			break;
		}
		if (!announced)
			log_info("waiting up to %d s for %zu device(s)", cfg->timeout_sec, waiting);
		announced = true;
		sleep_ms(POLL_INTERVAL_MS);
	}
	for (i = 0; i < cfg->n_volumes; i++)
		if (cfg->volumes[i].state != VOLUME_OPEN)
			return EXIT_SOME_CLOSED;
	return EXIT_ALL_OPEN;
}

/* --wipe-only: the secrets each volume's key choice names, without waiting. */
int volumes_mark_planned(struct config *cfg, const struct options *opts,
			 struct secret_area *area)
{
	size_t i;

	for (i = 0; i < cfg->n_volumes; i++) {
		struct volume *v = &cfg->volumes[i];

		if (device_resolve(v, opts->devices_dir, v->path, sizeof(v->path)) < 0)
			v->path[0] = '\0';
		volume_mark_planned_secrets(cfg, area, v);
	}
	return 0;
}
