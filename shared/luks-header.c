// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Reading a LUKS header the host wrote, and the private copy that
 * libcryptsetup loads instead of the disk (luks-header.h). Layouts:
 * LUKS1, "LUKS On-Disk Format Specification" 1.2.3 (one 592-byte header,
 * big-endian); LUKS2, "LUKS2 On-Disk Format Specification" 1.1 (two
 * copies, each a 4096-byte binary header with a SHA-256 over the copy,
 * then a JSON area).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <json-c/json.h>

#include "guid.h"
#include "luks-header.h"
#include "luks2-json.h"
#include "sha256.h"

#define LUKS_MAGIC_1 "LUKS\xba\xbe"
#define LUKS_MAGIC_2 "SKUL\xba\xbe"
#define LUKS_MAGIC_LEN 6
#define SECTOR 512
#define BIN_HDR_SIZE 4096
/* LUKS2 copy sizes cryptsetup writes: 16 KiB to 4 MiB, powers of two. */
#define LUKS2_HDR_MIN (16 * 1024)
#define LUKS2_HDR_MAX (4 * 1024 * 1024)
/* libcryptsetup's own limit for the keyslots area. */
#define LUKS2_KEYSLOTS_SIZE_MAX (128ULL * 1024 * 1024)
/* LUKS1 key material ends well before this (8 keyslots of 512-bit keys). */
#define LUKS1_MATERIAL_END_MAX (16ULL * 1024 * 1024)
#define LUKS1_KEYSLOT_ENABLED 0x00AC71F3u
#define LUKS1_KEYSLOT_DISABLED 0x0000DEADu

/* Offsets in the binary headers. */
enum {
	L2_VERSION = 6, L2_HDR_SIZE = 8, L2_SEQID = 16, L2_LABEL = 24, L2_CSUM_ALG = 72,
	L2_SALT = 104, L2_UUID = 168, L2_SUBSYSTEM = 208, L2_HDR_OFFSET = 256, L2_CSUM = 448,
	L1_VERSION = 6, L1_CIPHER = 8, L1_MODE = 40, L1_HASH = 72, L1_PAYLOAD = 104,
	L1_KEY_BYTES = 108, L1_DIGEST_ITER = 164, L1_UUID = 168, L1_KEYSLOTS = 208,
	L1_KEYSLOT_SIZE = 48, L1_HDR_SIZE = 592,
};

static void set_why(char why[LUKS_WHY_MAX], const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void set_why(char why[LUKS_WHY_MAX], const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, LUKS_WHY_MAX, fmt, ap);
	va_end(ap);
}

