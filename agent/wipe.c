// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Wiping secrets: unlinking a file under secrets/coco makes efi_secret
 * zero the entry and clear its GUID, so it never comes back.
 *   - A secret is unlinked right after its one read (wipe_after_read), so
 *     from then on a kill, SIGKILL included, leaves nothing in securityfs;
 *     the copy lives in locked memory until the end.
 *   - At the end wipe_secrets() unlinks what the policy says and is left:
 *     rd.coco.wipe=used the secrets a plan named, all every secret.
 *   - Every catchable signal that would end the process first zeroes the
 *     copies and unlinks what the policy says (async-signal-safe: only
 *     unlinkat() and raise(), on volatile sig_atomic_t state).
 *   - The GUIDs each plan names are recorded in STATE_DIR/wipe before
 *     anything is read, so the late --wipe-only wipes them even when the
 *     disk that named them (its token) is gone by then.
 *   - A worker that unlocks one volume beside others (workers.c) guards
 *     only its own volume's secrets, and marks each one it unlinks in its
 *     report to the parent (the mirror), the signal handler's included, so
 *     the parent neither unlinks them again nor calls them "already gone".
 * An unlink that fails is said, and makes the exit status 4; a secret
 * already gone is said as such.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "coco-unlock.h"
#include "wipe-record.h"

#define STATE_FILE WIPE_RECORD_FILE
#define MAX_GUARDED_BUFFERS 4

static struct secret_area *guard_area;
static volatile sig_atomic_t guard_policy = WIPE_NONE;
static struct secret_buf *volatile guard_buffers[MAX_GUARDED_BUFFERS];
static int record_fd = -1;
/* In a worker: its report's copy of area->wiped, shared with the parent. */
static volatile sig_atomic_t *wipe_mirror;

/* No libc in a handler: a byte loop the compiler may not drop. */
static void zero_volatile(volatile uint8_t *p, size_t n)
{
	while (n-- > 0)
		*p++ = 0;
}

static void wipe_on_signal(int sig)
{
	struct secret_area *area = guard_area;
	size_t i;

	for (i = 0; i < MAX_GUARDED_BUFFERS; i++)
		if (guard_buffers[i] != NULL && guard_buffers[i]->data != NULL)
			zero_volatile(guard_buffers[i]->data, guard_buffers[i]->mapped);
	if (area != NULL && area->dirfd >= 0 && guard_policy != WIPE_NONE)
		for (i = 0; i < area->count; i++)
			if (!area->wiped[i] && (guard_policy == WIPE_ALL || area->used[i]) &&
			    unlinkat(area->dirfd, area->guids[i].str, 0) == 0 && wipe_mirror != NULL)
				wipe_mirror[i] = 1;
	raise(sig);
}

/*
 * Every signal whose default action ends the process, but SIGKILL (nobody
 * can catch it: unlink-first is the answer) and SIGPIPE (ignored: a closed
 * log pipe must not end us before the wipe). Stop, continue, child,
 * window and urgent-data signals do not end it.
 */
static bool ends_process(int sig)
{
	switch (sig) {
	case SIGKILL: case SIGSTOP: case SIGTSTP: case SIGTTIN: case SIGTTOU:
	case SIGCONT: case SIGCHLD: case SIGWINCH: case SIGURG: case SIGPIPE:
		return false;
	}
	return true;
}

