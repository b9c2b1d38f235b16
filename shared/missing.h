/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Definitions some C libraries or kernel headers lack. The static build
 * uses musl, whose headers are leaner than glibc's.
 */
#pragma once

#include <sys/mman.h>

#ifndef SECURITYFS_MAGIC
#define SECURITYFS_MAGIC 0x73636673
#endif

#ifndef MADV_DONTDUMP
#define MADV_DONTDUMP 16
#endif

/* LUKS2 keyslots are numbered 0..31 (LUKS1: 0..7). */
#ifndef LUKS_MAX_KEYSLOTS
#define LUKS_MAX_KEYSLOTS 32
#endif