static uint64_t be64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Reads exactly @len bytes at @off: -EIO on a short read. */
static int read_at(int fd, void *buf, size_t len, uint64_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pread(fd, (uint8_t *)buf + done, len - done, (off_t)(off + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		done += (size_t)n;
	}
	return 0;
}

/* A fixed-size text field: NUL-terminated inside it, copied out. */
static bool field_text(const uint8_t *p, size_t len, char *out, size_t out_size)
{
	const uint8_t *nul = memchr(p, '\0', len);

	if (nul == NULL || (size_t)(nul - p) >= out_size)
		return false;
	memcpy(out, p, (size_t)(nul - p) + 1);
	return true;
}

static bool field_uuid(const uint8_t *p, char out[LUKS_UUID_LEN + 1])
{
	char text[40];
	struct guid g;

	if (!field_text(p, 40, text, sizeof(text)) || !guid_parse(text, &g))
		return false;
	memcpy(out, g.str, LUKS_UUID_LEN + 1);
	return true;
}

/* ---- LUKS2 ------------------------------------------------------------------- */

static bool luks2_checksum_ok(const uint8_t *copy, uint64_t hdr_size)
{
	uint8_t zeros[64] = { 0 }, digest[SHA256_DIGEST_SIZE];
	struct sha256 s;

	sha256_init(&s);
	sha256_update(&s, copy, L2_CSUM);
	sha256_update(&s, zeros, sizeof(zeros));
	sha256_update(&s, copy + L2_CSUM + 64, hdr_size - L2_CSUM - 64);
	sha256_final(&s, digest);
	return memcmp(digest, copy + L2_CSUM, SHA256_DIGEST_SIZE) == 0 &&
	       memcmp(copy + L2_CSUM + SHA256_DIGEST_SIZE, zeros, 64 - SHA256_DIGEST_SIZE) == 0;
}

static bool hdr_size_valid(uint64_t size)
{
	return size >= LUKS2_HDR_MIN && size <= LUKS2_HDR_MAX && (size & (size - 1)) == 0;
}

/* One copy's binary header: magic, version, offset, checksum. */
static int luks2_check_copy(const uint8_t *copy, uint64_t hdr_size, const char *magic,
			    uint64_t offset, const char *which, char why[LUKS_WHY_MAX])
{
	char alg[32];

	if (memcmp(copy, magic, LUKS_MAGIC_LEN) != 0 || be16(copy + L2_VERSION) != 2) {
		set_why(why, "the %s LUKS2 header copy is missing", which);
		return -EBADMSG;
	}
	if (be64(copy + L2_HDR_SIZE) != hdr_size || be64(copy + L2_HDR_OFFSET) != offset) {
		set_why(why, "the %s LUKS2 header copy has another size or offset", which);
		return -EBADMSG;
	}
	if (!field_text(copy + L2_CSUM_ALG, 32, alg, sizeof(alg)) || strcmp(alg, "sha256") != 0) {
		set_why(why, "the %s LUKS2 header copy has a checksum other than sha256", which);
		return -EBADMSG;
	}
	if (!luks2_checksum_ok(copy, hdr_size)) {
		set_why(why, "the %s LUKS2 header copy has a bad checksum", which);
		return -EBADMSG;
	}
	return 0;
}

/*
 * The two copies must say the same: everything but magic, salt, offset
 * and checksum is compared, the JSON areas byte for byte. libcryptsetup
 * would take the newer or the valid one and write it over the other.
 */
static int luks2_compare_copies(const uint8_t *a, const uint8_t *b, uint64_t hdr_size,
				char why[LUKS_WHY_MAX])
{
	static const struct { size_t off, len; } same[] = {
		{ L2_VERSION, 2 }, { L2_HDR_SIZE, 8 }, { L2_SEQID, 8 }, { L2_LABEL, 48 },
		{ L2_CSUM_ALG, 32 }, { L2_UUID, 40 }, { L2_SUBSYSTEM, 48 },
	};
	size_t i;

	for (i = 0; i < sizeof(same) / sizeof(same[0]); i++)
		if (memcmp(a + same[i].off, b + same[i].off, same[i].len) != 0)
			goto differ;
	if (memcmp(a + BIN_HDR_SIZE, b + BIN_HDR_SIZE, hdr_size - BIN_HDR_SIZE) != 0)
		goto differ;
	return 0;
differ:
	set_why(why, "the two LUKS2 header copies differ");
	return -EBADMSG;
}

/*
 * @text (@len bytes, no NUL among them) as LUKS2 metadata: one JSON
 * object, parsed to its end, whose config.json_size is @json_size.
 */
static int luks2_parse_json(struct luks_header *h, const char *text, size_t len,
			    uint64_t json_size, char why[LUKS_WHY_MAX])
{
	struct json_tokener *tok;
	uint64_t said;

	tok = json_tokener_new_ex(JSON_TOKENER_DEFAULT_DEPTH);
	if (tok == NULL)
		return -ENOMEM;
	h->json = json_tokener_parse_ex(tok, text, (int)len);
	if (h->json == NULL || json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != len || !json_object_is_type(h->json, json_type_object)) {
		json_tokener_free(tok);
		set_why(why, "the LUKS2 metadata is not a JSON object");
		return -EBADMSG;
	}
	json_tokener_free(tok);
	if (!luks2_u64(luks2_object(h->json, "config"), "json_size", LUKS2_HDR_MAX, &said) ||
	    said != json_size) {
		set_why(why, "the LUKS2 metadata's json_size does not match its header");
		return -EBADMSG;
	}
	return 0;
}

/* The JSON area of the first copy: NUL-terminated inside the area. */
static int luks2_parse_area(struct luks_header *h, char why[LUKS_WHY_MAX])
{
	const char *area = (const char *)h->copies + BIN_HDR_SIZE;
	size_t area_len = h->hdr_size - BIN_HDR_SIZE, len = strnlen(area, area_len);

	if (len == area_len) {
		set_why(why, "the LUKS2 JSON area is not terminated");
		return -EBADMSG;
	}
	return luks2_parse_json(h, area, len, area_len, why);
}

static int luks2_read(int fd, const uint8_t *first, struct luks_header *h, char why[LUKS_WHY_MAX])
{
	uint64_t size = be64(first + L2_HDR_SIZE);
	int r;

	if (!hdr_size_valid(size)) {
		set_why(why, "the LUKS2 header size %llu is not one cryptsetup writes",
			(unsigned long long)size);
		return -EBADMSG;
	}
	h->version = 2;
	h->hdr_size = size;
	h->copies = malloc(2 * size);
	if (h->copies == NULL)
		return -ENOMEM;
	r = read_at(fd, h->copies, 2 * size, 0);
	if (r < 0) {
		set_why(why, "cannot read the LUKS2 header copies: %s", strerror(-r));
		return r;
	}
	r = luks2_check_copy(h->copies, size, LUKS_MAGIC_1, 0, "first", why);
	if (r == 0)
		r = luks2_check_copy(h->copies + size, size, LUKS_MAGIC_2, size, "second", why);
	if (r == 0)
		r = luks2_compare_copies(h->copies, h->copies + size, size, why);
	if (r < 0)
		return r;
	if (!field_uuid(h->copies + L2_UUID, h->uuid)) {
		set_why(why, "the LUKS2 header has no valid UUID");
		return -EBADMSG;
	}
	return luks2_parse_area(h, why);
}

/* ---- LUKS1 ------------------------------------------------------------------- */

static int luks1_read(int fd, const uint8_t *first, struct luks_header *h, char why[LUKS_WHY_MAX])
{
	struct luks1_fields *f = &h->luks1;
	int i;

	h->version = 1;
	h->luks1_raw = malloc(BIN_HDR_SIZE);
	if (h->luks1_raw == NULL)
		return -ENOMEM;
	memcpy(h->luks1_raw, first, BIN_HDR_SIZE);
	if (!field_text(first + L1_CIPHER, 32, f->cipher, sizeof(f->cipher)) ||
	    !field_text(first + L1_MODE, 32, f->mode, sizeof(f->mode)) ||
	    !field_text(first + L1_HASH, 32, f->hash, sizeof(f->hash))) {
		set_why(why, "the LUKS1 header's cipher, mode or hash is not terminated");
		return -EBADMSG;
	}
	if (!field_uuid(first + L1_UUID, h->uuid)) {
		set_why(why, "the LUKS1 header has no valid UUID");
		return -EBADMSG;
	}
	f->payload_sector = be32(first + L1_PAYLOAD);
	f->key_bytes = be32(first + L1_KEY_BYTES);
	f->digest_iterations = be32(first + L1_DIGEST_ITER);
	for (i = 0; i < LUKS1_KEYSLOTS; i++) {
		const uint8_t *k = first + L1_KEYSLOTS + i * L1_KEYSLOT_SIZE;
		uint32_t state = be32(k);

		if (state != LUKS1_KEYSLOT_ENABLED && state != LUKS1_KEYSLOT_DISABLED) {
			set_why(why, "LUKS1 keyslot %d has an unknown state", i);
			return -EBADMSG;
		}
		f->keyslots[i].active = state == LUKS1_KEYSLOT_ENABLED;
		f->keyslots[i].iterations = be32(k + 4);
		f->keyslots[i].material_sector = be32(k + 40);
		f->keyslots[i].stripes = be32(k + 44);
	}
	(void)fd;
	return 0;
}

/* ---- reading ------------------------------------------------------------------- */

int luks_header_read(const char *path, struct luks_header *h, char why[LUKS_WHY_MAX])
{
	uint8_t first[BIN_HDR_SIZE];
	int fd, r;

	memset(h, 0, sizeof(*h));
	h->snapshot_fd = -1;
	why[0] = '\0';
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		r = -errno;
		set_why(why, "cannot open it: %s", strerror(-r));
		return r;
	}
	r = read_at(fd, first, sizeof(first), 0);
	if (r == -EIO) {
		r = -ENODEV;
	} else if (r < 0) {
		set_why(why, "cannot read its header: %s", strerror(-r));
	} else if (memcmp(first, LUKS_MAGIC_1, LUKS_MAGIC_LEN) != 0) {
		r = -ENODEV;
	} else if (be16(first + L1_VERSION) == 1) {
		r = luks1_read(fd, first, h, why);
	} else if (be16(first + L2_VERSION) == 2) {
		r = luks2_read(fd, first, h, why);
	} else {
		set_why(why, "LUKS version %u is unknown", be16(first + L1_VERSION));
		r = -EBADMSG;
	}
	if (r == -ENODEV)
		set_why(why, "not a LUKS volume");
	close(fd);
	return r;
}

