// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Secret tables, in the layout the kernel's efi_secret parses: a header
 * { GUID 1e74f542-..., u32 length of the whole table } and then entries
 * { GUID, u32 20 + data length, data }, packed, little-endian, GUIDs in
 * EFI mixed-endian byte order.
 *
 * build pads the table with zeros to a multiple of 16 bytes after the
 * length, as sevctl does: SEV's LAUNCH_SECRET injects 16-byte multiples,
 * and the kernel reads nothing past the length. show and check accept
 * exactly that padding.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "coco-secret.h"

#define FAULT_SIZE 256
#define LOAD_SLACK 4096

static const uint8_t zero_guid_bytes[16];

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
		(uint32_t)p[3] << 24;
}

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static size_t round_up(size_t n, size_t to)
{
	return (n + to - 1) / to * to;
}

/* One entry as the walk below finds it; data points into the table. */
struct entry {
	unsigned int number;	/* 1-based, counting deleted entries too */
	size_t offset;
	struct guid guid;
	bool deleted;		/* all-zero GUID: the kernel skips it */
	const uint8_t *data;
	size_t len;
};

struct walk {
	const uint8_t *buf;
	size_t size;		/* bytes in the file */
	size_t area_size;
	uint32_t len;		/* the header's length */
	unsigned int exposed;	/* entries the kernel would make files for */
	char fault[FAULT_SIZE];
	void (*on_header)(const struct walk *w);
	void (*on_entry)(const struct entry *e, void *ctx);
	void *ctx;
};

#define fault(w, ...) (snprintf((w)->fault, FAULT_SIZE, __VA_ARGS__), -EINVAL)

static int walk_header(struct walk *w)
{
	struct guid g;

	if (w->size < TABLE_HEADER_SIZE)
		return fault(w, "header too short: the file has %zu bytes, a header needs %d",
			     w->size, TABLE_HEADER_SIZE);
	guid_from_efi_bytes(w->buf, &g);
	if (strcmp(g.str, GUID_SECRET_TABLE_HEADER) != 0)
		return fault(w, "header GUID is %s, not %s: the kernel sees an unpopulated area",
			     g.str, GUID_SECRET_TABLE_HEADER);
	w->len = get_le32(w->buf + 16);
	if (w->len < TABLE_HEADER_SIZE)
		return fault(w, "header length %u is less than %d: the kernel rejects the table",
			     w->len, TABLE_HEADER_SIZE);
	if (w->len > w->area_size)
		return fault(w, "header length %u is more than the area size %zu: "
			     "the kernel rejects the table", w->len, w->area_size);
	if (w->len > w->size)
		return fault(w, "header length %u is past the end of the file (%zu bytes)",
			     w->len, w->size);
	return 0;
}

/* The kernel makes no file at all when two entries share a GUID. */
static int find_earlier(const struct walk *w, const struct entry *e)
{
	size_t off = TABLE_HEADER_SIZE;
	unsigned int n = 1;

	while (off < e->offset) {
		if (memcmp(w->buf + off, w->buf + e->offset, 16) == 0)
			return (int)n;
		off += get_le32(w->buf + off + 16);
		n++;
	}
	return 0;
}

static int walk_entry(struct walk *w, size_t off, size_t left, struct entry *e)
{
	uint32_t elen = get_le32(w->buf + off + 16);
	int earlier;

	e->offset = off;
	if (elen < TABLE_ENTRY_HEADER_SIZE)
		return fault(w, "entry %u at offset %zu: length %u is less than %d: "
			     "the kernel reports a corrupted area and exposes nothing",
			     e->number, off, elen, TABLE_ENTRY_HEADER_SIZE);
	if (elen > left)
		return fault(w, "entry %u at offset %zu: length %u runs past the end of the "
			     "table (%zu bytes left): the kernel reports a corrupted area "
			     "and exposes nothing", e->number, off, elen, left);
	guid_from_efi_bytes(w->buf + off, &e->guid);
	e->deleted = memcmp(w->buf + off, zero_guid_bytes, 16) == 0;
	e->data = w->buf + off + TABLE_ENTRY_HEADER_SIZE;
	e->len = elen - TABLE_ENTRY_HEADER_SIZE;
	earlier = e->deleted ? 0 : find_earlier(w, e);
	if (earlier)
		return fault(w, "entry %u at offset %zu: GUID %s repeats entry %d: "
			     "the kernel fails on it and exposes nothing",
			     e->number, off, e->guid.str, earlier);
	return 0;
}

