// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Finding devices: what a configured device names, and which devices are
 * LUKS volumes. A minimal initramfs has no udev and so no
 * /dev/disk/by-uuid, so LUKS UUIDs are also matched by reading the header
 * of every block device.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "coco-unlock.h"

#define LUKS_MAGIC "LUKS\xba\xbe"
#define LUKS_MAGIC_LEN 6
#define LUKS_VERSION_OFFSET 6
/* LUKS1 and LUKS2 binary headers both keep the UUID text here. */
#define LUKS_UUID_OFFSET 168
#define LUKS_UUID_FIELD 40
#define SYS_BLOCK_DIR "/sys/class/block"
/* The host decides how many disks there are: look at this many at most. */
#define DEVICE_SCAN_MAX 256

/* 0 and the UUID when @path starts with a LUKS header, else -ENODEV. */
int luks_probe(const char *path, char uuid[UUID_STRING_LEN + 1], int *version)
{
	uint8_t hdr[LUKS_UUID_OFFSET + LUKS_UUID_FIELD];
	char field[LUKS_UUID_FIELD + 1];
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	n = pread(fd, hdr, sizeof(hdr), 0);
	close(fd);
	if (n != (ssize_t)sizeof(hdr) || memcmp(hdr, LUKS_MAGIC, LUKS_MAGIC_LEN) != 0)
		return -ENODEV;

	*version = hdr[LUKS_VERSION_OFFSET] << 8 | hdr[LUKS_VERSION_OFFSET + 1];
	memcpy(field, hdr + LUKS_UUID_OFFSET, LUKS_UUID_FIELD);
	field[LUKS_UUID_FIELD] = '\0';
	if (!parse_luks_uuid(field, uuid))
		return -ENODEV;
	return 0;
}

static bool usable_device(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && (S_ISBLK(st.st_mode) || S_ISREG(st.st_mode));
}

static int visit(const char *path, luks_device_fn fn, void *data)
{
	char uuid[UUID_STRING_LEN + 1];
	int version;

	if (!usable_device(path) || luks_probe(path, uuid, &version) < 0)
		return 0;
	return fn(path, uuid, version, data);
}

/*
 * Calls @fn for every LUKS device: the block devices the kernel knows, or
 * the files of @devices_dir in tests. Stops when @fn returns non-zero.
 */
int luks_devices_foreach(const char *devices_dir, luks_device_fn fn, void *data)
{
	const char *dir = devices_dir ? devices_dir : SYS_BLOCK_DIR;
	const char *prefix = devices_dir ? devices_dir : "/dev";
	struct dirent *de;
	int r = 0, seen = 0;
	DIR *d;

	d = opendir(dir);
	if (d == NULL)
		return -errno;
	while (r == 0 && (de = readdir(d)) != NULL) {
		char path[PATH_MAX];

		if (de->d_name[0] == '.')
			continue;
		if (++seen > DEVICE_SCAN_MAX) {
			log_warn("more than %d block devices: the others are not looked at", DEVICE_SCAN_MAX);
			break;
		}
		if (snprintf(path, sizeof(path), "%s/%s", prefix, de->d_name) >= (int)sizeof(path))
			continue;
		r = visit(path, fn, data);
	}
	closedir(d);
	return r < 0 ? r : 0;
}

struct uuid_match {
	const char *uuid;
	char *path;
	size_t size;
	int found;
	char *other;		/* a second device with the UUID */
};

static int match_uuid(const char *path, const char *uuid, int version, void *data)
{
	struct uuid_match *m = data;

	if (strcmp(uuid, m->uuid) != 0)
		return 0;
	if (m->found++ == 0)
		copy_string(m->path, m->size, path);
	else
		copy_string(m->other, PATH_MAX, path);
	return 0;
}

/*
 * Every device is looked at, udev's by-uuid link or not: the host may
 * attach a second disk with the same UUID, and then nobody can say which
 * one the owner meant (-ENOTUNIQ, @other names the second).
 */
static int resolve_uuid(const char *uuid, const char *devices_dir, char *path, size_t size,
			char *other)
{
	struct uuid_match m = { .uuid = uuid, .path = path, .size = size, .other = other };

	luks_devices_foreach(devices_dir, match_uuid, &m);
	if (m.found > 1)
		return -ENOTUNIQ;
	return m.found == 1 && path[0] != '\0' ? 0 : -ENOENT;
}

/* LABEL=, PARTUUID=, PARTLABEL= are udev's symlinks. */
static int resolve_tag(const char *device, char *path, size_t size)
{
	static const struct { const char *tag, *dir; } tags[] = {
		{ "LABEL=", "/dev/disk/by-label/" },
		{ "PARTUUID=", "/dev/disk/by-partuuid/" },
		{ "PARTLABEL=", "/dev/disk/by-partlabel/" },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(tags); i++) {
		size_t n = strlen(tags[i].tag);

		if (strncmp(device, tags[i].tag, n) != 0)
			continue;
		/* A value with '/' would leave the directory. */
		if (strchr(device + n, '/') != NULL)
			return -EINVAL;
		if (snprintf(path, size, "%s%s", tags[i].dir, device + n) >= (int)size)
			return -ENAMETOOLONG;
		return usable_device(path) ? 0 : -ENOENT;
	}
	return -EINVAL;
}

/*
 * 0 and the device's path once it exists, -ENOENT while it does not,
 * -ENOTUNIQ (and the second device in @other, PATH_MAX bytes) when two
 * carry the volume's UUID.
 */
int device_resolve(const struct volume *v, const char *devices_dir, char *path, size_t size,
		   char *other)
{
	if (v->device[0] == '/') {
		if (!usable_device(v->device))
			return -ENOENT;
		return copy_string(path, size, v->device) ? 0 : -ENAMETOOLONG;
	}
	if (v->device[0] != '\0')
		return resolve_tag(v->device, path, size);
	path[0] = '\0';
	return resolve_uuid(v->uuid, devices_dir, path, size, other);
}
