// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Wiping secrets: unlinking a file under secrets/coco makes efi_secret
 * zero the entry and clear its GUID, so it never comes back. This runs on
 * every way out of the agent, fatal signals included.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "coco-unlock.h"

static struct secret_area *guard_area;
static volatile sig_atomic_t guard_policy = WIPE_NONE;

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

/* Only async-signal-safe calls here: unlinkat() and raise(). */
static void wipe_on_signal(int sig)
{
	struct secret_area *area = guard_area;
	size_t i;

	if (area != NULL && area->dirfd >= 0 && guard_policy != WIPE_NONE)
		for (i = 0; i < area->count; i++)
			if (guard_policy == WIPE_ALL || area->used[i])
				unlinkat(area->dirfd, area->guids[i].str, 0);
	raise(sig);
}

void wipe_guard_install(struct secret_area *area, enum wipe_policy policy)
{
	static const int signals[] = {
		SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGALRM,
		SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL,
	};
	struct sigaction sa;
	size_t i;

	guard_area = area;
	guard_policy = policy;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = wipe_on_signal;
	sa.sa_flags = SA_RESETHAND;
	sigfillset(&sa.sa_mask);
	for (i = 0; i < ARRAY_SIZE(signals); i++)
		sigaction(signals[i], &sa, NULL);
	/* A closed log pipe must not kill us before the wipe. */
	signal(SIGPIPE, SIG_IGN);
}

static int wipe_one(struct secret_area *area, const char *name)
{
	if (unlinkat(area->dirfd, name, 0) < 0 && errno != ENOENT) {
		log_err("cannot wipe secret %s: %s", name, strerror(errno));
		return -errno;
	}
	log_info("wiped secret %s", name);
	return 0;
}

/* Every GUID-named file now in the directory, listed or not. */
static int wipe_every_file(struct secret_area *area)
{
	struct dirent *de;
	int r = 0;
	DIR *d;

	d = secret_area_opendir(area);
	if (d == NULL)
		return -errno;
	while ((de = readdir(d)) != NULL)
		if (guid_parse(de->d_name, NULL) && wipe_one(area, de->d_name) < 0)
			r = -EIO;
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
			if (area->used[i] && wipe_one(area, area->guids[i].str) < 0)
				r = -EIO;
		break;
	}
	/* Disarmed only now: a signal during the wipe still finishes it. */
	guard_policy = WIPE_NONE;
	return r;
}
