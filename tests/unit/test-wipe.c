// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The wipe's own words: a secret unlinked is "wiped", one that vanished
 * behind our back is "already gone" (not "wiped"), and neither is a
 * failure; what is unlinked is marked, and the copies are zeroed.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coco-unlock.h"
#include "tap.h"

#define GA "aaaaaaaa-1111-4111-8111-111111111111"
#define GB "bbbbbbbb-2222-4222-8222-222222222222"

static char dir[] = "/tmp/coco-wipe-test.XXXXXX";

static void put(const char *guid)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, guid);
	f = fopen(path, "w");
	if (f != NULL) {
		fputs("some secret bytes", f);
		fclose(f);
	}
}

/* What the wipe logs, from stderr into a file. */
static char *capture(struct secret_area *area, enum wipe_policy policy, int *r)
{
	static char text[4096];
	int saved = dup(STDERR_FILENO), fd = open(".", O_TMPFILE | O_RDWR, 0600);
	ssize_t n;

	dup2(fd, STDERR_FILENO);
	*r = wipe_secrets(area, policy);
	dup2(saved, STDERR_FILENO);
	close(saved);
	lseek(fd, 0, SEEK_SET);
	n = read(fd, text, sizeof(text) - 1);
	text[n > 0 ? n : 0] = '\0';
	close(fd);
	return text;
}

int main(void)
{
	struct secret_buf buf = { 0 };
	struct secret_area area;
	char path[128], cmd[96], *log;
	int r;

	log_setup(false, false);
	if (mkdtemp(dir) == NULL || chdir(dir) < 0)
		return 1;
	put(GA);
	put(GB);
	tap_check(secret_area_open_dir(&area, dir, false) == 0 && area.count == 2, "two secrets listed");
	tap_check(secret_buf_alloc(&buf, SECRET_SLOT) == 0, "a locked working buffer");
	area.after_read = wipe_after_read;
	tap_check(secret_area_read(&area, 0, &buf) == 0 && buf.len == 17, "A read");
	snprintf(path, sizeof(path), "%s/%s", dir, GA);
	tap_check(access(path, F_OK) != 0 && area.wiped[0], "A unlinked right after its read");
	tap_check(secret_area_read(&area, 0, &buf) == 0 && buf.len == 17 &&
		  memcmp(buf.data, "some secret bytes", 17) == 0, "A read again: from its copy");
	area.used[1] = 1;
	snprintf(path, sizeof(path), "%s/%s", dir, GB);
	unlink(path);
	log = capture(&area, WIPE_USED, &r);
	tap_check(r == 0, "a secret already gone is no failure");
	tap_check(strstr(log, "secret " GB " was already gone") != NULL, "it is said as such");
	tap_check(strstr(log, "wiped secret " GB) == NULL, "and not as wiped");
	tap_check(strstr(log, GA) == NULL, "A, unlinked at its read, is not wiped twice");
	tap_check(area.store.data[0] == 0 && area.store.data[5] == 0, "the copies are zeroed at the end");
	secret_buf_free(&buf);
	secret_area_close(&area);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		return 1;
	return tap_done();
}
