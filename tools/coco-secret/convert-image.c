// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The image side of convert: its format (qemu-img info), its partition
 * table (sfdisk --json on the raw copy), which partition is what (GPT
 * types, then the file system's own magic), and copying a partition out
 * of the image and back, sparse, with progress.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "coco-secret.h"
#include "convert.h"

/* GPT partition types (the Discoverable Partitions Specification). */
#define TYPE_ESP "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"
#define TYPE_ROOT_X86_64 "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709"
#define TYPE_LINUX_DATA "0FC63DAF-8483-4772-8E79-3D69D8477DE4"
#define TYPE_XBOOTLDR "BC13C2FF-59E6-4262-A352-B275FD6F7172"
#define TYPE_LVM "E6D6D379-F507-44C2-A23C-238F2A3DF928"
#define TYPE_LUKS "CA7D7CCB-63ED-4C53-861C-1742536059CC"

static const char *json_str(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : NULL;
}

static int64_t json_int(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_int64(v) : -1;
}

/* raw or qcow2, as qemu-img sees @path; anything else is refused. */
int image_format(const char *path, char *format, size_t size)
{
	const char *argv[] = { "qemu-img", "info", "--output=json", path, NULL };
	json_object *j;
	const char *f;
	char *out;
	int r;

	r = run_capture(argv, &out);
	if (r != 0) {
		err("%s: qemu-img cannot read it", path);
		return -EIO;
	}
	j = json_tokener_parse(out);
	free(out);
	f = j ? json_str(j, "format") : NULL;
	r = 0;
	if (f == NULL || (strcmp(f, "raw") != 0 && strcmp(f, "qcow2") != 0)) {
		err("%s: the format is %s; convert takes raw and qcow2", path, f ? f : "unknown");
		r = -EINVAL;
	} else
		snprintf(format, size, "%s", f);
	json_object_put(j);
	return r;
}

static bool read_at(int fd, uint64_t off, void *buf, size_t len)
{
	return pread(fd, buf, len, (off_t)off) == (ssize_t)len;
}

/* What a partition holds, by its first bytes: ext4, LUKS, LVM, btrfs, ... */
static const char *probe_fs(int fd, const struct convert_part *p)
{
	unsigned char b[72];

	if (read_at(fd, p->offset, b, 6) && memcmp(b, "LUKS\xba\xbe", 6) == 0)
		return "luks";
	if (read_at(fd, p->offset + 512, b, 8) && memcmp(b, "LABELONE", 8) == 0)
		return "lvm";
	if (read_at(fd, p->offset + 0x10040, b, 8) && memcmp(b, "_BHRfS_M", 8) == 0)
		return "btrfs";
	if (read_at(fd, p->offset + 1024 + 56, b, 2) && b[0] == 0x53 && b[1] == 0xef)
		return "ext4";
	return "unknown";
}

static void part_from_json(json_object *jp, uint64_t sector, struct convert_part *p)
{
	const char *node = json_str(jp, "node"), *type = json_str(jp, "type");
	size_t n = node ? strlen(node) : 0;

	while (n > 0 && node[n - 1] >= '0' && node[n - 1] <= '9')
		n--;
	p->number = node ? atoi(node + n) : 0;
	p->offset = (uint64_t)json_int(jp, "start") * sector;
	p->size = (uint64_t)json_int(jp, "size") * sector;
	snprintf(p->type, sizeof(p->type), "%s", type ? type : "");
}

/* A partition that cannot be the root or /boot of a supported image. */
static int refuse_part(const char *in, const struct convert_part *p, const char *fs)
{
	if (strcasecmp(p->type, TYPE_LVM) == 0 || strcmp(fs, "lvm") == 0)
		err("%s: partition %d is LVM; convert supports a plain ext4 root only", in,
		    p->number);
	else if (strcmp(fs, "btrfs") == 0)
		err("%s: partition %d is btrfs; convert supports an ext4 root only", in, p->number);
	else if (strcasecmp(p->type, TYPE_LUKS) == 0 || strcmp(fs, "luks") == 0)
		err("%s: partition %d is already LUKS-encrypted; convert wants an unencrypted image",
		    in, p->number);
	else
		return 0;
	return -EINVAL;
}

static int classify(const char *in, int fd, struct convert_part *p, struct convert_layout *l)
{
	const char *fs = probe_fs(fd, p);
	bool root_type = strcasecmp(p->type, TYPE_ROOT_X86_64) == 0;
	bool data_type = strcasecmp(p->type, TYPE_LINUX_DATA) == 0;

	if (refuse_part(in, p, fs) < 0)
		return -EINVAL;
	if (strcasecmp(p->type, TYPE_ESP) == 0) {
		l->esp = *p;
	} else if (strcasecmp(p->type, TYPE_XBOOTLDR) == 0 && strcmp(fs, "ext4") == 0) {
		l->boot = *p;
		l->has_boot = true;
	} else if ((root_type || data_type) && strcmp(fs, "ext4") == 0) {
		/* The root type wins; else the largest Linux data partition. */
		if (l->root.number == 0 || root_type || p->size > l->root.size)
			if (!(l->root.number && strcasecmp(l->root.type, TYPE_ROOT_X86_64) == 0))
				l->root = *p;
	}
	return 0;
}

static int layout_parts(const char *in, json_object *pt, int fd, struct convert_layout *l)
{
	json_object *parts;
	int64_t sector = json_int(pt, "sectorsize");
	size_t i;

	if (sector <= 0)
		sector = 512;
	if (!json_object_object_get_ex(pt, "partitions", &parts) ||
	    !json_object_is_type(parts, json_type_array)) {
		err("%s: the partition table has no partitions", in);
		return -EINVAL;
	}
	for (i = 0; i < json_object_array_length(parts); i++) {
		struct convert_part p = { 0 };

		part_from_json(json_object_array_get_idx(parts, i), (uint64_t)sector, &p);
		if (classify(in, fd, &p, l) < 0)
			return -EINVAL;
	}
	if (l->esp.number == 0) {
		err("%s: no EFI system partition; convert wants a UEFI (GPT, ESP) image", in);
		return -EINVAL;
	}
	if (l->root.number == 0) {
		err("%s: no ext4 root partition (Linux root x86-64 or Linux data type)", in);
		return -EINVAL;
	}
	return 0;
}

/* The partitions of the raw copy @raw of @in: ESP, root, maybe /boot. */
int image_layout(const char *raw, const char *in, struct convert_layout *l)
{
	const char *argv[] = { "sfdisk", "--json", raw, NULL };
	json_object *j = NULL, *pt;
	const char *label;
	char *out = NULL;
	int fd, r;

	memset(l, 0, sizeof(*l));
	if (run_capture(argv, &out) != 0 || (j = json_tokener_parse(out)) == NULL ||
	    !json_object_object_get_ex(j, "partitiontable", &pt)) {
		err("%s: no partition table; convert wants a GPT disk image", in);
		free(out);
		json_object_put(j);
		return -EINVAL;
	}
	free(out);
	label = json_str(pt, "label");
	if (label == NULL || strcmp(label, "gpt") != 0) {
		err("%s: the partition table is %s; convert wants GPT", in,
		    label ? label : "unknown");
		json_object_put(j);
		return -EINVAL;
	}
	fd = open(raw, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		err("cannot open %s: %s", raw, strerror(-r));
	} else {
		r = layout_parts(in, pt, fd, l);
		close(fd);
	}
	json_object_put(j);
	return r;
}

static bool all_zero(const unsigned char *p, size_t n)
{
	return n == 0 || (p[0] == 0 && memcmp(p, p + 1, n - 1) == 0);
}

/*
 * A chunk of zeros: skipped in a new (sparse) file, a hole punched in an
 * existing one (written as zeros where the file system cannot).
 */
static int put_chunk(int fd, const unsigned char *buf, size_t n, uint64_t off, bool new_file)
{
	if (all_zero(buf, n)) {
		if (new_file)
			return 0;
		if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off,
			      (off_t)n) == 0)
			return 0;
	}
	return pwrite(fd, buf, n, (off_t)off) == (ssize_t)n ? 0 : -errno;
}

