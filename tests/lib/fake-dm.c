// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * fake-dm.so: an LD_PRELOAD stand-in for the part of libdevmapper that
 * libcryptsetup calls, so that a real activation (cryptsetup open, the
 * agent without --dry-run) runs to its end on a machine without
 * device-mapper, and so that a test can see the table libcryptsetup
 * would have loaded: the cipher, the key and the device the kernel would
 * have been told to use. That table is what a hostile header decides.
 *
 * It answers as a kernel with dm-crypt would: a driver version, target
 * versions, devices created, queried and removed, all in this process
 * (nothing reaches the kernel; no /dev/mapper node is made). Every table
 * loaded (create, reload) and every remove is appended to a log:
 *
 *   COCO_FAKE_DM_LOG    file the lines are appended to, one per target:
 *     create NAME uuid=UUID ro=0|1 START LENGTH TYPE PARAMS [DEV=BACKING]...
 *     remove NAME
 *   PARAMS are libcryptsetup's, word for word, except keys: the key field
 *   of a crypt target, and any word of 32 hex digits or more (another
 *   key, hidden in a host's cipher string), is written
 *   KEY-SHA256=<sha256 of the hex text>,len=<hex digits>, never raw.
 *   Each word naming a loop device is followed, at the end of the line,
 *   by [WORD=the file behind it], so a test can tell whose disk it is.
 *
 *   COCO_FAKE_DM_CRYPT_VERSION  the dm-crypt target version reported
 *     (default 1.18.0: sector sizes, but not yet the kernel keyring,
 *     which libcryptsetup uses from 1.18.1 on and which would keep the
 *     key out of the table);
 *   COCO_FAKE_DM_DEBUG=1        one line on stderr per task run (its type
 *     and name; no table).
 *
 * Created devices get major 253 (dm_is_dm_major says yes to it only).
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <libdevmapper.h>

#include "sha256.h"

#define PUBLIC __attribute__((visibility("default")))
#define FAKE_MAJOR 253
#define MAX_DEVICES 64
#define MAX_TARGETS 8
/* A volume key is at most 512 bits (128 hex digits); 32 catches any AES key. */
#define KEY_HEX_MIN 32

struct target {
	uint64_t start, length;
	char *type, *params;
};

struct device {
	bool used;
	char *name, *uuid;
	uint32_t minor;
	bool ro;
	struct target t[MAX_TARGETS];
	int n;
};

struct dm_task {
	int type;
	char *name, *uuid, *message;
	int major, minor;
	bool ro;
	struct target t[MAX_TARGETS];	/* to load (create, reload) */
	int n;
	/* What the run found: a copy, so a remove cannot pull it away. */
	struct dm_info info;
	char *found_name, *found_uuid;
	struct target found[MAX_TARGETS];
	int n_found;
	struct dm_versions *versions;
	struct dm_deps deps;
};

static struct device devices[MAX_DEVICES];
static uint32_t next_minor;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static bool debug(void)
{
	const char *d = getenv("COCO_FAKE_DM_DEBUG");

	return d != NULL && strcmp(d, "1") == 0;
}

/* Frees a string that may hold a key: zeroed first. */
static void free_secret(char *s)
{
	if (s != NULL) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

static void free_targets(struct target *t, int *n)
{
	int i;

	for (i = 0; i < *n; i++) {
		free(t[i].type);
		free_secret(t[i].params);
	}
	*n = 0;
}

static bool copy_targets(struct target *to, int *n_to, const struct target *from, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		to[i].start = from[i].start;
		to[i].length = from[i].length;
		to[i].type = strdup(from[i].type);
		to[i].params = strdup(from[i].params);
		*n_to = i + 1;
		if (to[i].type == NULL || to[i].params == NULL)
			return false;
	}
	return true;
}

/* ---- the log ------------------------------------------------------------------------ */

static bool all_hex(const char *w, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (!((w[i] >= '0' && w[i] <= '9') || (w[i] >= 'a' && w[i] <= 'f') ||
		      (w[i] >= 'A' && w[i] <= 'F')))
			return false;
	return len > 0;
}

/* Whose disk: the file behind a loop device named by path or by MAJ:MIN. */
static bool backing_file(const char *word, char *out, size_t size)
{
	unsigned int maj, min;
	char sys[96];
	struct stat st;
	FILE *f;
	bool ok;

	if (sscanf(word, "%u:%u", &maj, &min) != 2) {
		if (strncmp(word, "/dev/", 5) != 0 || stat(word, &st) < 0 || !S_ISBLK(st.st_mode))
			return false;
		maj = major(st.st_rdev);
		min = minor(st.st_rdev);
	}
	snprintf(sys, sizeof(sys), "/sys/dev/block/%u:%u/loop/backing_file", maj, min);
	f = fopen(sys, "re");
	if (f == NULL)
		return false;
	ok = fgets(out, (int)size, f) != NULL;
	fclose(f);
	out[strcspn(out, "\n")] = '\0';
	return ok;
}

/* One word of a table into @f: keys as their SHA-256, the rest as it is. */
static void log_word(FILE *f, const char *w, size_t len, bool is_key)
{
	uint8_t digest[SHA256_DIGEST_SIZE];
	char hex[2 * SHA256_DIGEST_SIZE + 1];

	/* ":64:logon:DESC" names a key in the kernel keyring: not key material. */
	if ((is_key && w[0] != ':') || (len >= KEY_HEX_MIN && all_hex(w, len))) {
		sha256(w, len, digest);
		hex_encode(digest, sizeof(digest), hex);
		fprintf(f, " KEY-SHA256=%s,len=%zu", hex, len);
	} else {
		fprintf(f, " %.*s", (int)len, w);
	}
}

/* Calls @fn for each blank-separated word of @params, with its index. */
static void each_word(const char *params, void (*fn)(FILE *, const char *, size_t, int, bool),
		      FILE *f, bool crypt)
{
	const char *p = params;
	size_t len;
	int i = 0;

	for (;;) {
		p += strspn(p, " ");
		len = strcspn(p, " ");
		if (len == 0)
			return;
		fn(f, p, len, i++, crypt);
		p += len;
	}
}

static void word_out(FILE *f, const char *w, size_t len, int i, bool crypt)
{
	/* A crypt target's second word is its key, whatever it looks like. */
	log_word(f, w, len, crypt && i == 1);
}

static void backing_out(FILE *f, const char *w, size_t len, int i, bool crypt)
{
	char word[PATH_MAX], backing[PATH_MAX];

	if (len >= sizeof(word))
		return;
	memcpy(word, w, len);
	word[len] = '\0';
	if (backing_file(word, backing, sizeof(backing)))
		fprintf(f, " [%s=%s]", word, backing);
}

static void log_target(FILE *f, const struct target *t)
{
	bool crypt = strcmp(t->type, "crypt") == 0;

	fprintf(f, " %" PRIu64 " %" PRIu64 " %s", t->start, t->length, t->type);
	each_word(t->params, word_out, f, crypt);
	/* After the table, so its words stay where libcryptsetup put them. */
	each_word(t->params, backing_out, f, crypt);
}

static void log_line(const char *what, const struct device *d)
{
	const char *path = getenv("COCO_FAKE_DM_LOG");
	FILE *f;
	int i;

	if (path == NULL || path[0] == '\0')
		return;
	f = fopen(path, "ae");
	if (f == NULL) {
		fprintf(stderr, "fake-dm: cannot open %s: %s\n", path, strerror(errno));
		return;
	}
	if (d->n == 0 || strcmp(what, "remove") == 0)
		fprintf(f, "%s %s\n", what, d->name);
	for (i = 0; i < d->n && strcmp(what, "remove") != 0; i++) {
		fprintf(f, "%s %s uuid=%s ro=%d", what, d->name, d->uuid ? d->uuid : "-", d->ro);
		log_target(f, &d->t[i]);
		fputc('\n', f);
	}
	fclose(f);
}

/* ---- the devices ------------------------------------------------------------------------ */

static struct device *find(const struct dm_task *dmt)
{
	int i;

	for (i = 0; i < MAX_DEVICES; i++) {
		struct device *d = &devices[i];

		if (!d->used)
			continue;
		if (dmt->name != NULL && strcmp(d->name, dmt->name) == 0)
			return d;
		if (dmt->name == NULL && dmt->uuid != NULL && d->uuid != NULL &&
		    strcmp(d->uuid, dmt->uuid) == 0)
			return d;
		if (dmt->name == NULL && dmt->uuid == NULL && dmt->major == FAKE_MAJOR &&
		    (uint32_t)dmt->minor == d->minor)
			return d;
	}
	return NULL;
}

static void forget(struct device *d)
{
	free(d->name);
	free(d->uuid);
	free_targets(d->t, &d->n);
	memset(d, 0, sizeof(*d));
}

static int create(struct dm_task *dmt)
{
	struct device *d = NULL;
	int i;

	if (dmt->name == NULL || find(dmt) != NULL)
		return -EBUSY;
	for (i = 0; i < MAX_DEVICES && d == NULL; i++)
		if (!devices[i].used)
			d = &devices[i];
	if (d == NULL)
		return -ENOSPC;
	d->used = true;
	d->name = strdup(dmt->name);
	d->uuid = dmt->uuid ? strdup(dmt->uuid) : NULL;
	d->ro = dmt->ro;
	d->minor = next_minor++;
	if (d->name == NULL || !copy_targets(d->t, &d->n, dmt->t, dmt->n)) {
		forget(d);
		return -ENOMEM;
	}
	log_line("create", d);
	return 0;
}

static int reload(struct dm_task *dmt, struct device *d)
{
	if (d == NULL)
		return -ENXIO;
	free_targets(d->t, &d->n);
	d->ro = dmt->ro;
	if (!copy_targets(d->t, &d->n, dmt->t, dmt->n))
		return -ENOMEM;
	log_line("reload", d);
	return 0;
}

/* What a query of @d shows: its info and, for a table or status, its targets. */
static bool found(struct dm_task *dmt, const struct device *d)
{
	int i;

	dmt->info.exists = 1;
	dmt->info.live_table = 1;
	dmt->info.major = FAKE_MAJOR;
	dmt->info.minor = d->minor;
	dmt->info.read_only = d->ro;
	dmt->info.target_count = d->n;
	dmt->found_name = strdup(d->name);
	dmt->found_uuid = strdup(d->uuid ? d->uuid : "");
	if (dmt->found_name == NULL || dmt->found_uuid == NULL)
		return false;
	if (dmt->type == DM_DEVICE_TABLE)
		return copy_targets(dmt->found, &dmt->n_found, d->t, d->n);
	if (dmt->type == DM_DEVICE_STATUS) {
		/* dm-crypt's status line is empty; the others' are not asked for. */
		if (!copy_targets(dmt->found, &dmt->n_found, d->t, d->n))
			return false;
		for (i = 0; i < dmt->n_found; i++)
			dmt->found[i].params[0] = '\0';
	}
	return true;
}

/* The target versions a Debian 12 kernel reports, dm-crypt's as configured. */
static int list_versions(struct dm_task *dmt)
{
	static const char *names[] = { "crypt", "zero", "error", "linear" };
	const char *v = getenv("COCO_FAKE_DM_CRYPT_VERSION");
	unsigned int ver[3] = { 1, 18, 0 };
	size_t i, off = 0, rec = sizeof(struct dm_versions) + 16;
	struct dm_versions *dv;

	if (v != NULL && sscanf(v, "%u.%u.%u", &ver[0], &ver[1], &ver[2]) != 3)
		return -EINVAL;
	dmt->versions = calloc(sizeof(names) / sizeof(names[0]), rec);
	if (dmt->versions == NULL)
		return -ENOMEM;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++, off += rec) {
		dv = (struct dm_versions *)((char *)dmt->versions + off);
		/* The last one points to itself: that is how the list ends. */
		dv->next = i + 1 < sizeof(names) / sizeof(names[0]) ? rec : 0;
		dv->version[0] = i == 0 ? ver[0] : 1;
		dv->version[1] = i == 0 ? ver[1] : 2;
		dv->version[2] = i == 0 ? ver[2] : 0;
		strcpy(dv->name, names[i]);
	}
	return 0;
}

