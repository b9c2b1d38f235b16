// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * One line per event, to the kernel log in the initramfs (so it lands in
 * the journal and on the console with the rest of the boot) or to stderr.
 * Callers pass GUIDs, devices, sizes and reasons; never secret bytes.
 * Each line is formatted whole and written with one write(), under
 * PIPE_BUF and one /dev/kmsg record: the lines of worker processes that
 * unlock volumes at once (workers.c) interleave but never mix.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "coco-unlock.h"
#include "escape.h"

#define LOG_LINE_MAX 512

static int kmsg_fd = -1;
static bool debug_enabled;

void log_setup(bool to_kmsg, bool debug)
{
	debug_enabled = debug;
	if (kmsg_fd >= 0) {
		close(kmsg_fd);
		kmsg_fd = -1;
	}
	if (to_kmsg)
		kmsg_fd = open("/dev/kmsg", O_WRONLY | O_NOCTTY | O_CLOEXEC);
}

void log_set_debug(bool debug)
{
	debug_enabled = debug;
}

bool log_debug_enabled(void)
{
	return debug_enabled;
}

static void write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		buf += n;
		len -= (size_t)n;
	}
}


void log_message(enum log_level level, const char *fmt, ...)
{
	char raw[LOG_LINE_MAX], msg[LOG_LINE_MAX], line[LOG_LINE_MAX + 32];
	int saved_errno = errno;
	va_list ap;
	int n;

	if (level == LOG_LEVEL_DEBUG && !debug_enabled)
		return;

	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	/* Host strings (labels, header fields, libcryptsetup quoting them) must
	 * not forge lines or send terminal sequences: all but printable ASCII
	 * is written as \xNN. */
	escape_nonprintable(raw, msg, sizeof(msg));

	if (kmsg_fd >= 0) {
		/* Facility 0 in the prefix makes the kernel file it as LOG_USER. */
		n = snprintf(line, sizeof(line), "<%d>coco-unlock: %s\n", (int)level, msg);
		write_all(kmsg_fd, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
	} else {
		n = snprintf(line, sizeof(line), "coco-unlock: %s\n", msg);
		write_all(STDERR_FILENO, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
	}
	errno = saved_errno;
}
