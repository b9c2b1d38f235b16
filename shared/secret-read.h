/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Reading a secret the firmware injected, as the kernel shows it: one
 * file per secret, named by its GUID, in efi_secret's directory on
 * securityfs. The one set of rules coco-unlock and the token plugin
 * both follow:
 *   - efi_secret is loaded first (module-load.h), securityfs mounted on
 *     /sys/kernel/security if it is not;
 *   - the directory must be on securityfs (a tmpfs put there is refused);
 *   - a secret must be a regular file (opened without following links,
 *     and without blocking, so a FIFO cannot hold the boot); its size is
 *     not known in advance (the files say 0), so it is read to EOF, and
 *     one over SECRET_MAX_SIZE bytes is refused;
 *   - its bytes are the passphrase as they are; when that fails and the
 *     last byte is '\0' (GRUB's convention) or '\n' (a file made with
 *     echo), it is tried once more without it (secret_has_terminator).
 * Nothing here logs or unlinks: the wipe is the agent's (and the late
 * hooks'), and each program says in its own words what went wrong.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SECURITYFS_DIR "/sys/kernel/security"
#define SECRETS_DIR SECURITYFS_DIR "/secrets/coco"
#define SECRET_MAX_SIZE 4096	/* larger secrets are refused */

/* 1 when securityfs is mounted on SECURITYFS_DIR, 0 when not, -errno. */
int securityfs_present(void);
/* Mounts it there (nosuid, nodev, noexec): 0 or -errno. */
int securityfs_mount(void);

/*
 * The secrets directory @dir, opened (O_DIRECTORY, no symlink): a file
 * descriptor, or -ENOENT (no directory: no secret area, or efi_secret
 * found it unpopulated or corrupted), -EMEDIUMTYPE (@need_securityfs and
 * it is not on securityfs), -errno.
 */
int secrets_dir_open(const char *dir, bool need_securityfs);

/*
 * The secret @name of directory @dirfd, to EOF, into @dst (@room bytes,
 * at least SECRET_MAX_SIZE + 1): 0 and *@len, or -ENOENT (not there),
 * -EINVAL (not a regular file), -EFBIG (over SECRET_MAX_SIZE), -errno.
 * On error @dst is zeroed.
 */
int secret_read_at(int dirfd, const char *name, uint8_t *dst, size_t room, size_t *len);

/* The last byte of a secret of @len bytes (>= 2) is '\0' or '\n'. */
bool secret_has_terminator(const uint8_t *data, size_t len);