static int run(struct dm_task *dmt)
{
	struct device *d = find(dmt);
	int r;

	switch (dmt->type) {
	case DM_DEVICE_LIST_VERSIONS:
		return list_versions(dmt);
	case DM_DEVICE_CREATE:
		r = create(dmt);
		if (r < 0)
			return r;
		return found(dmt, find(dmt)) ? 0 : -ENOMEM;
	case DM_DEVICE_RELOAD:
		return reload(dmt, d);
	case DM_DEVICE_REMOVE:
		if (d == NULL)
			return -ENXIO;
		log_line("remove", d);
		forget(d);
		return 0;
	case DM_DEVICE_INFO:
	case DM_DEVICE_STATUS:
	case DM_DEVICE_TABLE:
	case DM_DEVICE_DEPS:
		/* As libdevmapper: a device that is not there is a success with exists = 0. */
		if (d == NULL)
			return 0;
		return found(dmt, d) ? 0 : -ENOMEM;
	case DM_DEVICE_SUSPEND:
	case DM_DEVICE_RESUME:
	case DM_DEVICE_TARGET_MSG:
		return d == NULL ? -ENXIO : 0;
	default:
		return 0;
	}
}

/* ---- the libdevmapper calls libcryptsetup 2.6 makes ----------------------------------------- */

