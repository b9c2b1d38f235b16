// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * An OVMF image and its GUIDed footer table: the list of { data, u16
 * length, GUID } entries that ends 32 bytes before the end of the image
 * (edk2's OvmfPkg/ResetVector), read backwards from its own footer
 * entry, as QEMU's pc_system_parse_ovmf_flash() does. The addresses the
 * launch depends on (the SEV-ES AP reset address, the hashes-table and
 * secret areas, the SNP metadata) come from here, never from constants:
 * they move between firmware builds.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "coco-secret.h"
#include "sev.h"

#define FOOTER_GUID "96b582de-1fb2-45f7-baea-a366c55a082d"
#define SEV_ES_RESET_BLOCK_GUID "00f771de-1a7e-4fcb-890e-68c77e2fb44e"
#define SEV_HASH_TABLE_RV_GUID "7255371f-3a3b-4b04-927b-1da6efa8d454"
#define SEV_SECRET_BLOCK_GUID "4c2eb361-7d9b-4cc3-8081-127c90d3d294"
#define SEV_METADATA_GUID "dc886566-984a-4798-a75e-5585a7bf67cc"

/* The table's last entry (its footer) ends this far before the image's end. */
#define FOOTER_END_GAP 32
#define ENTRY_TRAILER 18	/* u16 length, then the GUID */
#define METADATA_HEADER 16	/* "ASEV", u32 length, u32 version, u32 count */
#define METADATA_DESC 12	/* u32 gpa, u32 size, u32 type */

static uint32_t le32_at(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
		(uint32_t)p[3] << 24;
}

static uint16_t le16_at(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static int read_image(const char *path, struct ovmf *fw)
{
	struct stat st;
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0) {
		err("firmware %s: %s", path, strerror(errno));
		return -errno;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size < 64 ||
	    (uint64_t)st.st_size > MAX_FIRMWARE_SIZE) {
		err("firmware %s: not a regular file of 64 bytes to 64 MiB", path);
		close(fd);
		return -EINVAL;
	}
	fw->size = (size_t)st.st_size;
	fw->data = malloc(fw->size);
	while (fw->data && got < fw->size) {
		ssize_t n = read(fd, fw->data + got, fw->size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (fw->data == NULL || got != fw->size) {
		err("firmware %s: cannot read it whole", path);
		return -EIO;
	}
	return 0;
}

static bool guid_at_is(const uint8_t *p, const char *text)
{
	struct guid g;

	guid_from_efi_bytes(p, &g);
	return strcmp(g.str, text) == 0;
}

/* An entry's data is at least @need bytes, or the image is malformed. */
static int want(const struct ovmf *fw, const char *what, size_t have, size_t need)
{
	if (have >= need)
		return 0;
	err("firmware %s: footer table entry %s is %zu bytes, under %zu", fw->path, what,
	    have, need);
	return -EINVAL;
}

static int parse_metadata(struct ovmf *fw, const uint8_t *data, size_t len);

static int take_entry(struct ovmf *fw, const uint8_t *guid, const uint8_t *data, size_t len)
{
	if (guid_at_is(guid, SEV_ES_RESET_BLOCK_GUID)) {
		if (want(fw, "SEV-ES reset block", len, 4))
			return -EINVAL;
		fw->reset_eip = le32_at(data);
		fw->has_reset_eip = fw->reset_eip != 0;
	} else if (guid_at_is(guid, SEV_HASH_TABLE_RV_GUID)) {
		if (want(fw, "SEV hashes table", len, 8))
			return -EINVAL;
		fw->hashes_gpa = le32_at(data);
		fw->hashes_size = le32_at(data + 4);
		fw->has_hashes_area = fw->hashes_gpa != 0 && fw->hashes_size != 0;
	} else if (guid_at_is(guid, SEV_SECRET_BLOCK_GUID)) {
		if (want(fw, "SEV secret area", len, 8))
			return -EINVAL;
		fw->secret_gpa = le32_at(data);
		fw->secret_size = le32_at(data + 4);
		fw->has_secret_area = fw->secret_gpa != 0 && fw->secret_size != 0;
	} else if (guid_at_is(guid, SEV_METADATA_GUID)) {
		if (want(fw, "SEV metadata", len, 4))
			return -EINVAL;
		return parse_metadata(fw, data, len);
	}
	/* Other entries (TDX metadata, OVMF's own) are none of SEV's business. */
	return 0;
}

static int walk_footer(struct ovmf *fw)
{
	const uint8_t *end = fw->data + fw->size - FOOTER_END_GAP;
	const uint8_t *start;
	size_t table_len;

	if (!guid_at_is(end - 16, FOOTER_GUID)) {
		err("firmware %s: no OVMF footer table (GUID %s) 32 bytes before its end", fw->path,
		    FOOTER_GUID);
		return -EINVAL;
	}
	table_len = le16_at(end - ENTRY_TRAILER);
	if (table_len < ENTRY_TRAILER || table_len > fw->size - FOOTER_END_GAP) {
		err("firmware %s: footer table length %zu is out of bounds", fw->path, table_len);
		return -EINVAL;
	}
	start = end - table_len;
	end -= ENTRY_TRAILER;
	while ((size_t)(end - start) >= ENTRY_TRAILER) {
		size_t len = le16_at(end - ENTRY_TRAILER);

		if (len < ENTRY_TRAILER || len > (size_t)(end - start)) {
			err("firmware %s: footer table entry length %zu is out of bounds", fw->path,
			    len);
			return -EINVAL;
		}
		if (take_entry(fw, end - 16, end - len, len - ENTRY_TRAILER) < 0)
			return -EINVAL;
		end -= len;
	}
	return 0;
}

static int take_section(struct ovmf *fw, const uint8_t *d)
{
	struct snp_section *s = &fw->sections[fw->n_sections];

	s->gpa = le32_at(d);
	s->size = le32_at(d + 4);
	s->type = le32_at(d + 8);
	if (s->type < SNP_SECTION_SEC_MEM ||
	    (s->type > SNP_SECTION_SVSM_CAA && s->type != SNP_SECTION_KERNEL_HASHES)) {
		err("firmware %s: SNP metadata section %zu has unknown type %u", fw->path,
		    fw->n_sections + 1, s->type);
		return -EINVAL;
	}
	if (s->gpa % PAGE_SIZE_4K || s->size % PAGE_SIZE_4K || s->size == 0) {
		err("firmware %s: SNP metadata section %zu (0x%x, 0x%x bytes) is not whole pages",
		    fw->path, fw->n_sections + 1, s->gpa, s->size);
		return -EINVAL;
	}
	fw->n_sections++;
	return 0;
}

/*
 * The SNP metadata (OvmfPkg/ResetVector/X64/OvmfSevMetadata.asm): the
 * footer entry holds its offset from the end of the image; there, a
 * header "ASEV" and descriptors of the pages the launch adds.
 */
static int parse_metadata(struct ovmf *fw, const uint8_t *data, size_t len)
{
	uint32_t offset = le32_at(data), total, count, i;
	const uint8_t *m;

	if (offset < METADATA_HEADER || offset > fw->size) {
		err("firmware %s: SNP metadata offset 0x%x is out of bounds", fw->path, offset);
		return -EINVAL;
	}
	m = fw->data + fw->size - offset;
	total = le32_at(m + 4);
	count = le32_at(m + 12);
	if (memcmp(m, "ASEV", 4) != 0 || total > offset || total < METADATA_HEADER ||
	    count > MAX_SNP_SECTIONS || (total - METADATA_HEADER) / METADATA_DESC < count) {
		err("firmware %s: SNP metadata at offset 0x%x is malformed", fw->path, offset);
		return -EINVAL;
	}
	fw->has_snp_metadata = true;
	for (i = 0; i < count; i++)
		if (take_section(fw, m + METADATA_HEADER + i * METADATA_DESC) < 0)
			return -EINVAL;
	return 0;
}

int ovmf_load(const char *path, struct ovmf *fw)
{
	int r;

	memset(fw, 0, sizeof(*fw));
	fw->path = path;
	r = read_image(path, fw);
	if (r == 0)
		r = walk_footer(fw);
	if (r < 0)
		ovmf_free(fw);
	return r;
}

void ovmf_free(struct ovmf *fw)
{
	free(fw->data);
	fw->data = NULL;
}

uint64_t ovmf_gpa(const struct ovmf *fw)
{
	return 0x100000000ull - fw->size;
}

bool ovmf_has_snp_section(const struct ovmf *fw, uint32_t type)
{
	size_t i;

	for (i = 0; i < fw->n_sections; i++)
		if (fw->sections[i].type == type)
			return true;
	return false;
}
