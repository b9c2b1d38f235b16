// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The LUKS side of convert. The keys are made first, because the image's
 * crypttab needs the volume key's pin before the root is encrypted: a
 * random volume key and UUID, a fresh 32-byte secret. Then, on the root
 * partition's copy: the file system shrunk by the header's 16 MiB
 * (e2fsck, resize2fs), encrypted in place offline (cryptsetup reencrypt
 * --encrypt, the secret as keyslot 0 with PBKDF2 at its minimum, as
 * enroll makes it), the coco-efi-secret token sealed by a MAC (seal.c's
 * token_json_sealed), and the owner's recovery passphrase as another
 * keyslot. Keys pass to cryptsetup as files in a 0700 directory, wiped
 * and unlinked after.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libcryptsetup.h>

#include "coco-secret.h"
#include "convert.h"
#include "volume-key-id.h"

/* Overwrites @path with zeros, then unlinks it. */
void wipe_file(const char *path)
{
	static const char zeros[4096];
	struct stat st;
	off_t done = 0;
	int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd >= 0 && fstat(fd, &st) == 0) {
		while (done < st.st_size && write(fd, zeros, sizeof(zeros)) > 0)
			done += (off_t)sizeof(zeros);
		fsync(fd);
	}
	if (fd >= 0)
		close(fd);
	unlink(path);
}

static void random_uuid(char out[37])
{
	struct secret_buf b = { 0 };
	uint8_t *u;

	if (secret_generate(&b, 16) < 0) {
		out[0] = '\0';
		return;
	}
	u = b.data;
	u[6] = (u[6] & 0x0f) | 0x40;
	u[8] = (u[8] & 0x3f) | 0x80;
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12],
		 u[13], u[14], u[15]);
	secret_buf_free(&b);
}

/* The secret and the volume key in w->keys, the UUID, the pin. */
int luks_prepare_keys(struct convert_work *w)
{
	struct secret_buf s = { 0 }, vk = { 0 };
	int r;

	random_uuid(w->uuid);
	if (w->uuid[0] == '\0')
		return -EIO;
	r = secret_generate(&s, GENERATED_SECRET_SIZE);
	if (r == 0)
		r = secret_generate(&vk, CONVERT_VOLUME_KEY_BYTES);
	if (r == 0)
		r = secret_write_new_file(w->secret, &s);
	if (r == 0)
		r = secret_write_new_file(w->vkey, &vk);
	if (r == 0)
		volume_key_id(CONVERT_MAPPING, w->uuid, vk.data, vk.len, w->pin);
	secret_buf_free(&s);
	secret_buf_free(&vk);
	return r;
}

static uint64_t dumpe2fs_field(const char *out, const char *field)
{
	const char *p = strstr(out, field);

	return p ? strtoull(p + strlen(field), NULL, 10) : 0;
}

/*
 * Before the image is changed: the root (ROOT, the partition's copy)
 * must have room for the header's 16 MiB and what goes in (the package,
 * cryptsetup, on Ubuntu efi_secret's linux-modules-extra, a new
 * initramfs): CONVERT_MIN_FREE. The copy, not FILE?offset=N in the whole
 * image: e2fsprogs 1.47.2 (Debian 13) takes a name with '=' for a blkid
 * tag and never opens the file.
 */
int luks_check_space(const char *in, const char *root)
{
	const char *argv[] = { "dumpe2fs", "-h", root, NULL };
	uint64_t free_bytes, need = CONVERT_HEADER_BYTES + CONVERT_MIN_FREE;
	char *out = NULL;

	if (run_capture(argv, &out) != 0) {
		err("%s: dumpe2fs cannot read the root file system", in);
		return -EIO;
	}
	free_bytes = dumpe2fs_field(out, "Free blocks:") * dumpe2fs_field(out, "Block size:");
	free(out);
	if (free_bytes < need) {
		err("%s: too little space: the root file system has %llu MiB free, convert needs "
		    "%llu MiB (the LUKS2 header and the packages); grow the root partition first",
		    in, (unsigned long long)(free_bytes >> 20), (unsigned long long)(need >> 20));
		return -ENOSPC;
	}
	return 0;
}