PUBLIC struct dm_task *dm_task_create(int type)
{
	struct dm_task *dmt = calloc(1, sizeof(*dmt));

	if (dmt != NULL) {
		dmt->type = type;
		dmt->major = dmt->minor = -1;
	}
	return dmt;
}

PUBLIC void dm_task_destroy(struct dm_task *dmt)
{
	if (dmt == NULL)
		return;
	free(dmt->name);
	free(dmt->uuid);
	free(dmt->message);
	free(dmt->found_name);
	free(dmt->found_uuid);
	free(dmt->versions);
	free_targets(dmt->t, &dmt->n);
	free_targets(dmt->found, &dmt->n_found);
	free(dmt);
}

static int set_string(char **to, const char *s)
{
	free(*to);
	*to = s ? strdup(s) : NULL;
	return s == NULL || *to != NULL;
}

PUBLIC int dm_task_set_name(struct dm_task *dmt, const char *name)
{
	return set_string(&dmt->name, name);
}

PUBLIC int dm_task_set_uuid(struct dm_task *dmt, const char *uuid)
{
	return set_string(&dmt->uuid, uuid);
}

PUBLIC int dm_task_set_message(struct dm_task *dmt, const char *message)
{
	/* "key wipe", "key set KEY": kept only to be zeroed. */
	free_secret(dmt->message);
	dmt->message = message ? strdup(message) : NULL;
	return message == NULL || dmt->message != NULL;
}