void wipe_guard_install(struct secret_area *area, enum wipe_policy policy)
{
	struct sigaction sa;
	int sig;

	guard_area = area;
	guard_buffers[0] = &area->store;
	guard_policy = policy;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = wipe_on_signal;
	sa.sa_flags = SA_RESETHAND;
	sigfillset(&sa.sa_mask);
	/* Including the real-time ones; the C library's own are refused, fine. */
	for (sig = 1; sig < NSIG; sig++)
		if (ends_process(sig))
			sigaction(sig, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* More locked buffers for the handler to zero (a secret's working copy, a volume key). */
void wipe_guard_buffer(struct secret_buf *buf)
{
	size_t i;

	for (i = 1; i < MAX_GUARDED_BUFFERS; i++)
		if (guard_buffers[i] == NULL) {
			guard_buffers[i] = buf;
			return;
		}
}

/*
 * In a worker, after fork: the handler unlinks its own volume's secrets
 * (the used ones: the caller narrowed area->used to them), never every
 * secret (rd.coco.wipe=all is the parent's), and every unlink is mirrored
 * into @wiped, which the parent reads.
 */
void wipe_guard_worker(volatile sig_atomic_t *wiped)
{
	wipe_mirror = wiped;
	if (guard_policy == WIPE_ALL)
		guard_policy = WIPE_USED;
}

static void mark_wiped(struct secret_area *area, size_t i)
{
	area->wiped[i] = 1;
	if (wipe_mirror != NULL)
		wipe_mirror[i] = 1;
}

void wipe_guard_forget_buffer(struct secret_buf *buf)
{
	size_t i;

	for (i = 1; i < MAX_GUARDED_BUFFERS; i++)
		if (guard_buffers[i] == buf)
			guard_buffers[i] = NULL;
}

/* Unlinks secret @i; says what happened. 0, or -errno when it is still there. */
static int unlink_secret(struct secret_area *area, size_t i, const char *when)
{
	const char *guid = area->guids[i].str;

	if (area->wiped[i])
		return 0;
	if (unlinkat(area->dirfd, guid, 0) == 0) {
		mark_wiped(area, i);
		log_info("wiped secret %s%s", guid, when);
		return 0;
	}
	if (errno == ENOENT) {
		mark_wiped(area, i);
		log_info("secret %s was already gone", guid);
		return 0;
	}
	log_err("cannot wipe secret %s: %s; it is still readable", guid, strerror(errno));
	area->wipe_failed = true;
	return -errno;
}

void wipe_after_read(struct secret_area *area, size_t i)
{
	unlink_secret(area, i, " (read into locked memory first)");
}

/* ---- what the late --wipe-only must wipe: STATE_DIR/wipe ------------------------ */

int wipe_record_open(const struct options *opts)
{
	const char *dir = opts->state_dir ? opts->state_dir : STATE_DIR;
	int r;

	if (opts->state_dir == NULL && access("/run", W_OK) != 0)
		return -EROFS;
	r = wipe_record_open_in(dir);
	if (r < 0) {
		log_warn("cannot open %s/" STATE_FILE ": %s; --wipe-only will decide from the disks "
			 "present", dir, strerror(-r));
		return r;
	}
	record_fd = r;
	return 0;
}

/* A GUID a plan named, before it is read: one line, no secret byte. */
void wipe_record(const struct secret_area *area, size_t i)
{
	int r;

	if (record_fd < 0)
		return;
	r = wipe_record_append(record_fd, area->guids[i].str);
	if (r < 0)
		log_debug("cannot record %s: %s", area->guids[i].str, strerror(-r));
}

/* --wipe-only: the GUIDs the unlocking run recorded count as used. */
void wipe_record_load(struct secret_area *area, const struct options *opts)
{
	const char *dir = opts->state_dir ? opts->state_dir : STATE_DIR;
	char path[PATH_MAX], line[128];
	struct guid g;
	FILE *f;
	int i;

	snprintf(path, sizeof(path), "%s/" STATE_FILE, dir);
	f = fopen(path, "re");
	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (guid_parse(line, &g) && (i = secret_area_find(area, &g)) >= 0)
			area->used[i] = 1;
	}
	fclose(f);
	unlink(path);
}

/* ---- the end ---------------------------------------------------------------------- */

/* Every GUID-named file now in the directory, listed or not. */
static int wipe_every_file(struct secret_area *area)
{
	struct dirent *de;
	int r = 0, i;
	DIR *d;

	d = secret_area_opendir(area);
	if (d == NULL)
		return -errno;
	while ((de = readdir(d)) != NULL) {
		struct guid g;

		if (!guid_parse(de->d_name, &g))
			continue;
		i = secret_area_find(area, &g);
		if (i >= 0) {
			if (unlink_secret(area, (size_t)i, "") < 0)
				r = -EIO;
		} else if (unlinkat(area->dirfd, de->d_name, 0) == 0) {
			log_info("wiped secret %s", de->d_name);
		} else if (errno != ENOENT) {
			log_err("cannot wipe secret %s: %s; it is still readable", de->d_name, strerror(errno));
			area->wipe_failed = true;
			r = -EIO;
		}
	}
	closedir(d);
	return r;
}

int wipe_secrets(struct secret_area *area, enum wipe_policy policy)
{
	size_t i;
	int r = 0;

	if (area->dirfd < 0)
		return 0;
	switch (policy) {
	case WIPE_NONE:
		log_info("secrets left in place (rd.coco.wipe=none)");
		break;
	case WIPE_ALL:
		r = wipe_every_file(area);
		break;
	case WIPE_USED:
		for (i = 0; i < area->count; i++)
			if (area->used[i] && unlink_secret(area, i, "") < 0)
				r = -EIO;
		break;
	}
	/* The copies go now; disarmed only after: a signal during the wipe still finishes it. */
	if (area->store.data != NULL)
		explicit_bzero(area->store.data, area->store.mapped);
	guard_policy = WIPE_NONE;
	return area->wipe_failed ? -EIO : r;
}
