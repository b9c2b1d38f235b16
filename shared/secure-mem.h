/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Memory for secret bytes, shared by coco-unlock and coco-secret: locked
 * so it never reaches swap, left out of core dumps, zeroed on release.
 * No logging here: callers say what failed in their own words.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct secret_buf {
	uint8_t *data;
	size_t len;
	size_t capacity;
	size_t mapped;
};

/* No core dumps and no ptrace by other users while secrets are in memory. */
void secure_process_setup(void);
/* 0, or -errno (mlock refused: RLIMIT_MEMLOCK). */
int secret_buf_alloc(struct secret_buf *buf, size_t capacity);
void secret_buf_clear(struct secret_buf *buf);
void secret_buf_free(struct secret_buf *buf);