static int walk_entries(struct walk *w)
{
	size_t off = TABLE_HEADER_SIZE, left = w->len - TABLE_HEADER_SIZE;
	struct entry e = { 0 };
	int r;

	/* The kernel's loop: stops at 64 files or fewer than 20 bytes left. */
	while (left >= TABLE_ENTRY_HEADER_SIZE && w->exposed < MAX_TABLE_ENTRIES) {
		e.number++;
		r = walk_entry(w, off, left, &e);
		if (r < 0)
			return r;
		if (!e.deleted)
			w->exposed++;
		if (w->on_entry)
			w->on_entry(&e, w->ctx);
		off += TABLE_ENTRY_HEADER_SIZE + e.len;
		left -= TABLE_ENTRY_HEADER_SIZE + e.len;
	}
	if (left >= TABLE_ENTRY_HEADER_SIZE)
		return fault(w, "entry %u at offset %zu: the kernel exposes at most %d secrets "
			     "and ignores this entry and the rest", e.number + 1, off,
			     MAX_TABLE_ENTRIES);
	if (left > 0)
		return fault(w, "%zu stray bytes at offset %zu, too few for an entry: "
			     "the kernel ignores them", left, off);
	return 0;
}

/* Past the length, only sevctl's zero padding to a multiple of 16. */
static int walk_padding(struct walk *w)
{
	size_t i, limit = round_up(w->len, TABLE_ALIGN);

	for (i = w->len; i < w->size; i++)
		if (w->buf[i] != 0)
			return fault(w, "byte at offset %zu, after the table's length %u, is not "
				     "zero: the kernel ignores it (is the length wrong?)",
				     i, w->len);
	if (w->size > limit)
		return fault(w, "%zu bytes of zeros after the table's length %u: more than "
			     "the padding to a multiple of %d", w->size - w->len, w->len,
			     TABLE_ALIGN);
	if (w->size > w->area_size)
		return fault(w, "the file is %zu bytes, more than the area size %zu: "
			     "it cannot be injected", w->size, w->area_size);
	return 0;
}

static int walk_table(struct walk *w)
{
	int r = walk_header(w);

	if (r == 0 && w->on_header)
		w->on_header(w);
	if (r == 0)
		r = walk_entries(w);
	if (r == 0)
		r = walk_padding(w);
	return r;
}

/*
 * Tables hold secrets: they are read into locked memory like secrets.
 * Somewhat more than the area is read, so that a table too large for it
 * is reported by the rule it breaks rather than by its size.
 */
static int load_table(const char *path, size_t area_size, struct secret_buf *buf)
{
	return secret_read_file(path, area_size + LOAD_SLACK, buf);
}

static void print_escaped(const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (p[i] == '\\')
			fputs("\\\\", stdout);
		else if (p[i] >= 0x20 && p[i] < 0x7f)
			putchar(p[i]);
		else
			printf("\\x%02x", p[i]);
	}
}

static void show_entry(const struct entry *e, void *ctx)
{
	const bool *reveal = ctx;

	printf("%s  %zu bytes%s", e->guid.str, e->len, e->deleted ? " (deleted)" : "");
	if (*reveal && !e->deleted) {
		fputs("  ", stdout);
		print_escaped(e->data, e->len);
	}
	putchar('\n');
}

static void show_header(const struct walk *w)
{
	printf("table length %u, file %zu bytes, area %zu bytes\n", w->len, w->size,
	       w->area_size);
}

/* Load @path and walk it; a fault is reported here. A valid table is left in @keep. */
static int walk_file_keep(const char *path, size_t area_size, struct walk *w,
			  struct secret_buf *keep)
{
	struct secret_buf buf = { 0 };
	int r;

	r = load_table(path, area_size, &buf);
	if (r < 0)
		return r;
	w->buf = buf.data;
	w->size = buf.len;
	w->area_size = area_size;
	r = walk_table(w);
	/* Entries listed before a fault come out before its message. */
	fflush(stdout);
	if (r < 0)
		err("%s: %s", path, w->fault);
	w->buf = NULL;
	if (r == 0 && keep)
		*keep = buf;
	else
		secret_buf_free(&buf);
	return r;
}

static int walk_file(const char *path, size_t area_size, struct walk *w)
{
	return walk_file_keep(path, area_size, w, NULL);
}

