// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * ramscan: counts copies of secrets in a guest memory dump (a test tool).
 *
 *   ramscan DUMP NAME=SECRETFILE...
 *
 * For each secret, one line:
 *   NAME whole=N pieces=M windows=W
 * whole: occurrences of the whole value; pieces: occurrences of any of its
 * W 12-byte windows (every offset; a secret under 12 bytes is its own one
 * window), each occurrence counted. One pass over the dump whatever the
 * number of secrets: every 12-byte window of the dump is looked up in a
 * hash table of the secrets' windows (a 1 GiB dump takes a few seconds).
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define PIECE 12
#define MAX_SECRETS 16
#define SECRET_MAX 4096
#define TABLE_SIZE (1u << 16)	/* > MAX_SECRETS * SECRET_MAX windows */

struct secret {
	const char *name;
	uint8_t data[SECRET_MAX];
	size_t len;
	unsigned long whole, pieces;
	size_t windows;
};

struct slot {
	const uint8_t *window;	/* NULL: empty */
	struct secret *owner;
};

static struct secret secrets[MAX_SECRETS];
static struct slot table[TABLE_SIZE];

static uint32_t hash12(const uint8_t *p)
{
	uint64_t a, b;

	memcpy(&a, p, 8);
	b = (uint64_t)p[8] | (uint64_t)p[9] << 8 | (uint64_t)p[10] << 16 | (uint64_t)p[11] << 24;
	a ^= b * 0x9e3779b97f4a7c15ull;
	a *= 0xff51afd7ed558ccdull;
	return (uint32_t)(a >> 48);
}

static void add_window(const uint8_t *w, struct secret *s)
{
	uint32_t h = hash12(w) & (TABLE_SIZE - 1);

	while (table[h].window != NULL) {
		/* The same 12 bytes in two places are counted once per scan hit. */
		if (memcmp(table[h].window, w, PIECE) == 0 && table[h].owner == s)
			return;
		h = (h + 1) & (TABLE_SIZE - 1);
	}
	table[h].window = w;
	table[h].owner = s;
}

static int load(struct secret *s, const char *arg)
{
	const char *eq = strchr(arg, '=');
	size_t i;
	FILE *f;

	if (eq == NULL)
		return -1;
	s->name = strndup(arg, (size_t)(eq - arg));
	f = fopen(eq + 1, "rb");
	if (f == NULL)
		return -1;
	s->len = fread(s->data, 1, sizeof(s->data), f);
	fclose(f);
	if (s->len == 0) {
		fprintf(stderr, "ramscan: %s is empty: nothing to look for\n", eq + 1);
		return -1;
	}
	s->windows = s->len < PIECE ? 1 : s->len - PIECE + 1;
	if (s->len >= PIECE)
		for (i = 0; i < s->windows; i++)
			add_window(s->data + i, s);
	return 0;
}

int main(int argc, char **argv)
{
	int n = argc - 2, i, fd;
	const uint8_t *dump;
	struct stat st;
	size_t off;

	if (argc < 3 || n > MAX_SECRETS) {
		fprintf(stderr, "usage: ramscan DUMP NAME=SECRETFILE... (at most %d)\n", MAX_SECRETS);
		return 2;
	}
	for (i = 0; i < n; i++)
		if (load(&secrets[i], argv[i + 2]) < 0) {
			fprintf(stderr, "ramscan: cannot use %s\n", argv[i + 2]);
			return 2;
		}
	fd = open(argv[1], O_RDONLY);
	if (fd < 0 || fstat(fd, &st) < 0 || st.st_size < PIECE) {
		fprintf(stderr, "ramscan: cannot read %s\n", argv[1]);
		return 2;
	}
	dump = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (dump == MAP_FAILED)
		return 2;
	madvise((void *)dump, (size_t)st.st_size, MADV_SEQUENTIAL);
	for (off = 0; off + PIECE <= (size_t)st.st_size; off++) {
		const uint8_t *p = dump + off;
		uint32_t h = hash12(p) & (TABLE_SIZE - 1);

		for (; table[h].window != NULL; h = (h + 1) & (TABLE_SIZE - 1))
			if (memcmp(table[h].window, p, PIECE) == 0)
				table[h].owner->pieces++;
	}
	/* Whole values, and the short ones (their one window is themselves). */
	for (i = 0; i < n; i++) {
		struct secret *s = &secrets[i];
		const uint8_t *p = dump, *end = dump + st.st_size;

		while ((p = memmem(p, (size_t)(end - p), s->data, s->len)) != NULL) {
			s->whole++;
			p++;
		}
		if (s->len < PIECE)
			s->pieces = s->whole;
		printf("%s whole=%lu pieces=%lu windows=%zu\n", s->name, s->whole, s->pieces, s->windows);
	}
	return 0;
}