int luks_header_from_loaded(struct luks_header *h, const char *uuid, uint64_t hdr_size,
			    const char *json, char why[LUKS_WHY_MAX])
{
	struct guid g;

	memset(h, 0, sizeof(*h));
	h->snapshot_fd = -1;
	why[0] = '\0';
	if (uuid == NULL || !guid_parse(uuid, &g)) {
		set_why(why, "the loaded LUKS2 header has no valid UUID");
		return -EBADMSG;
	}
	if (!hdr_size_valid(hdr_size) || json == NULL) {
		set_why(why, "the loaded LUKS2 header has no metadata of a size cryptsetup writes");
		return -EBADMSG;
	}
	memcpy(h->uuid, g.str, LUKS_UUID_LEN + 1);
	h->version = 2;
	h->hdr_size = hdr_size;
	return luks2_parse_json(h, json, strlen(json), hdr_size - BIN_HDR_SIZE, why);
}

void luks_header_free(struct luks_header *h)
{
	if (h->json != NULL)
		json_object_put(h->json);
	free(h->copies);
	free(h->luks1_raw);
	if (h->snapshot_fd >= 0)
		close(h->snapshot_fd);
	memset(h, 0, sizeof(*h));
	h->snapshot_fd = -1;
}

int luks_header_keyslots(const struct luks_header *h, bool active[LUKS2_KEYSLOTS])
{
	int i, n = 0;

	memset(active, 0, LUKS2_KEYSLOTS * sizeof(active[0]));
	if (h->version == 1) {
		for (i = 0; i < LUKS1_KEYSLOTS; i++)
			if (h->luks1.keyslots[i].active)
				active[i] = true, n++;
		return n;
	}
	for (i = 0; i < LUKS2_KEYSLOTS; i++)
		if (luks2_numbered(h->json, "keyslots", i) != NULL)
			active[i] = true, n++;
	return n;
}