/* The file system made 16 MiB smaller than its partition, for the header. */
int luks_shrink_fs(const char *root, uint64_t part_size)
{
	char size[32];
	const char *fsck[] = { "e2fsck", "-f", "-y", root, NULL };
	const char *resize[] = { "resize2fs", root, size, NULL };
	int r;

	progress("checking the root file system (e2fsck -f)");
	r = run_argv(fsck);
	/* 1: errors corrected; anything above is a file system to fix first. */
	if (r != 0 && r != 1) {
		if (!convert_interrupted)
			err("e2fsck found errors it did not correct (status %d): fix the image's root first",
			    r);
		return -EIO;
	}
	snprintf(size, sizeof(size), "%lluK",
		 (unsigned long long)((part_size - CONVERT_HEADER_BYTES) / 1024));
	progress("shrinking the root file system to %s (room for the LUKS2 header)", size);
	r = run_argv(resize);
	if (r != 0) {
		if (!convert_interrupted)
			err("too little space: the root file system cannot give up 16 MiB for the "
			    "LUKS2 header (resize2fs failed); grow the root partition first");
		return -ENOSPC;
	}
	/* resize2fs cuts a file to the file system: back to the partition. */
	if (truncate(root, (off_t)part_size) < 0) {
		err("cannot extend %s again: %s", root, strerror(errno));
		return -errno;
	}
	return 0;
}

static int reencrypt(const struct convert_work *w)
{
	const char *argv[] = { "cryptsetup",
			       "reencrypt",
			       "--encrypt",
			       "--type",
			       "luks2",
			       "--reduce-device-size",
			       "16M",
			       "--force-offline-reencrypt",
			       "--disable-locks",
			       "--batch-mode",
			       "--cipher",
			       "aes-xts-plain64",
			       "--key-size",
			       "512",
			       "--uuid",
			       w->uuid,
			       "--volume-key-file",
			       w->vkey,
			       "--pbkdf",
			       "pbkdf2",
			       "--pbkdf-force-iterations",
			       "1000",
			       "--hash",
			       "sha256",
			       "--key-file",
			       w->secret,
			       w->root,
			       NULL };

	progress("encrypting the root in place (cryptsetup reencrypt --encrypt)");
	if (run_argv(argv) != 0) {
		if (!convert_interrupted)
			err("cryptsetup reencrypt --encrypt failed on the root partition");
		return -EIO;
	}
	return 0;
}

static int add_sealed_token(struct crypt_device *cd, const struct convert_work *w,
			    const struct guid *guid, const struct secret_buf *s)
{
	char json[320];
	int r;

	r = token_json_sealed(w->root, 0, guid, s, json, sizeof(json));
	if (r == 0)
		r = crypt_token_json_set(cd, CRYPT_ANY_TOKEN, json);
	if (r < 0)
		err("cannot add the coco-efi-secret token: %s", strerror(-r));
	return r < 0 ? r : 0;
}

/* The owner's recovery passphrase: argon2id, libcryptsetup's defaults. */
static int add_recovery(struct crypt_device *cd, const char *file, const struct secret_buf *s)
{
	struct secret_buf p = { 0 };
	int r;

	r = secret_read_file(file, MAX_PASSPHRASE_SIZE, &p);
	if (r < 0)
		return r;
	if (p.len == 0) {
		err("%s is empty", file);
		secret_buf_free(&p);
		return -EINVAL;
	}
	progress("adding the recovery passphrase's keyslot (argon2id)");
	r = crypt_set_pbkdf_type(cd, crypt_get_pbkdf_default(CRYPT_LUKS2));
	if (r == 0)
		r = crypt_keyslot_add_by_passphrase(cd, CRYPT_ANY_SLOT, (const char *)s->data,
						    s->len, (const char *)p.data, p.len);
	secret_buf_free(&p);
	if (r < 0)
		err("cannot add the recovery keyslot: %s", strerror(-r));
	return r < 0 ? r : 0;
}

int luks_encrypt_root(const struct convert_work *w, const struct convert_options *o)
{
	struct crypt_device *cd = NULL;
	struct secret_buf s = { 0 };
	int r;

	r = reencrypt(w);
	if (r == 0)
		r = secret_read_file(w->secret, MAX_SECRET_SIZE, &s);
	if (r == 0)
		r = luks_open(w->root, &cd);
	/* The keyslot opens with the secret before anything points at it. */
	if (r == 0 &&
	    crypt_activate_by_passphrase(cd, NULL, 0, (const char *)s.data, s.len, 0) < 0) {
		err("the new keyslot does not open with the secret");
		r = -EIO;
	}
	if (r == 0)
		r = add_sealed_token(cd, w, &o->guid, &s);
	if (r == 0 && o->recovery_key_file != NULL)
		r = add_recovery(cd, o->recovery_key_file, &s);
	secret_buf_free(&s);
	crypt_free(cd);
	return r;
}
