// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Is an active device-mapper device of this name the volume we were asked
 * to open? The host can make a mapping of that name appear (or leave one
 * from a volume it attached), so "already active" counts only when the
 * mapping is a LUKS crypt device with this UUID on this very device.
 * Read from sysfs: /sys/block/dm-N/dm/{name,uuid} and dm-N/slaves/.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "coco-unlock.h"

#define SYS_BLOCK "/sys/block"

static bool read_line(const char *path, char *buf, size_t size)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return true;
}

/* dm-crypt's UUID for a LUKS volume: CRYPT-LUKS<n>-<uuid without dashes>-<name>. */
static bool uuid_matches(const char *dm_uuid, const char *uuid, const char *name)
{
	char want[UUID_STRING_LEN + 1], *w = want;
	size_t n;

	if (strncmp(dm_uuid, "CRYPT-LUKS1-", 12) != 0 && strncmp(dm_uuid, "CRYPT-LUKS2-", 12) != 0)
		return false;
	for (; *uuid != '\0'; uuid++)
		if (*uuid != '-')
			*w++ = *uuid;
	*w = '\0';
	n = strlen(want);
	return strncasecmp(dm_uuid + 12, want, n) == 0 && dm_uuid[12 + n] == '-' &&
	       strcmp(dm_uuid + 13 + n, name) == 0;
}

/* The kernel's name of block device @path ("vdb"), via /sys/dev/block. */
static bool kernel_name(const char *path, char *out, size_t size)
{
	char link[64], target[PATH_MAX];
	struct stat st;
	const char *base;
	ssize_t n;

	if (stat(path, &st) < 0 || !S_ISBLK(st.st_mode))
		return false;
	snprintf(link, sizeof(link), "/sys/dev/block/%u:%u", major(st.st_rdev), minor(st.st_rdev));
	n = readlink(link, target, sizeof(target) - 1);
	if (n <= 0)
		return false;
	target[n] = '\0';
	base = strrchr(target, '/');
	return copy_string(out, size, base ? base + 1 : target);
}

enum mapping_state mapping_state(const char *name, const char *uuid, const char *device)
{
	enum mapping_state state = MAPPING_NONE;
	char path[PATH_MAX], value[256], dev[NAME_MAX + 1];
	struct dirent *de;
	DIR *d;

	d = opendir(SYS_BLOCK);
	if (d == NULL)
		return MAPPING_NONE;
	while (state == MAPPING_NONE && (de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, "dm-", 3) != 0)
			continue;
		snprintf(path, sizeof(path), SYS_BLOCK "/%s/dm/name", de->d_name);
		if (!read_line(path, value, sizeof(value)) || strcmp(value, name) != 0)
			continue;
		state = MAPPING_OTHER;
		snprintf(path, sizeof(path), SYS_BLOCK "/%s/dm/uuid", de->d_name);
		if (!read_line(path, value, sizeof(value)) || !uuid_matches(value, uuid, name) ||
		    !kernel_name(device, dev, sizeof(dev)))
			continue;
		snprintf(path, sizeof(path), SYS_BLOCK "/%s/slaves/%s", de->d_name, dev);
		if (access(path, F_OK) == 0)
			state = MAPPING_OURS;
	}
	closedir(d);
	return state;
}
