/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * coco-secret convert: a stock cloud image in, a confidential one out.
 * convert.c parses and runs the steps; convert-run.c runs the external
 * tools (fork/exec, argv arrays, interruptible); convert-image.c reads the
 * partition table and copies partitions; convert-luks.c encrypts the root
 * and enrolls the secret; convert-export.c writes what the owner launches
 * with.
 */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "guid.h"

#define CONVERT_MAPPING "root"
#define CONVERT_DEFAULT_GUID "736869e5-84f0-4973-92ec-06879ce3da0b"
#ifndef CONVERT_HELPER_PATH
#define CONVERT_HELPER_PATH "/usr/libexec/coco-secret/convert-root"
#endif
#define CONVERT_HEADER_BYTES (16ULL * 1024 * 1024)
#define CONVERT_VOLUME_KEY_BYTES 64
/* What convert puts into the root, at most (Ubuntu: linux-modules-extra). */
#define CONVERT_MIN_FREE (384ULL * 1024 * 1024)
/* convert-root.sh's status for an image it refuses (it says why). */
#define CONVERT_REFUSED 3

struct convert_options {
	const char *in, *out, *secret_out;
	const char *deb, *kernel_deb, *recovery_key_file;
	const char *export_dir, *append, *helper;
	const char *ovmf, *measure_modes, *vcpus, *vcpu_type;
	struct guid guid;
	bool force, no_poweroff;
};

struct convert_part {
	int number;
	uint64_t offset, size; /* bytes */
	char type[40];
};

struct convert_layout {
	struct convert_part esp, root, boot;
	bool has_boot;
};

/* The private work directory, next to --out, and the files in it. */
struct convert_work {
	char dir[PATH_MAX - 64];
	char raw[PATH_MAX]; /* the whole image, raw */
	char root[PATH_MAX]; /* the root partition, then its LUKS2 volume */
	char boot[PATH_MAX]; /* a separate /boot partition */
	char keys[PATH_MAX - 32]; /* 0700, the key files */
	char secret[PATH_MAX]; /* the secret, for cryptsetup's --key-file */
	char vkey[PATH_MAX]; /* the volume key, for --volume-key-file */
	char format[16]; /* the input's format: raw or qcow2 */
	char uuid[37]; /* the LUKS2 UUID, chosen before the edits */
	char pin[65]; /* the volume key's pin for mapping "root" */
};

/* convert-run.c */
extern volatile int convert_interrupted;
void convert_signals(void);
int run_argv(const char *const argv[]);
int run_capture(const char *const argv[], char **out);
void progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* convert-image.c */
int image_format(const char *path, char *format, size_t size);
int image_layout(const char *raw, const char *in, struct convert_layout *l);
int copy_range(const char *src, uint64_t src_off, const char *dst, uint64_t dst_off, uint64_t len,
	       bool new_file, const char *what);

/* convert-luks.c */
int luks_prepare_keys(struct convert_work *w);
int luks_check_space(const char *in, const char *root);
int luks_shrink_fs(const char *root, uint64_t part_size);
int luks_encrypt_root(const struct convert_work *w, const struct convert_options *o);
void wipe_file(const char *path);

/* convert-export.c */
int export_boot_files(const struct convert_work *w, const struct convert_options *o);

int convert(const struct convert_options *o);
int cmd_convert(int argc, char **argv);
