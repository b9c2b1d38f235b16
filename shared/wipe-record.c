// SPDX-License-Identifier: LGPL-2.1-or-later
/* The record of secrets handed out (wipe-record.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wipe-record.h"

int wipe_record_open_in(const char *dir)
{
	char path[PATH_MAX];
	int fd;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	if ((size_t)snprintf(path, sizeof(path), "%s/" WIPE_RECORD_FILE, dir) >= sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
	return fd < 0 ? -errno : fd;
}

int wipe_record_append(int fd, const char *guid)
{
	char line[64];
	size_t len;
	ssize_t n;

	len = (size_t)snprintf(line, sizeof(line), "%s\n", guid);
	if (len >= sizeof(line))
		return -EINVAL;
	/* O_APPEND: one write() of a short line lands whole, whoever else appends. */
	n = write(fd, line, len);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}
