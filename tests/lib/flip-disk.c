// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * flip-disk.so: an LD_PRELOAD shim that plays a hostile disk. The host
 * controls every byte on the guest's disks and may answer two reads of
 * the same sector differently; this shim does it for one image file by
 * handing some opens of it a descriptor of another file. Every read
 * (read, pread, pread64, mmap, O_DIRECT or not) then goes to whichever
 * file that open got, so redirecting the open is enough.
 *
 *   COCO_FLIP_PATH      the image file played (matched by device and
 *                       inode, so any path to it counts: relative,
 *                       through symlinks, openat from a directory)
 *   COCO_FLIP_ALT       the file served instead ("B")
 *   COCO_FLIP_SCHEDULE  one letter per open of the image, in order:
 *                       A the image itself, B the alternate file; opens
 *                       past the end take the last letter ("BA": the
 *                       first open gets B, all later ones A). Default A.
 *   COCO_FLIP_DEBUG=1   one line on stderr per open of the image: its
 *                       number, the letter served and the open flags
 *                       (never the contents)
 *
 * Without COCO_FLIP_PATH the shim passes everything through. The count is
 * per process. Covered: open, open64, openat, openat64, their fortified
 * forms (__open_2 and friends, which libcryptsetup calls) and fopen,
 * fopen64 (glibc's fopen does not go through the interposable open).
 */
/* Fortified headers define open() inline; this file defines the real one. */
#undef _FORTIFY_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PUBLIC __attribute__((visibility("default")))

struct flip {
	bool active;
	dev_t dev;
	ino_t ino;
	const char *path, *alt, *schedule;
	bool debug;
};

static struct flip flip;
static pthread_once_t flip_once = PTHREAD_ONCE_INIT;
static unsigned int opens;

typedef int (*openat_fn)(int, const char *, int, ...);
typedef FILE *(*fopen_fn)(const char *, const char *);

/* The next definition of @name (libc's): never our own, or we recurse. */
static void *next(const char *name)
{
	void *f = dlsym(RTLD_NEXT, name);

	if (f == NULL) {
		fprintf(stderr, "flip-disk: no %s after this shim\n", name);
		abort();
	}
	return f;
}

/*
 * Read once: the image is known by device and inode, taken before any
 * open, so that a path spelled differently (the agent's devices
 * directory, /proc/self/fd) still counts as the image.
 */
static void flip_init(void)
{
	struct stat st;

	flip.path = getenv("COCO_FLIP_PATH");
	flip.alt = getenv("COCO_FLIP_ALT");
	flip.schedule = getenv("COCO_FLIP_SCHEDULE");
	flip.debug = getenv("COCO_FLIP_DEBUG") != NULL && strcmp(getenv("COCO_FLIP_DEBUG"), "1") == 0;
	if (flip.schedule == NULL || flip.schedule[0] == '\0')
		flip.schedule = "A";
	if (flip.path == NULL || flip.path[0] == '\0')
		return;
	if (flip.alt == NULL || stat(flip.path, &st) < 0 || !S_ISREG(st.st_mode)) {
		/* A test that asked for a flip must not run without one. */
		fprintf(stderr, "flip-disk: COCO_FLIP_PATH %s is not a regular file, or no "
			"COCO_FLIP_ALT: refusing to run unflipped\n", flip.path);
		abort();
	}
	flip.dev = st.st_dev;
	flip.ino = st.st_ino;
	flip.active = true;
}

static bool is_image(int dirfd, const char *path)
{
	struct stat st;

	pthread_once(&flip_once, flip_init);
	if (!flip.active || path == NULL)
		return false;
	if (fstatat(dirfd, path, &st, 0) < 0)
		return false;
	return S_ISREG(st.st_mode) && st.st_dev == flip.dev && st.st_ino == flip.ino;
}

/* The file the next open of the image gets, counted and said. */
static const char *choose(int flags)
{
	unsigned int k = __atomic_add_fetch(&opens, 1, __ATOMIC_SEQ_CST);
	size_t n = strlen(flip.schedule);
	char letter = flip.schedule[k - 1 < n ? k - 1 : n - 1];

	if (flip.debug)
		fprintf(stderr, "flip-disk[%d]: open #%u of %s: %c (flags 0x%x)\n", (int)getpid(), k,
			flip.path, letter, (unsigned int)flags);
	return letter == 'B' ? flip.alt : flip.path;
}

/* Only O_CREAT and O_TMPFILE carry a mode; reading it otherwise is undefined. */
static bool has_mode(int flags)
{
	return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE;
}

static int do_openat(int dirfd, const char *path, int flags, mode_t mode)
{
	static openat_fn real;

	if (real == NULL)
		real = (openat_fn)next("openat");
	if (is_image(dirfd, path)) {
		path = choose(flags);
		dirfd = AT_FDCWD;
	}
	return real(dirfd, path, flags, mode);
}

#define MODE_ARG(flags, mode)						\
	do {								\
		va_list ap;						\
		if (has_mode(flags)) {					\
			va_start(ap, flags);				\
			mode = (mode_t)va_arg(ap, int);			\
			va_end(ap);					\
		}							\
	} while (0)

PUBLIC int open(const char *path, int flags, ...)
{
	mode_t mode = 0;

	MODE_ARG(flags, mode);
	return do_openat(AT_FDCWD, path, flags, mode);
}

PUBLIC int open64(const char *path, int flags, ...)
{
	mode_t mode = 0;

	MODE_ARG(flags, mode);
	return do_openat(AT_FDCWD, path, flags, mode);
}

PUBLIC int openat(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = 0;

	MODE_ARG(flags, mode);
	return do_openat(dirfd, path, flags, mode);
}

PUBLIC int openat64(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = 0;

	MODE_ARG(flags, mode);
	return do_openat(dirfd, path, flags, mode);
}

/* The fortified forms: called when the flags are not known at compile time; never with a mode. */
PUBLIC int __open_2(const char *path, int flags);
PUBLIC int __open64_2(const char *path, int flags);
PUBLIC int __openat_2(int dirfd, const char *path, int flags);
PUBLIC int __openat64_2(int dirfd, const char *path, int flags);

PUBLIC int __open_2(const char *path, int flags)
{
	return do_openat(AT_FDCWD, path, flags, 0);
}

PUBLIC int __open64_2(const char *path, int flags)
{
	return do_openat(AT_FDCWD, path, flags, 0);
}

PUBLIC int __openat_2(int dirfd, const char *path, int flags)
{
	return do_openat(dirfd, path, flags, 0);
}

PUBLIC int __openat64_2(int dirfd, const char *path, int flags)
{
	return do_openat(dirfd, path, flags, 0);
}

static FILE *do_fopen(const char *name, const char *path, const char *mode)
{
	fopen_fn real = (fopen_fn)next(name);

	if (is_image(AT_FDCWD, path))
		path = choose(strchr(mode, 'w') || strchr(mode, '+') ? O_RDWR : O_RDONLY);
	return real(path, mode);
}

PUBLIC FILE *fopen(const char *path, const char *mode)
{
	return do_fopen("fopen", path, mode);
}

PUBLIC FILE *fopen64(const char *path, const char *mode)
{
	return do_fopen("fopen64", path, mode);
}