PUBLIC int dm_task_set_major(struct dm_task *dmt, int major)
{
	dmt->major = major;
	return 1;
}

PUBLIC int dm_task_set_minor(struct dm_task *dmt, int minor)
{
	dmt->minor = minor;
	return 1;
}

PUBLIC int dm_task_set_ro(struct dm_task *dmt)
{
	dmt->ro = true;
	return 1;
}

PUBLIC int dm_task_add_target(struct dm_task *dmt, uint64_t start, uint64_t size,
			      const char *ttype, const char *params)
{
	struct target *t;

	if (dmt->n >= MAX_TARGETS || ttype == NULL)
		return 0;
	t = &dmt->t[dmt->n];
	t->start = start;
	t->length = size;
	t->type = strdup(ttype);
	t->params = strdup(params ? params : "");
	dmt->n++;
	/* Counted even when short of memory, so that destroy frees what was copied. */
	return t->type != NULL && t->params != NULL;
}

PUBLIC int dm_task_run(struct dm_task *dmt)
{
	int r;

	pthread_mutex_lock(&lock);
	r = run(dmt);
	pthread_mutex_unlock(&lock);
	if (debug())
		fprintf(stderr, "fake-dm: task %d name %s: %s\n", dmt->type,
			dmt->name ? dmt->name : "-", r < 0 ? strerror(-r) : "ok");
	if (r < 0) {
		errno = -r;
		return 0;
	}
	return 1;
}

