// SPDX-License-Identifier: LGPL-2.1-or-later
/* Reading a secret from efi_secret's directory: see secret-read.h. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "missing.h"
#include "secret-read.h"

int securityfs_present(void)
{
	struct statfs sf;

	if (statfs(SECURITYFS_DIR, &sf) < 0)
		return -errno;
	return (unsigned long)sf.f_type == (unsigned long)SECURITYFS_MAGIC;
}

int securityfs_mount(void)
{
	if (mount("securityfs", SECURITYFS_DIR, "securityfs",
		  MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return -errno;
	return 0;
}

int secrets_dir_open(const char *dir, bool need_securityfs)
{
	struct statfs sf;
	int fd, r;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	if (need_securityfs) {
		r = fstatfs(fd, &sf) < 0 ? -errno : 0;
		if (r == 0 && (unsigned long)sf.f_type != (unsigned long)SECURITYFS_MAGIC)
			r = -EMEDIUMTYPE;
		if (r < 0) {
			close(fd);
			return r;
		}
	}
	return fd;
}

/* Reads to EOF into @dst (at most @room bytes); -EFBIG past SECRET_MAX_SIZE. */
static int read_to_eof(int fd, uint8_t *dst, size_t room, size_t *len)
{
	*len = 0;
	for (;;) {
		ssize_t n = read(fd, dst + *len, room - *len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return 0;
		*len += (size_t)n;
		if (*len > SECRET_MAX_SIZE || *len == room)
			return -EFBIG;
	}
}

int secret_read_at(int dirfd, const char *name, uint8_t *dst, size_t room, size_t *len)
{
	struct stat st;
	int fd, r;

	*len = 0;
	/* O_NONBLOCK: a FIFO put there must not hold us before fstat says what it is. */
	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		r = -errno;
	else if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		r = -EINVAL;
	else
		r = read_to_eof(fd, dst, room, len);
	if (fd >= 0)
		close(fd);
	if (r < 0) {
		explicit_bzero(dst, room);
		*len = 0;
	}
	return r;
}

bool secret_has_terminator(const uint8_t *data, size_t len)
{
	if (len < 2)
		return false;
	return data[len - 1] == '\0' || data[len - 1] == '\n';
}
