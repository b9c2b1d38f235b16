// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The secret area as the agent keeps it: the directory found by the
 * shared rules (shared/secret-read.h: module, securityfs, one regular
 * file per GUID, 4 KiB at most), the secrets listed, and each one read
 * once into its slot of a locked store, from where every use copies it;
 * right after that read the file is unlinked (wipe.c), so from the first
 * read on a kill leaves nothing in securityfs.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coco-unlock.h"

static void module_debug(const char *msg, void *data)
{
	log_debug("%s", msg);
}

static int securityfs_ensure(void)
{
	int r = securityfs_present();

	if (r > 0)
		return 0;
	if (r < 0) {
		log_err("cannot look at %s: %s", SECURITYFS_DIR, strerror(-r));
		return r;
	}
	r = securityfs_mount();
	if (r < 0) {
		log_err("cannot mount securityfs on %s: %s", SECURITYFS_DIR, strerror(-r));
		return r;
	}
	log_debug("mounted securityfs on %s", SECURITYFS_DIR);
	return 0;
}

static int compare_guids(const void *a, const void *b)
{
	return strcmp(((const struct guid *)a)->str, ((const struct guid *)b)->str);
}

/*
 * A fresh listing of the open directory. The duplicate descriptor shares
 * the file offset of earlier listings, hence the rewind.
 */
DIR *secret_area_opendir(const struct secret_area *area)
{
	DIR *d;
	int fd;

	fd = dup(area->dirfd);
	if (fd < 0)
		return NULL;
	d = fdopendir(fd);
	if (d == NULL) {
		close(fd);
		return NULL;
	}
	rewinddir(d);
	return d;
}

static int list_secrets(struct secret_area *area)
{
	struct dirent *de;
	bool warned = false;
	DIR *d;

	d = secret_area_opendir(area);
	if (d == NULL)
		return -errno;
	while ((de = readdir(d)) != NULL) {
		struct guid g;

		if (de->d_name[0] == '.')
			continue;
		if (!guid_parse(de->d_name, &g)) {
			log_debug("ignoring %s/%s: not a GUID", area->dir, de->d_name);
			continue;
		}
		if (area->count == MAX_SECRETS) {
			if (!warned)
				log_warn("more than %d secrets in %s, ignoring the rest", MAX_SECRETS, area->dir);
			warned = true;
			continue;
		}
		area->guids[area->count++] = g;
	}
	closedir(d);
	qsort(area->guids, area->count, sizeof(area->guids[0]), compare_guids);
	return 0;
}

/*
 * -ENOENT: no directory; -EMEDIUMTYPE: not securityfs; -ENODATA: empty.
 */
int secret_area_open_dir(struct secret_area *area, const char *dir, bool need_securityfs)
{
	int r;

	memset(area, 0, sizeof(*area));
	area->dirfd = -1;
	if (!copy_string(area->dir, sizeof(area->dir), dir))
		return -ENAMETOOLONG;
	r = secret_buf_alloc(&area->store, (size_t)MAX_SECRETS * SECRET_SLOT);
	if (r < 0)
		return r;
	r = secrets_dir_open(dir, need_securityfs);
	if (r < 0)
		return r;
	area->dirfd = r;
	r = list_secrets(area);
	if (r < 0)
		return r;
	return area->count == 0 ? -ENODATA : 0;
}

static void explain_open_error(const char *dir, int r, bool module_missing, bool wipe_only)
{
	if (r == -ENODATA && wipe_only)
		log_info("nothing left to wipe: %s is empty", dir);
	else if (r == -ENOENT && module_missing)
		log_err("no secrets: the efi_secret module was not found and %s does not exist", dir);
	else if (r == -ENOENT)
		log_err("no secrets: %s does not exist (no secret area from the firmware, "
			"or efi_secret found it unpopulated or corrupted)", dir);
	else if (r == -EMEDIUMTYPE)
		log_err("no secrets: %s is not on securityfs, refusing it", dir);
	else if (r == -ENODATA)
		log_err("no secrets: %s is empty", dir);
	else if (r == -ENOMEM || r == -EAGAIN || r == -EPERM)
		log_err("no secrets read: cannot lock memory for them: %s", strerror(-r));
	else
		log_err("no secrets: cannot open %s: %s", dir, strerror(-r));
}

/* Loads the module, mounts securityfs and opens the directory. */
int secret_area_open(struct secret_area *area, const struct options *opts)
{
	bool module_missing = false;
	const char *dir = SECRETS_DIR;
	int r;

	if (opts->secrets_dir != NULL) {
		dir = opts->secrets_dir;
		r = secret_area_open_dir(area, dir, false);
	} else {
		r = module_load(opts->kmod_dir, "efi_secret", module_debug, NULL);
		if (r == -ENOENT) {
			/* It may still be built in without modules.builtin: look anyway. */
			module_missing = true;
			log_warn("efi_secret module not found");
		} else if (r < 0)
			log_err("loading efi_secret failed: %s", strerror(-r));
		r = securityfs_ensure();
		if (r == 0)
			r = secret_area_open_dir(area, dir, true);
	}
	if (r < 0) {
		explain_open_error(dir, r, module_missing, opts->wipe_only);
		secret_area_close(area);
		return r;
	}
	log_info("%zu secret(s) in %s", area->count, dir);
	return 0;
}

void secret_area_close(struct secret_area *area)
{
	if (area->dirfd >= 0)
		close(area->dirfd);
	area->dirfd = -1;
	secret_buf_free(&area->store);
}

int secret_area_find(const struct secret_area *area, const struct guid *guid)
{
	size_t i;

	for (i = 0; i < area->count; i++)
		if (guid_equal(&area->guids[i], guid))
			return (int)i;
	return -1;
}

/* Secret @index into its slot, once; then, as asked, unlinked (after_read). */
static void load_copy(struct secret_area *area, size_t index)
{
	uint8_t *slot = area->store.data + index * SECRET_SLOT;

	area->load_error[index] = secret_read_at(area->dirfd, area->guids[index].str, slot,
						 SECRET_SLOT, &area->copy_len[index]);
	area->loaded[index] = 1;
	if (area->after_read != NULL)
		area->after_read(area, index);
}

/*
 * Secret @index read into its slot now, if it is not yet (and unlinked):
 * before the fork of workers (workers.c) for a secret more than one
 * volume may need, which a worker's copy would not give the others.
 * Errors wait in load_error for the use that meets them.
 */
void secret_area_preload(struct secret_area *area, size_t index)
{
	area->used[index] = 1;
	if (!area->loaded[index])
		load_copy(area, index);
}

/*
 * Secret @index into @buf, from its copy (read on the first call). It
 * counts as used from then on, so rd.coco.wipe=used unlinks it whatever
 * happens next.
 */
int secret_area_read(struct secret_area *area, size_t index, struct secret_buf *buf)
{
	secret_buf_clear(buf);
	area->used[index] = 1;
	if (!area->loaded[index])
		load_copy(area, index);
	if (area->load_error[index] < 0)
		return area->load_error[index];
	if (area->copy_len[index] > buf->capacity)
		return -EFBIG;
	memcpy(buf->data, area->store.data + index * SECRET_SLOT, area->copy_len[index]);
	buf->len = area->copy_len[index];
	return 0;
}
