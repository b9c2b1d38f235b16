/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Text the host controls (a cipher name from a LUKS header, a label, a
 * libcryptsetup message quoting one) must not reach a log line as it is:
 * control bytes would forge lines, bytes above 0x7e terminal sequences.
 */
#pragma once

#include <stddef.h>

/*
 * Copies @in to @out with every byte that is not printable ASCII, and the
 * backslash, written as \xNN, so the result is unambiguous. Stops at a NUL
 * of @in or when @out (@out_size bytes, always NUL-terminated) is full;
 * never splits an escape.
 */
void escape_untrusted(const char *in, char *out, size_t out_size);

/*
 * The same but leaves the backslash alone: for a whole log line, whose
 * host strings were escaped already (their backslashes stay readable).
 */
void escape_nonprintable(const char *in, char *out, size_t out_size);
