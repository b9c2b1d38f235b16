// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * coco-secret convert --in IMAGE --out IMAGE --secret-out FILE: a Debian
 * 12/13 or Ubuntu 24.04 cloud-style image (GPT, ESP, ext4 root, maybe a
 * separate /boot) made confidential. The steps, in order:
 *   1. refusals that need no work (--out, --secret-out, the export
 *      directory exist; the input's format);
 *   2. the input copied to a raw work image next to --out (qemu-img), its
 *      partitions read; the input is only ever read;
 *   3. the keys: secret, volume key, LUKS UUID, the pin;
 *   4. the root (and /boot) copied out; inside them convert-root.sh
 *      installs the package, crypttab, fstab, the initramfs, and exports
 *      the kernel and initramfs;
 *   5. the root shrunk, encrypted, the token sealed, written back;
 *   6. cmdline, secret table, digests; --secret-out; the image renamed
 *      (or qemu-img'd) to --out last, so that an interrupt leaves none.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "coco-secret.h"
#include "convert.h"

static int step_copy_in(struct convert_work *w, const struct convert_options *o)
{
	const char *argv[] = { "qemu-img", "convert", "-f",   w->format, "-O",
			       "raw",	   o->in,     w->raw, NULL };

	progress("[1/6] reading %s (%s) into a raw work image", o->in, w->format);
	if (run_argv(argv) != 0) {
		if (!convert_interrupted)
			err("qemu-img convert could not read %s", o->in);
		return -EIO;
	}
	return 0;
}

static int run_helper(const struct convert_work *w, const struct convert_options *o)
{
	const char *argv[] = { o->helper,     w->root,	       w->boot[0] ? w->boot : "-",
			       o->export_dir, CONVERT_MAPPING, w->uuid,
			       w->pin,	      o->deb,	       o->kernel_deb,
			       NULL };
	int r;

	progress("[3/6] inside the image: package, crypttab, fstab, initramfs (convert-root)");
	r = run_argv(argv);
	if (r == CONVERT_REFUSED)
		return -EINVAL;
	if (r != 0 && !convert_interrupted)
		err("the edits inside the image failed (convert-root status %d)", r);
	return r == 0 ? 0 : -EIO;
}

static int step_edit(struct convert_work *w, const struct convert_options *o,
		     const struct convert_layout *l)
{
	int r;

	progress("[2/6] copying the root partition (%d) out", l->root.number);
	r = copy_range(w->raw, l->root.offset, w->root, 0, l->root.size, true, "root partition");
	if (r == 0)
		r = luks_check_space(o->in, w->root);
	if (r == 0 && l->has_boot) {
		progress("copying the /boot partition (%d) out", l->boot.number);
		r = copy_range(w->raw, l->boot.offset, w->boot, 0, l->boot.size, true,
			       "/boot partition");
	}
	return r == 0 ? run_helper(w, o) : r;
}

static int step_encrypt(struct convert_work *w, const struct convert_options *o,
			const struct convert_layout *l)
{
	int r;

	progress("[4/6] the root: shrink, encrypt, enroll");
	r = luks_shrink_fs(w->root, l->root.size);
	if (r == 0)
		r = luks_encrypt_root(w, o);
	if (r == 0)
		r = copy_range(w->root, 0, w->raw, l->root.offset, l->root.size, false,
			       "writing the encrypted root back");
	if (r == 0 && l->has_boot)
		r = copy_range(w->boot, 0, w->raw, l->boot.offset, l->boot.size, false,
			       "writing /boot back");
	return r;
}

/* The image to --out: a rename for raw, qemu-img for qcow2. */
static int step_output(struct convert_work *w, const struct convert_options *o)
{
	char tmp[PATH_MAX + 16];
	const char *argv[] = { "qemu-img", "convert", "-f",   "raw", "-O",
			       w->format,  "-c",      w->raw, tmp,   NULL };

	progress("[6/6] writing %s (%s)", o->out, w->format);
	if (strcmp(w->format, "raw") == 0)
		snprintf(tmp, sizeof(tmp), "%s", w->raw);
	else {
		snprintf(tmp, sizeof(tmp), "%s/out.qcow2", w->dir);
		if (run_argv(argv) != 0) {
			if (!convert_interrupted)
				err("qemu-img convert could not write the qcow2 image");
			return -EIO;
		}
	}
	if (convert_interrupted)
		return -EINTR;
	if (rename(tmp, o->out) < 0) {
		err("cannot rename the image to %s: %s", o->out, strerror(errno));
		return -errno;
	}
	return 0;
}

static int work_paths(struct convert_work *w, const char *out)
{
	char *copy = strdup(out), *abs;
	int r = 0;

	/* Absolute: the helper's mounts and chroot do not share our cwd. */
	abs = copy ? realpath(dirname(copy), NULL) : NULL;
	free(copy);
	if (abs == NULL) {
		err("cannot find the directory of %s: %s", out, strerror(errno));
		return -errno;
	}
	snprintf(w->dir, sizeof(w->dir), "%s/.coco-convert.XXXXXX", abs);
	free(abs);
	if (mkdtemp(w->dir) == NULL) {
		r = -errno;
		err("cannot make a work directory next to %s: %s", out, strerror(-r));
		return r;
	}
	snprintf(w->raw, sizeof(w->raw), "%s/image.raw", w->dir);
	snprintf(w->root, sizeof(w->root), "%s/root.part", w->dir);
	snprintf(w->keys, sizeof(w->keys), "%s/keys", w->dir);
	snprintf(w->secret, sizeof(w->secret), "%s/secret", w->keys);
	snprintf(w->vkey, sizeof(w->vkey), "%s/volume-key", w->keys);
	if (mkdir(w->keys, 0700) < 0)
		r = -errno;
	return r;
}

static void work_remove(struct convert_work *w)
{
	char p[PATH_MAX + 16];

	wipe_file(w->secret);
	wipe_file(w->vkey);
	rmdir(w->keys);
	unlink(w->raw);
	unlink(w->root);
	if (w->boot[0])
		unlink(w->boot);
	snprintf(p, sizeof(p), "%s/out.qcow2", w->dir);
	unlink(p);
	rmdir(w->dir);
}

static bool exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

static int check_outputs(const struct convert_options *o)
{
	if (exists(o->out) && !o->force) {
		err("%s exists; not overwriting it without --force", o->out);
		return -EEXIST;
	}
	if (exists(o->secret_out)) {
		err("%s already exists; not overwriting a secret", o->secret_out);
		return -EEXIST;
	}
	if (exists(o->export_dir) && !o->force) {
		err("%s exists; not overwriting it without --force", o->export_dir);
		return -EEXIST;
	}
	if (access(o->deb, R_OK) < 0 || (o->kernel_deb && access(o->kernel_deb, R_OK) < 0)) {
		err("cannot read %s", access(o->deb, R_OK) < 0 ? o->deb : o->kernel_deb);
		return -ENOENT;
	}
	return 0;
}

static bool wrote_secret;

static int write_secret_out(const struct convert_work *w, const struct convert_options *o)
{
	struct secret_buf s = { 0 };
	int r;

	r = secret_read_file(w->secret, MAX_SECRET_SIZE, &s);
	if (r == 0)
		r = secret_write_new_file(o->secret_out, &s);
	wrote_secret = r == 0;
	secret_buf_free(&s);
	return r;
}

/* A failed convert leaves no boot files that look finished. */
static void export_remove(const struct convert_options *o)
{
	static const char *const names[] = {
		"vmlinuz", "initrd.img",      "cmdline",	   "secret.table",   "release",
		"os",	   "measure-sev.txt", "measure-seves.txt", "measure-snp.txt"
	};
	char p[PATH_MAX + 32];
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", o->export_dir, names[i]);
		if (strcmp(names[i], "secret.table") == 0)
			wipe_file(p);
		else
			unlink(p);
	}
	rmdir(o->export_dir);
}

static int run_steps(struct convert_work *w, const struct convert_options *o)
{
	struct convert_layout l;
	int r;

	if (mkdir(o->export_dir, 0755) < 0 && errno != EEXIST) {
		err("cannot make %s: %s", o->export_dir, strerror(errno));
		return -errno;
	}
	r = step_copy_in(w, o);
	if (r == 0)
		r = image_layout(w->raw, o->in, &l);
	if (r == 0 && l.has_boot)
		snprintf(w->boot, sizeof(w->boot), "%s/boot.part", w->dir);
	if (r == 0)
		r = luks_prepare_keys(w);
	if (r == 0)
		r = step_edit(w, o, &l);
	if (r == 0)
		r = step_encrypt(w, o, &l);
	if (r == 0) {
		progress("[5/6] cmdline, secret table%s in %s", o->ovmf ? ", launch digests" : "",
			 o->export_dir);
		r = export_boot_files(w, o);
	}
	if (r == 0)
		r = write_secret_out(w, o);
	if (r == 0)
		r = step_output(w, o);
	if (r != 0 && !exists(o->out)) {
		if (wrote_secret)
			wipe_file(o->secret_out);
		export_remove(o);
	}
	return r;
}

int convert(const struct convert_options *o)
{
	struct convert_work w = { 0 };
	int r;

	r = check_outputs(o);
	if (r == 0)
		r = image_format(o->in, w.format, sizeof(w.format));
	if (r < 0)
		return EXIT_FAIL;
	convert_signals();
	r = work_paths(&w, o->out);
	if (r == 0)
		r = run_steps(&w, o);
	work_remove(&w);
	if (convert_interrupted) {
		err("interrupted (signal %d): nothing written to %s", convert_interrupted, o->out);
		return EXIT_FAIL;
	}
	if (r == 0)
		info("converted %s to %s; the secret in %s, the boot files in %s", o->in, o->out,
		     o->secret_out, o->export_dir);
	return r == 0 ? EXIT_OK : EXIT_FAIL;
}
