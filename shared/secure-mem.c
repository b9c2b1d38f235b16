// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Memory for secret bytes: locked so it never reaches swap, left out of
 * core dumps, and zeroed with explicit_bzero() as soon as it is done with.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "missing.h"
#include "secure-mem.h"

void secure_process_setup(void)
{
	struct rlimit no_core = { 0, 0 };

	/* Best effort: both only fail on kernels without them. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	setrlimit(RLIMIT_CORE, &no_core);
}

int secret_buf_alloc(struct secret_buf *buf, size_t capacity)
{
	long page = sysconf(_SC_PAGESIZE);
	size_t mapped;
	void *p;

	if (page <= 0)
		page = 4096;
	mapped = (capacity + (size_t)page - 1) / (size_t)page * (size_t)page;
	p = mmap(NULL, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	if (mlock(p, mapped) < 0) {
		int r = -errno;

		munmap(p, mapped);
		return r;
	}
	/* Core dumps are off already; this also covers a later setrlimit. */
	madvise(p, mapped, MADV_DONTDUMP);

	buf->data = p;
	buf->len = 0;
	buf->capacity = capacity;
	buf->mapped = mapped;
	return 0;
}

void secret_buf_clear(struct secret_buf *buf)
{
	if (buf->data != NULL)
		explicit_bzero(buf->data, buf->mapped);
	buf->len = 0;
}

void secret_buf_free(struct secret_buf *buf)
{
	if (buf->data == NULL)
		return;
	secret_buf_clear(buf);
	munlock(buf->data, buf->mapped);
	munmap(buf->data, buf->mapped);
	buf->data = NULL;
	buf->capacity = 0;
	buf->mapped = 0;
}
