/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * coco-secret: build and inspect EFI secret tables, and enroll LUKS2
 * volumes for a secret. Declarations shared by its source files.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "guid.h"
#include "secure-mem.h"
#include "token.h"

/* Exit statuses, as the man page documents them. */
#define EXIT_OK 0
#define EXIT_FAIL 1		/* the operation failed or the table is invalid */
#define EXIT_USAGE 2		/* bad command line */

/* OVMF's secret area since 2021 (0xC00 bytes). */
#define DEFAULT_AREA_SIZE 3072
/* efi_secret creates at most this many files. */
#define MAX_TABLE_ENTRIES 64
/* What coco-unlock reads of one secret; also our cap for secret files. */
#define MAX_SECRET_SIZE 4096
/* Bytes in a secret made with --generate. */
#define GENERATED_SECRET_SIZE 32
/*
 * Below this many bytes a secret could be guessed offline by the host,
 * who holds the header: refused unless --weak-secret, which then
 * stretches it with argon2id.
 */
#define MIN_STRONG_SECRET_SIZE 32
/* An existing passphrase or key file used to authorise enrollment. */
#define MAX_PASSPHRASE_SIZE 8192
/* Both the header and each entry start with a GUID and a u32 length. */
#define TABLE_HEADER_SIZE 20
#define TABLE_ENTRY_HEADER_SIZE 20
/* sevctl pads tables to this; SEV's LAUNCH_SECRET wants 16-byte multiples. */
#define TABLE_ALIGN 16


#define _printf_(a, b) __attribute__((format(printf, a, b)))

/* log.c */
extern bool verbose;
void err(const char *fmt, ...) _printf_(1, 2);
void info(const char *fmt, ...) _printf_(1, 2);

/* secret-file.c: secret bytes live only in struct secret_buf (agent/secure-mem.h). */
int secret_alloc(struct secret_buf *s, size_t capacity);
int secret_read_file(const char *path, size_t max, struct secret_buf *s);
int secret_generate(struct secret_buf *s, size_t len);
int secret_write_new_file(const char *path, const struct secret_buf *s);
int secret_prompt(const char *prompt, struct secret_buf *s);

/* table.c */
struct table_input {
	struct guid guid;
	const char *path;
};

int table_build(const char *out, const struct table_input *in, size_t n,
		size_t area_size, bool pad);
int table_show(const char *path, size_t area_size, bool reveal);
int table_check(const char *path, size_t area_size);
int table_assemble(const struct table_input *in, size_t n, size_t area_size, bool pad,
		   struct secret_buf *table);
/* A table file that passes check, into locked memory; -1 after saying why. */
int table_load_valid(const char *path, size_t area_size, struct secret_buf *table);

/* output-file.c */
int write_file_replace(const char *path, const uint8_t *p, size_t len);

/* luks.c: what enroll, list and remove share. */
struct crypt_device;

/* The keyslot a token names (the first), or -1 when it names none. */
static inline int token_keyslot(const struct coco_token *t)
{
	return t->n_keyslots > 0 ? t->keyslots[0] : -1;
}

#define MAX_COCO_TOKENS 32

int luks_open(const char *device, struct crypt_device **cd);
bool luks_is_luks2(struct crypt_device *cd);
int luks_active_keyslots(struct crypt_device *cd);

/* enroll.c */
struct enroll_options {
	const char *device;
	struct guid guid;
	const char *secret_file;
	const char *generate_file;
	const char *unlock_key_file;
	const char *name;		/* mapping name for the printed pin */
	bool no_token;
	bool weak_secret;
};

int enroll(const struct enroll_options *o);

/* seal.c */
struct pin_options {
	const char *device;
	const char *key_file;		/* a secret or passphrase that opens it */
	const char *name;		/* mapping name, default luks-UUID */
	struct guid guid;		/* seal: the token's GUID */
};

int token_json_sealed(const char *device, int keyslot, const struct guid *guid,
		      const struct secret_buf *s, char *json, size_t size);
int print_pin(struct crypt_device *cd, const char *device, const char *name,
	      const struct secret_buf *secret);
int pin(const struct pin_options *o);
int seal(const struct pin_options *o);

/* list-remove.c */
int list_device(const char *device);
int remove_guid(const char *device, const struct guid *guid);
