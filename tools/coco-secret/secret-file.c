// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Secret bytes: read from files, generated, asked for on the terminal and
 * written to new files. They only ever live in locked, undumpable pages
 * that are zeroed before they are given back.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "coco-secret.h"

/* Locked memory, with the error said in coco-secret's words. */
int secret_alloc(struct secret_buf *s, size_t capacity)
{
	int r = secret_buf_alloc(s, capacity);

	if (r < 0)
		err("cannot lock memory for secrets (ulimit -l?): %s", strerror(-r));
	return r;
}

/*
 * Read a whole file, which must hold at most @max bytes. The buffer has
 * room for one byte more, so that a larger file is seen, not cut short.
 */
int secret_read_file(const char *path, size_t max, struct secret_buf *s)
{
	int fd, r;

	r = secret_alloc(s, max + 1);
	if (r < 0)
		return r;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		r = -errno;
		err("cannot open %s: %s", path, strerror(-r));
		goto fail;
	}
	while (s->len <= max) {
		ssize_t n = read(fd, s->data + s->len, max + 1 - s->len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			err("cannot read %s: %s", path, strerror(-r));
			close(fd);
			goto fail;
		}
		if (n == 0)
			break;
		s->len += (size_t)n;
	}
	close(fd);
	if (s->len > max) {
		err("%s is larger than %zu bytes", path, max);
		r = -EFBIG;
		goto fail;
	}
	return 0;
fail:
	secret_buf_free(s);
	return r;
}

int secret_generate(struct secret_buf *s, size_t len)
{
	size_t done = 0;
	int r;

	r = secret_alloc(s, len);
	if (r < 0)
		return r;
	while (done < len) {
		ssize_t n = getrandom(s->data + done, len - done, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			err("cannot get random bytes: %s", strerror(-r));
			secret_buf_free(s);
			return r;
		}
		done += (size_t)n;
	}
	s->len = len;
	return 0;
}

static int write_all(int fd, const uint8_t *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * A new file, mode 0600, never an existing one and never through a
 * symbolic link: losing a secret someone already relies on, or writing
 * it where a link points, would be worse than failing. Synced, because
 * the keyslot it opens is written right after.
 */
int secret_write_new_file(const char *path, const struct secret_buf *s)
{
	int fd, r;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		r = -errno;
		if (r == -EEXIST)
			err("%s already exists; not overwriting a secret", path);
		else
			err("cannot create %s: %s", path, strerror(-r));
		return r;
	}
	/* The umask may have taken bits away, never added: still, be exact. */
	r = fchmod(fd, 0600) < 0 ? -errno : 0;
	if (r == 0)
		r = write_all(fd, s->data, s->len);
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r < 0) {
		err("cannot write %s: %s", path, strerror(-r));
		unlink(path);
	}
	return r;
}

static int read_line_noecho(int fd, struct secret_buf *s)
{
	for (;;) {
		char c;
		ssize_t n = read(fd, &c, 1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0 || c == '\n' || c == '\r')
			return 0;
		if (s->len >= MAX_PASSPHRASE_SIZE)
			return -E2BIG;
		s->data[s->len++] = (uint8_t)c;
	}
}

/* Ask on the controlling terminal, with echo off, as cryptsetup does. */
int secret_prompt(const char *prompt, struct secret_buf *s)
{
	struct termios old, quiet;
	int fd, r;

	fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		err("no terminal to ask for a passphrase on; use --unlock-key-file");
		return -ENOTTY;
	}
	r = secret_alloc(s, MAX_PASSPHRASE_SIZE);
	if (r < 0)
		goto out;
	if (tcgetattr(fd, &old) < 0) {
		r = -errno;
		err("cannot set up the terminal: %s", strerror(-r));
		goto out;
	}
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	quiet.c_lflag |= ICANON;
	if (write(fd, prompt, strlen(prompt)) < 0 ||
	    tcsetattr(fd, TCSAFLUSH, &quiet) < 0) {
		r = -errno;
		err("cannot set up the terminal: %s", strerror(-r));
		goto out;
	}
	r = read_line_noecho(fd, s);
	tcsetattr(fd, TCSAFLUSH, &old);
	/* The newline the user typed was not echoed; the result is cosmetic. */
	if (write(fd, "\n", 1) < 0) {
	}
	if (r < 0)
		err("cannot read the passphrase: %s", strerror(-r));
	else if (s->len == 0) {
		err("empty passphrase");
		r = -EINVAL;
	}
out:
	close(fd);
	if (r < 0)
		secret_buf_free(s);
	return r;
}
