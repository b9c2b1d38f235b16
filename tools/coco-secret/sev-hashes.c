// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The SEV hashes table QEMU writes into the firmware's hashes-table area
 * when a sev-guest has kernel-hashes=on (target/i386/sev.c): a header
 * GUID and length, then the SHA-256 of the command line, the initrd and
 * the kernel, each under its GUID, zero-padded to a multiple of 16. The
 * PSP measures it, and OVMF refuses a kernel, initrd or command line
 * whose hash is not in it: this table is how the launch digest covers
 * them. It must be byte for byte what QEMU writes.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "coco-secret.h"
#include "sev.h"

#define HASHES_HEADER_GUID "9438d606-4f22-4cc9-b479-a793d411fd21"
#define KERNEL_ENTRY_GUID "4de79437-abd2-427f-b835-d5b172d2045b"
#define INITRD_ENTRY_GUID "44baf731-3a2f-4bd7-9af1-41e29169781d"
#define CMDLINE_ENTRY_GUID "97d02dd8-bd20-4c94-aa78-e7714d36ab2a"
#define ENTRY_SIZE (16 + 2 + SHA256_LEN)
#define TABLE_LEN (16 + 2 + 3 * ENTRY_SIZE)	/* 168: the header says this, unpadded */

#define READ_CHUNK (1u << 20)

static int hash_fd(int fd, const char *path, uint8_t out[SHA256_LEN])
{
	static uint8_t buf[READ_CHUNK];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int r = -EIO;

	if (ctx == NULL || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL))
		goto out;
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err("%s: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		if (!EVP_DigestUpdate(ctx, buf, (size_t)n))
			goto out;
	}
	if (EVP_DigestFinal_ex(ctx, out, NULL))
		r = 0;
out:
	EVP_MD_CTX_free(ctx);
	return r;
}

/* Streamed: an initrd of hundreds of MiB is hashed in constant memory. */
int file_sha256(const char *path, uint8_t out[SHA256_LEN])
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	int r;

	if (fd < 0) {
		err("%s: %s", path, strerror(errno));
		return -errno;
	}
	r = hash_fd(fd, path, out);
	close(fd);
	return r;
}

/* QEMU hashes the command line with its terminating NUL ("" when none). */
static int cmdline_sha256(const char *append, uint8_t out[SHA256_LEN])
{
	const char *s = append ? append : "";

	return EVP_Digest(s, strlen(s) + 1, out, NULL, EVP_sha256(), NULL) ? 0 : -EIO;
}

int boot_hashes_compute(const char *kernel, const char *initrd, const char *append,
			struct boot_hashes *h)
{
	static const uint8_t nothing[1];

	if (file_sha256(kernel, h->kernel) < 0)
		return -EINVAL;
	/* No initrd is measured as an empty one, as QEMU loads it. */
	if (initrd ? file_sha256(initrd, h->initrd) < 0 :
		     !EVP_Digest(nothing, 0, h->initrd, NULL, EVP_sha256(), NULL))
		return -EINVAL;
	return cmdline_sha256(append, h->cmdline) < 0 ? -EIO : 0;
}

static uint8_t *put_entry(uint8_t *p, const char *guid_text, const uint8_t hash[SHA256_LEN])
{
	struct guid g;

	guid_parse(guid_text, &g);
	guid_to_efi_bytes(&g, p);
	p[16] = ENTRY_SIZE;
	p[17] = 0;
	memcpy(p + 18, hash, SHA256_LEN);
	return p + ENTRY_SIZE;
}

void sev_hashes_table(const struct boot_hashes *h, uint8_t out[SEV_HASHES_TABLE_SIZE])
{
	struct guid g;
	uint8_t *p = out;

	memset(out, 0, SEV_HASHES_TABLE_SIZE);
	guid_parse(HASHES_HEADER_GUID, &g);
	guid_to_efi_bytes(&g, p);
	p[16] = TABLE_LEN & 0xff;
	p[17] = TABLE_LEN >> 8;
	p += 18;
	p = put_entry(p, CMDLINE_ENTRY_GUID, h->cmdline);
	p = put_entry(p, INITRD_ENTRY_GUID, h->initrd);
	put_entry(p, KERNEL_ENTRY_GUID, h->kernel);
}