static int copy_fds(int in, uint64_t src_off, int out, uint64_t dst_off, uint64_t len,
		    bool new_file, const char *what)
{
	const size_t chunk = 4u << 20;
	unsigned char *buf = malloc(chunk);
	uint64_t done = 0;
	int last = -1, r = 0;

	if (buf == NULL)
		return -ENOMEM;
	while (done < len && r == 0) {
		size_t n = len - done < chunk ? (size_t)(len - done) : chunk;
		int pct = (int)(done * 100 / len);

		if (convert_interrupted) {
			r = -EINTR;
			break;
		}
		if (pct / 25 != last / 25 || last < 0)
			progress("%s: %d%% of %llu MiB", what, pct,
				 (unsigned long long)(len >> 20));
		last = pct;
		if (pread(in, buf, n, (off_t)(src_off + done)) != (ssize_t)n)
			r = -EIO;
		else
			r = put_chunk(out, buf, n, dst_off + done, new_file);
		done += n;
	}
	free(buf);
	return r;
}

/* Copies @len bytes; @new_file: @dst is made (0600) at that size first. */
int copy_range(const char *src, uint64_t src_off, const char *dst, uint64_t dst_off, uint64_t len,
	       bool new_file, const char *what)
{
	int in, out, r;

	in = open(src, O_RDONLY | O_CLOEXEC);
	out = open(dst, O_WRONLY | O_CLOEXEC | (new_file ? O_CREAT | O_EXCL : 0), 0600);
	if (in < 0 || out < 0) {
		r = -errno;
		err("%s: cannot open %s: %s", what, in < 0 ? src : dst, strerror(-r));
	} else if (new_file && ftruncate(out, (off_t)len) < 0) {
		r = -errno;
	} else {
		r = copy_fds(in, src_off, out, dst_off, len, new_file, what);
		if (r == 0 && fsync(out) < 0)
			r = -errno;
		if (r < 0 && r != -EINTR)
			err("%s: copying failed: %s", what, strerror(-r));
	}
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	return r;
}