/* ---- the private copy ------------------------------------------------------------- */

bool luks_header_keyslot_area(const struct luks_header *h, int id, uint64_t *off, uint64_t *len)
{
	struct json_object *area;
	uint64_t ks_size;

	if (h->version == 1) {
		const struct luks1_keyslot *k = &h->luks1.keyslots[id];
		uint64_t bytes = (uint64_t)h->luks1.key_bytes * k->stripes;

		*off = (uint64_t)k->material_sector * SECTOR;
		*len = (bytes + SECTOR - 1) / SECTOR * SECTOR;
		return *off >= L1_HDR_SIZE && *off + *len <= LUKS1_MATERIAL_END_MAX;
	}
	area = luks2_object(luks2_numbered(h->json, "keyslots", id), "area");
	if (!luks2_u64(area, "offset", UINT64_MAX / 4, off) ||
	    !luks2_u64(area, "size", LUKS2_KEYSLOTS_SIZE_MAX, len) ||
	    !luks2_u64(luks2_object(h->json, "config"), "keyslots_size", LUKS2_KEYSLOTS_SIZE_MAX, &ks_size))
		return false;
	return *off >= 2 * h->hdr_size && *off + *len <= 2 * h->hdr_size + ks_size;
}

int luks_header_keyslot_priority(const struct luks_header *h, int id)
{
	uint64_t p;

	if (h->version == 1)
		return 1;
	if (!luks2_u64(luks2_numbered(h->json, "keyslots", id), "priority", 2, &p))
		return 1;
	return (int)p;
}

