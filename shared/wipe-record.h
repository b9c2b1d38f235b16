/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The record of secrets handed out, for the late `coco-unlock --wipe-only`
 * before switch_root: one GUID a line in WIPE_RECORD_DIR/wipe (directory
 * 0700, file 0600, appended, never a secret byte). coco-unlock writes it
 * for every secret a plan names, the token plugin for every secret it
 * hands to libcryptsetup, both before the secret is read; --wipe-only
 * reads and removes it. It lives in /run, which the host cannot touch, so
 * a token the host strips from a disk after activation no longer decides
 * what is wiped.
 */
#pragma once

#define WIPE_RECORD_DIR "/run/coco-unlock"
#define WIPE_RECORD_FILE "wipe"

/* The record in @dir (made 0700 if missing), open for appending: fd or -errno. */
int wipe_record_open_in(const char *dir);

/* One line "GUID\n" on @fd: 0 or -errno. */
int wipe_record_append(int fd, const char *guid);
