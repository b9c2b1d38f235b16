// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The secrets directory as a fake tree: listing, the securityfs check,
 * reading to EOF with the 4 KiB cap, and files that are not plain files.
 * Also the activation flags the volume options turn into.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libcryptsetup.h>

#include "coco-unlock.h"
#include "tap.h"

#define GA "aaaaaaaa-0000-0000-0000-000000000001"
#define GB "bbbbbbbb-0000-0000-0000-000000000002"
#define GC "cccccccc-0000-0000-0000-000000000003"
#define GD "dddddddd-0000-0000-0000-000000000004"

static char dir[] = "/tmp/coco-secret-area.XXXXXX";

static void write_file(const char *name, size_t size)
{
	char path[256];
	FILE *f;
	size_t i;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	for (i = 0; i < size; i++)
		fputc('s', f);
	fclose(f);
}

static int read_secret(struct secret_area *area, const char *guid, struct secret_buf *buf)
{
	struct guid g;

	guid_parse(guid, &g);
	return secret_area_read(area, (size_t)secret_area_find(area, &g), buf);
}

static void test_listing(void)
{
	struct secret_area area;

	tap_check(secret_area_open_dir(&area, dir, false) == -ENODATA, "empty directory: -ENODATA");
	secret_area_close(&area);
	write_file(GB, 10);
	write_file(GA, 0);
	write_file("not-a-guid", 3);
	tap_check(secret_area_open_dir(&area, dir, false) == 0 && area.count == 2,
		  "two GUID files listed, the other name ignored");
	tap_str_eq(area.guids[0].str, GA, "listed in GUID order");
	secret_area_close(&area);

	tap_check(secret_area_open_dir(&area, dir, true) == -EMEDIUMTYPE,
		  "a directory that is not on securityfs is refused");
	secret_area_close(&area);
	tap_check(secret_area_open_dir(&area, "/nonexistent/coco", false) == -ENOENT,
		  "missing directory: -ENOENT");
}

static void test_reading(void)
{
	struct secret_buf buf = { 0 };
	struct secret_area area;
	char target[256], link[256];

	write_file(GC, SECRET_MAX_SIZE);
	write_file(GD, SECRET_MAX_SIZE + 1);
	tap_check(secret_buf_alloc(&buf, SECRET_MAX_SIZE + 1) == 0, "locked buffer allocated");
	secret_area_open_dir(&area, dir, false);

	tap_check(read_secret(&area, GB, &buf) == 0 && buf.len == 10, "10-byte secret read whole");
	tap_check(area.used[1], "a read marks the secret used");
	tap_check(read_secret(&area, GA, &buf) == 0 && buf.len == 0, "zero-length secret reads as empty");
	tap_check(read_secret(&area, GC, &buf) == 0 && buf.len == SECRET_MAX_SIZE, "4096 bytes accepted");
	tap_check(read_secret(&area, GD, &buf) == -EFBIG && buf.len == 0, "4097 bytes refused, buffer wiped");
	secret_buf_clear(&buf);
	tap_check(buf.len == 0 && buf.data[0] == 0 && buf.data[SECRET_MAX_SIZE] == 0, "clear zeroes the buffer");
	secret_area_close(&area);

	/* A symlink or a directory where a secret should be is not read. */
	snprintf(target, sizeof(target), "%s/%s", dir, GB);
	snprintf(link, sizeof(link), "%s/%s", dir, GD);
	unlink(link);
	tap_check(symlink(target, link) == 0, "symlink fixture");
	secret_area_open_dir(&area, dir, false);
	tap_check(read_secret(&area, GD, &buf) == -ELOOP, "symlinked secret refused (O_NOFOLLOW)");
	tap_check(area.used[3], "even a refused read counts as used, so it gets wiped");
	secret_area_close(&area);
	unlink(link);
	snprintf(link, sizeof(link), "%s/%s", dir, GC);
	unlink(link);
	mkdir(link, 0700);
	secret_area_open_dir(&area, dir, false);
	tap_check(read_secret(&area, GC, &buf) < 0, "directory in place of a secret refused");
	secret_area_close(&area);
	rmdir(link);
	secret_buf_free(&buf);
	tap_check(buf.data == NULL, "buffer released");
}

static void test_flags(void)
{
	struct volume_options o = { 0 };

	const uint32_t own = CRYPT_ACTIVATE_IGNORE_PERSISTENT;

	tap_check(activation_flags(&o) == own,
		  "no option: only IGNORE_PERSISTENT (the header's flags are the host's)");
	o.discard = true;
	o.readonly = true;
	tap_check(activation_flags(&o) == (own | CRYPT_ACTIVATE_ALLOW_DISCARDS | CRYPT_ACTIVATE_READONLY),
		  "discard and readonly");
	o = (struct volume_options){ .no_read_workqueue = true, .no_write_workqueue = true };
	tap_check(activation_flags(&o) ==
		  (own | CRYPT_ACTIVATE_NO_READ_WORKQUEUE | CRYPT_ACTIVATE_NO_WRITE_WORKQUEUE),
		  "no-read-workqueue and no-write-workqueue");
}

int main(void)
{
	char cmd[64];

	log_setup(false, false);
	if (mkdtemp(dir) == NULL)
		return 1;
	test_listing();
	test_reading();
	test_flags();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		return 1;
	return tap_done();
}