bool luks_header_data_offset(const struct luks_header *h, uint64_t *off)
{
	if (h->version == 1) {
		*off = (uint64_t)h->luks1.payload_sector * SECTOR;
		return true;
	}
	return luks2_u64(luks2_numbered(h->json, "segments", 0), "offset", UINT64_MAX / 4, off);
}

/*
 * How large the private copy is: the header and the keyslots area (for
 * LUKS1, up to the end of the last keyslot's material, enabled or not:
 * libcryptsetup wants room for all eight).
 */
static uint64_t snapshot_size(const struct luks_header *h)
{
	uint64_t ks_size = 0, end = BIN_HDR_SIZE, off, len;
	int i;

	if (h->version == 2) {
		luks2_u64(luks2_object(h->json, "config"), "keyslots_size", LUKS2_KEYSLOTS_SIZE_MAX, &ks_size);
		return 2 * h->hdr_size + ks_size;
	}
	for (i = 0; i < LUKS1_KEYSLOTS; i++)
		if (luks_header_keyslot_area(h, i, &off, &len) && off + len > end)
			end = off + len;
	return end;
}

static int write_at(int fd, const void *buf, size_t len, uint64_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pwrite(fd, (const uint8_t *)buf + done, len - done, (off_t)(off + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		done += (size_t)n;
	}
	return 0;
}

/* Copies one keyslot area from the device into the private copy. */
static int copy_area(int from, int to, uint64_t off, uint64_t len)
{
	uint8_t buf[64 * 1024];
	int r = 0;

	while (len > 0 && r == 0) {
		size_t n = len < sizeof(buf) ? (size_t)len : sizeof(buf);

		r = read_at(from, buf, n, off);
		if (r == 0)
			r = write_at(to, buf, n, off);
		off += n;
		len -= n;
	}
	return r;
}

int luks_header_snapshot(struct luks_header *h, const char *path,
			 const bool tried[LUKS2_KEYSLOTS], char why[LUKS_WHY_MAX])
{
	int max = h->version == 1 ? LUKS1_KEYSLOTS : LUKS2_KEYSLOTS;
	uint64_t off, len;
	int dev, i, r;

	h->snapshot_fd = memfd_create("coco-luks-header", MFD_CLOEXEC);
	if (h->snapshot_fd < 0) {
		r = -errno;
		set_why(why, "cannot make a private header copy: %s", strerror(-r));
		return r;
	}
	snprintf(h->snapshot_path, sizeof(h->snapshot_path), "/proc/self/fd/%d", h->snapshot_fd);
	if (ftruncate(h->snapshot_fd, (off_t)snapshot_size(h)) < 0) {
		r = -errno;
		set_why(why, "cannot size the private header copy: %s", strerror(-r));
		return r;
	}
	if (h->version == 2)
		r = write_at(h->snapshot_fd, h->copies, 2 * h->hdr_size, 0);
	else
		r = write_at(h->snapshot_fd, h->luks1_raw, BIN_HDR_SIZE, 0);
	if (r < 0) {
		set_why(why, "cannot write the private header copy: %s", strerror(-r));
		return r;
	}
	dev = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (dev < 0) {
		r = -errno;
		set_why(why, "cannot open it again: %s", strerror(-r));
		return r;
	}
	for (i = 0, r = 0; i < max && r == 0; i++) {
		if (!tried[i])
			continue;
		if (!luks_header_keyslot_area(h, i, &off, &len)) {
			set_why(why, "keyslot %d: its area is outside the keyslots area", i);
			r = -EBADMSG;
		} else if ((r = copy_area(dev, h->snapshot_fd, off, len)) < 0) {
			set_why(why, "keyslot %d: cannot read its area: %s", i, strerror(-r));
		}
	}
	close(dev);
	return r;
}