int table_load_valid(const char *path, size_t area_size, struct secret_buf *table)
{
	struct walk w = { 0 };

	return walk_file_keep(path, area_size, &w, table) < 0 ? -1 : 0;
}

int table_show(const char *path, size_t area_size, bool reveal)
{
	struct walk w = { .on_header = show_header, .on_entry = show_entry, .ctx = &reveal };

	return walk_file(path, area_size, &w) < 0 ? EXIT_FAIL : EXIT_OK;
}

int table_check(const char *path, size_t area_size)
{
	struct walk w = { 0 };

	if (walk_file(path, area_size, &w) < 0)
		return EXIT_FAIL;
	printf("%s: valid: %u secrets, length %u, area %zu bytes\n", path, w.exposed, w.len,
	       area_size);
	return EXIT_OK;
}

static int check_inputs(const struct table_input *in, size_t n)
{
	size_t i, j;

	if (n > MAX_TABLE_ENTRIES) {
		err("%zu secrets: the kernel exposes at most %d", n, MAX_TABLE_ENTRIES);
		return -E2BIG;
	}
	for (i = 0; i < n; i++) {
		if (guid_is_zero(&in[i].guid)) {
			err("the all-zero GUID marks a deleted entry; the kernel would skip it");
			return -EINVAL;
		}
		for (j = 0; j < i; j++)
			if (guid_equal(&in[i].guid, &in[j].guid)) {
				err("GUID %s is given twice; the kernel would expose nothing",
				    in[i].guid.str);
				return -EINVAL;
			}
	}
	return 0;
}

static int read_inputs(const struct table_input *in, size_t n, size_t area_size,
		       struct secret_buf *data, size_t *total)
{
	size_t i;

	*total = TABLE_HEADER_SIZE;
	for (i = 0; i < n; i++) {
		if (secret_read_file(in[i].path, area_size, &data[i]) < 0)
			return -EINVAL;
		*total += TABLE_ENTRY_HEADER_SIZE + data[i].len;
	}
	return 0;
}

static void lay_out(uint8_t *p, const struct table_input *in, const struct secret_buf *data,
		    size_t n, size_t total)
{
	struct guid header;
	size_t i;

	guid_parse(GUID_SECRET_TABLE_HEADER, &header);
	guid_to_efi_bytes(&header, p);
	put_le32(p + 16, (uint32_t)total);
	p += TABLE_HEADER_SIZE;
	for (i = 0; i < n; i++) {
		guid_to_efi_bytes(&in[i].guid, p);
		put_le32(p + 16, (uint32_t)(TABLE_ENTRY_HEADER_SIZE + data[i].len));
		memcpy(p + TABLE_ENTRY_HEADER_SIZE, data[i].data, data[i].len);
		p += TABLE_ENTRY_HEADER_SIZE + data[i].len;
	}
}

/* The table of @in's files, in locked memory: what build writes and package sends. */
int table_assemble(const struct table_input *in, size_t n, size_t area_size, bool pad,
		   struct secret_buf *table)
{
	struct secret_buf *data = calloc(n ? n : 1, sizeof(*data));
	size_t i, total = 0, size;
	int r = -ENOMEM;

	if (data == NULL)
		goto out;
	r = check_inputs(in, n);
	if (r == 0)
		r = read_inputs(in, n, area_size, data, &total);
	if (r < 0)
		goto out;
	size = pad ? round_up(total, TABLE_ALIGN) : total;
	if (size > area_size) {
		err("the table would be %zu bytes, more than the area size %zu", size, area_size);
		r = -E2BIG;
		goto out;
	}
	r = secret_alloc(table, size);
	if (r < 0)
		goto out;
	memset(table->data, 0, size);
	table->len = size;
	lay_out(table->data, in, data, n, total);
out:
	for (i = 0; data && i < n; i++)
		secret_buf_free(&data[i]);
	free(data);
	return r;
}

int table_build(const char *out, const struct table_input *in, size_t n,
		size_t area_size, bool pad)
{
	struct secret_buf table = { 0 };
	int r;

	r = table_assemble(in, n, area_size, pad, &table);
	if (r == 0)
		r = write_file_replace(out, table.data, table.len);
	if (r == 0)
		info("wrote %s: %zu secrets, length %u, %zu bytes", out, n,
		     get_le32(table.data + 16), table.len);
	secret_buf_free(&table);
	return r < 0 ? EXIT_FAIL : EXIT_OK;
}
