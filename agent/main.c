// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * coco-unlock: unlock LUKS volumes with secrets that the guest owner
 * injected into a confidential VM, then wipe the secrets.
 *
 * The boot story, in order:
 *   1. read the configuration (kernel command line, crypttab);
 *   2. find the secrets (load efi_secret, mount securityfs);
 *   3. find the volumes and, for each, try the secrets its key choice names;
 *   4. wipe the secrets, whatever happened in 3, and report.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/reboot.h>
#include <unistd.h>

#include "coco-unlock.h"

static void module_debug(const char *msg, void *data)
{
	log_debug("%s", msg);
}

/* Mappings need dm_crypt; a failure here shows again, clearer, at activation. */
static void load_device_mapper(const struct options *opts)
{
	int r = module_load(opts->kmod_dir, "dm_crypt", module_debug, NULL);

	if (r < 0)
		log_debug("cannot load dm_crypt: %s", strerror(-r));
}

/*
 * In the initramfs messages go to the kernel log (and from there to the
 * journal), elsewhere to stderr. initramfs-tools images have no
 * /etc/initrd-release: their scripts ask with --log-kmsg.
 */
static bool log_to_kmsg(const struct options *opts)
{
	bool initramfs = opts->secrets_dir == NULL && access("/etc/initrd-release", F_OK) == 0;

	return (opts->log_kmsg || initramfs) && access("/dev/kmsg", W_OK) == 0;
}

/* Volume keys are at most 512 bits; room to spare. */
#define VOLUME_KEY_CAPACITY 256

static int secret_mem_alloc(struct secret_mem *mem)
{
	int r = secret_buf_alloc(&mem->secret, SECRET_MAX_SIZE + 1);

	if (r == 0)
		r = secret_buf_alloc(&mem->key, VOLUME_KEY_CAPACITY);
	return r;
}

static void secret_mem_free(struct secret_mem *mem)
{
	secret_buf_free(&mem->secret);
	secret_buf_free(&mem->key);
}

static void power_off(const struct options *opts)
{
	if (opts->dry_run || opts->secrets_dir != NULL || opts->devices_dir != NULL) {
		log_info("not powering off: a test run (--dry-run, --secrets-dir or --devices-dir)");
		return;
	}
	sync();
	reboot(RB_POWER_OFF);
	log_err("cannot power off: %s", strerror(errno));
}

/*
 * rd.coco.on-failure=poweroff (or x-coco.on-failure=poweroff): a volume
 * left closed stops the machine, after the wipe, instead of reaching a
 * passphrase prompt on a console the host sees. Only a real boot powers
 * off; runs with test options say so and go on to exit. @none_tried says
 * why no volume was even tried (NULL when they were), so that a scan,
 * with no volume configured, fails closed too. Every normal exit that
 * leaves a volume closed comes through here: the generators' scripts power
 * off by themselves only when coco-unlock did not get this far (killed,
 * a configuration error).
 */
static void fail_closed(const struct config *cfg, const struct options *opts, const char *none_tried)
{
	size_t i;

	if (none_tried != NULL && cfg->global_options.on_failure == ON_FAILURE_POWEROFF) {
		log_err("%s and rd.coco.on-failure=poweroff: powering off", none_tried);
		power_off(opts);
		return;
	}
	for (i = 0; i < cfg->n_volumes; i++) {
		const struct volume *v = &cfg->volumes[i];

		if (v->state == VOLUME_OPEN || v->options.on_failure != ON_FAILURE_POWEROFF)
			continue;
		log_err("%s: left closed and on-failure=poweroff: powering off", volume_label(v));
		power_off(opts);
		return;
	}
}

static int unlock_and_wipe(struct config *cfg, const struct options *opts,
			   struct secret_area *area)
{
	struct secret_mem mem = { 0 };
	int status, r;