PUBLIC int dm_task_get_info(struct dm_task *dmt, struct dm_info *dmi)
{
	*dmi = dmt->info;
	return 1;
}

PUBLIC const char *dm_task_get_name(const struct dm_task *dmt)
{
	return dmt->found_name;
}

PUBLIC const char *dm_task_get_uuid(const struct dm_task *dmt)
{
	return dmt->found_uuid ? dmt->found_uuid : "";
}

PUBLIC struct dm_deps *dm_task_get_deps(struct dm_task *dmt)
{
	/* No dependencies shown: nothing asks which loop device is under it. */
	dmt->deps.count = 0;
	return &dmt->deps;
}

PUBLIC struct dm_versions *dm_task_get_versions(struct dm_task *dmt)
{
	return dmt->versions;
}

PUBLIC int dm_task_get_driver_version(struct dm_task *dmt, char *version, size_t size)
{
	/* Debian 12's 6.1 kernel. */
	snprintf(version, size, "4.47.0");
	return 1;
}

PUBLIC void *dm_get_next_target(struct dm_task *dmt, void *next, uint64_t *start,
				uint64_t *length, char **target_type, char **params)
{
	struct target *t = next ? next : dmt->found;

	if (dmt->n_found == 0) {
		*start = *length = 0;
		*target_type = *params = NULL;
		return NULL;
	}
	*start = t->start;
	*length = t->length;
	*target_type = t->type;
	*params = t->params;
	return t + 1 < dmt->found + dmt->n_found ? t + 1 : NULL;
}

/* Flags that change nothing for a device that never reaches the kernel. */
PUBLIC int dm_task_secure_data(struct dm_task *dmt) { return 1; }
PUBLIC int dm_task_no_flush(struct dm_task *dmt) { return 1; }
PUBLIC int dm_task_no_open_count(struct dm_task *dmt) { return 1; }
PUBLIC int dm_task_skip_lockfs(struct dm_task *dmt) { return 1; }
PUBLIC int dm_task_retry_remove(struct dm_task *dmt) { return 1; }
PUBLIC int dm_task_deferred_remove(struct dm_task *dmt) { return 1; }
PUBLIC int dm_task_set_sector(struct dm_task *dmt, uint64_t sector) { return 1; }
PUBLIC int dm_task_set_read_ahead(struct dm_task *dmt, uint32_t ra, uint32_t flags) { return 1; }

/* No udev: nothing to wait for. */
PUBLIC int dm_task_set_cookie(struct dm_task *dmt, uint32_t *cookie, uint16_t flags)
{
	*cookie = 0;
	return 1;
}

PUBLIC int dm_udev_wait(uint32_t cookie) { return 1; }
PUBLIC int dm_udev_get_sync_support(void) { return 0; }
PUBLIC void dm_task_update_nodes(void) { }
PUBLIC void dm_lib_release(void) { }
PUBLIC void dm_log_init(dm_log_fn fn) { }
PUBLIC void dm_log_init_verbose(int level) { }

PUBLIC const char *dm_dir(void)
{
	return "/dev/mapper";
}

PUBLIC int dm_is_dm_major(uint32_t major)
{
	return major == FAKE_MAJOR;
}

PUBLIC int dm_device_get_name(uint32_t major, uint32_t minor, int prefer_kernel_name,
			      char *buf, size_t buf_size)
{
	int i, r = 0;

	pthread_mutex_lock(&lock);
	for (i = 0; i < MAX_DEVICES && major == FAKE_MAJOR; i++)
		if (devices[i].used && devices[i].minor == minor) {
			if (prefer_kernel_name)
				snprintf(buf, buf_size, "dm-%u", minor);
			else
				snprintf(buf, buf_size, "%s", devices[i].name);
			r = 1;
		}
	pthread_mutex_unlock(&lock);
	return r;
}

PUBLIC int dm_device_has_holders(uint32_t major, uint32_t minor) { return 0; }
PUBLIC int dm_device_has_mounted_fs(uint32_t major, uint32_t minor) { return 0; }
