/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The pin of a volume key, in the form systemd's crypttab option
 * fixate-volume-key= takes (systemd's cryptsetup_get_volume_key_id()):
 *
 *   hex(HMAC-SHA256(key = volume key,
 *                   "cryptsetup:" + NAME with ':', '\' and non-printable
 *                   bytes as \xNN + ":" + the LUKS UUID as the header has it))
 *
 * NAME is the mapping name (crypttab's first field; luks-UUID by
 * default). One crypttab line with fixate-volume-key= serves both
 * systemd-cryptsetup and coco-unlock.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VOLUME_KEY_ID_LEN 64

void volume_key_id(const char *name, const char *uuid, const uint8_t *volume_key, size_t len,
		   char out[VOLUME_KEY_ID_LEN + 1]);

/* A pin as crypttab or the command line give it: 64 hex digits, either case. */
bool volume_key_id_valid(const char *text);