	r = secret_mem_alloc(&mem);
	if (r < 0) {
		/* Memory pressure, which the host can make: fail closed if asked. */
		log_err("cannot lock memory for secrets: %s", strerror(-r));
		secret_mem_free(&mem);
		wipe_secrets(area, cfg->wipe);
		fail_closed(cfg, opts, "no memory for secrets");
		return EXIT_SOME_CLOSED;
	}
	wipe_guard_buffer(&mem.secret);
	wipe_guard_buffer(&mem.key);
	wipe_record_open(opts);
	volumes_discover(cfg, opts, area);
	if (!opts->dry_run && cfg->n_volumes > 0)
		load_device_mapper(opts);
	status = volumes_unlock_all(cfg, opts, area, &mem);
	if (wipe_secrets(area, cfg->wipe) < 0)
		status = EXIT_WIPE_FAILED;
	wipe_guard_forget_buffer(&mem.secret);
	wipe_guard_forget_buffer(&mem.key);
	secret_mem_free(&mem);
	if (status != EXIT_ALL_OPEN)
		fail_closed(cfg, opts, NULL);
	return status;
}

/*
 * The late wipe: what the unlocking run recorded (by GUID: the disks that
 * named them may be gone), and what the configuration and the disks now
 * present name.
 */
static int wipe_only(struct config *cfg, const struct options *opts, struct secret_area *area)
{
	if (cfg->wipe == WIPE_USED) {
		wipe_record_load(area, opts);
		volumes_discover(cfg, opts, area);
		volumes_mark_planned(cfg, opts, area);
	}
	return wipe_secrets(area, cfg->wipe) < 0 ? EXIT_WIPE_FAILED : EXIT_ALL_OPEN;
}

/*
 * A configuration error: nothing can use the secrets now, and the late
 * hook reads the same configuration, so every secret is wiped here (the
 * safe answer) before the error is returned. Always status 2, even when a
 * wipe fails (its own line says so): on-failure was never applied, and
 * the scripts power off for 2 when asked, but trust 4 as a run that did.
 */
static int config_error(const struct options *opts)
{
	struct secret_area area;

	log_err("configuration error: no volume is opened, every secret is wiped");
	if (secret_area_open(&area, opts) < 0)
		return EXIT_USAGE;
	wipe_guard_install(&area, WIPE_ALL);
	wipe_secrets(&area, WIPE_ALL);
	secret_area_close(&area);
	return EXIT_USAGE;
}

int main(int argc, char **argv)
{
	/* Static: 64 volumes with their paths are too much for a stack. */
	static struct config cfg;
	struct secret_area area;
	struct options opts;
	int r, status;

	secure_process_setup();
	r = options_parse(argc, argv, &opts);
	if (r <= 0)
		return r == 0 ? EXIT_SUCCESS : -r;
	log_setup(log_to_kmsg(&opts), false);
	unlock_setup_logging(false);

	if (config_load(&cfg, &opts) < 0)
		return config_error(&opts);
	/*
	 * rd.coco=0 / rd.luks=0 turn the unlocking off, and with it any use of
	 * the secrets: they may be meant for something else in the initramfs.
	 * The late --wipe-only still wipes what the configuration names: after
	 * switch_root nothing meant for a volume has a use.
	 */
	if (cfg.disabled && !opts.wipe_only) {
		log_info("disabled on the kernel command line");
		return EXIT_ALL_OPEN;
	}
	r = secret_area_open(&area, &opts);
	/* The late run finding every secret gone: its job is done. */
	if (r == -ENODATA && opts.wipe_only)
		return EXIT_ALL_OPEN;
	if (r < 0) {
		if (!opts.wipe_only)
			fail_closed(&cfg, &opts, "no secrets");
		return EXIT_NO_SECRETS;
	}
	area.after_read = cfg.wipe != WIPE_NONE ? wipe_after_read : NULL;
	wipe_guard_install(&area, cfg.wipe);

	if (opts.wipe_only)
		status = wipe_only(&cfg, &opts, &area);
	else
		status = unlock_and_wipe(&cfg, &opts, &area);
	secret_area_close(&area);
	return status;
}
