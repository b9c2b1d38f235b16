/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A LUKS header read once, checked, and handed to libcryptsetup as a
 * private copy. The host writes every byte of the disk, so the header is
 * hostile input: it is read here into memory (both LUKS2 copies, which
 * must be valid and the same), parsed by us, judged by the header policy
 * (header-policy.h) and only then copied, with the areas of the keyslots
 * to be tried, into a memory file that libcryptsetup loads as a detached
 * header (crypt_init_data_device). libcryptsetup never reads the header
 * from the disk itself, so it cannot repair a copy on it, take a lock
 * there, or see bytes other than the ones we judged.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LUKS_UUID_LEN 36
#define LUKS1_KEYSLOTS 8
#define LUKS2_KEYSLOTS 32
/* Room for one reason, host strings escaped. */
#define LUKS_WHY_MAX 256

struct json_object;

struct luks1_keyslot {
	bool active;
	uint32_t iterations;
	uint32_t material_sector;	/* where its key material starts */
	uint32_t stripes;
};

struct luks1_fields {
	char cipher[32];
	char mode[32];
	char hash[32];
	uint32_t payload_sector;
	uint32_t key_bytes;
	uint32_t digest_iterations;
	struct luks1_keyslot keyslots[LUKS1_KEYSLOTS];
};

struct luks_header {
	int version;			/* 1 or 2 */
	char uuid[LUKS_UUID_LEN + 1];	/* lowercase */
	/* LUKS2 */
	uint64_t hdr_size;		/* one copy: binary header + JSON area */
	uint8_t *copies;		/* both copies as read, 2 * hdr_size bytes */
	struct json_object *json;	/* the metadata both copies carry */
	/* LUKS1 */
	uint8_t *luks1_raw;		/* the first 4 KiB as read */
	struct luks1_fields luks1;
	/* The private copy for libcryptsetup (luks_header_snapshot). */
	int snapshot_fd;
	char snapshot_path[32];
};

/*
 * Reads and checks the header of @path (a device, or a detached header
 * file) without writing anything: -ENODEV when it is not LUKS, -EBADMSG
 * with a reason in @why when it is malformed or its copies disagree,
 * -errno on I/O errors. luks_header_free() in every case.
 */
int luks_header_read(const char *path, struct luks_header *h, char why[LUKS_WHY_MAX]);
void luks_header_free(struct luks_header *h);

/*
 * The header as libcryptsetup holds it in memory (the token plugin, which
 * runs after libcryptsetup loaded the disk: crypt_get_uuid(),
 * crypt_get_metadata_size() and crypt_dump_json()), so that what is judged
 * is exactly what libcryptsetup will use; no copies, no snapshot.
 * -EBADMSG with a reason in @why; luks_header_free() in every case.
 */
int luks_header_from_loaded(struct luks_header *h, const char *uuid, uint64_t hdr_size,
			    const char *json, char why[LUKS_WHY_MAX]);

/* Each active keyslot of the header, for an ANY_KEYSLOT try. */
int luks_header_keyslots(const struct luks_header *h, bool active[LUKS2_KEYSLOTS]);

/* Where keyslot @id's area lies, in bytes; false when the header says nonsense. */
bool luks_header_keyslot_area(const struct luks_header *h, int id, uint64_t *off, uint64_t *len);

/* A keyslot's priority: 0 ignore, 1 normal (LUKS1, or none given), 2 high. */
int luks_header_keyslot_priority(const struct luks_header *h, int id);

/* Where the data starts, in bytes (LUKS2: segment 0; LUKS1: the payload). */
bool luks_header_data_offset(const struct luks_header *h, uint64_t *off);

/*
 * The private copy libcryptsetup reads (h->snapshot_path): the header as
 * read, plus the areas of the keyslots in @tried, read from @path now;
 * the other keyslots' areas stay zero.
 */
int luks_header_snapshot(struct luks_header *h, const char *path,
			 const bool tried[LUKS2_KEYSLOTS], char why[LUKS_WHY_MAX]);
