// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * coco-inject.efi: plays the firmware's part of confidential-computing
 * secret injection, for tests and demos on machines without SEV.
 *
 * It does what OVMF's AmdSev SecretDxe does with a secret the guest owner
 * injected at launch: the secret table goes into a page-rounded
 * EfiReservedMemoryType area (the kernel can only ioremap reserved memory),
 * a { u64 base_pa; u64 size; } struct in EfiACPIReclaimMemory points at it,
 * and that struct is installed as EFI configuration table
 * adf956ad-e98c-484c-ae11-b51c7d336447, which the kernel's efi_secret
 * module reads. Then it starts the Linux kernel (EFI stub) with a command
 * line, the way a boot loader would.
 *
 * Files, all on the FAT volume this application was loaded from:
 *   \coco\secret-table.masked  the secret table, masked: byte i XOR
 *                           (167 * i + 13) mod 256, and unmasked straight
 *                           into the area (any content: tests also inject
 *                           broken ones). Masked, because the firmware's
 *                           FAT driver and disk caches keep what they read
 *                           in boot-services memory, which is freed but not
 *                           zeroed: a plain table would leave copies of the
 *                           secrets in guest RAM that the RAM scans would
 *                           count against coco-unlock. Our own read buffer
 *                           (masked bytes) is zeroed and freed. Absent: no
 *                           config table at all. Empty: a zero-filled area
 *                           of one page (unpopulated).
 *   \coco\cmdline.txt       the kernel command line, one line of ASCII
 *                           (initrd=\initrd.img console=ttyS0 ...); line
 *                           breaks become spaces. Required.
 *   \vmlinuz                the kernel, an EFI-stub bzImage. Required.
 *
 * The reported area size is the page-rounded allocation, like OVMF, which
 * reports its whole area (0xC00 bytes); efi_secret only requires the
 * table's own length to fit in it.
 *
 * Every error is printed on the console (the serial port under QEMU) with
 * a "coco-inject: error:" prefix, and the application returns to the
 * firmware; it never waits for input.
 */
#include <efi.h>
#include <efilib.h>

#define TABLE_PATH L"\\coco\\secret-table.masked"
#define CMDLINE_PATH L"\\coco\\cmdline.txt"
#define KERNEL_PATH L"\\vmlinuz"

/* Large enough for any real secret area (OVMF's is 3 KiB). */
#define TABLE_MAX_BYTES (1024 * 1024)
#define CMDLINE_MAX_BYTES 4096

static EFI_GUID coco_area_guid = { 0xadf956ad, 0xe98c, 0x484c,
	{ 0xae, 0x11, 0xb5, 0x1c, 0x7d, 0x33, 0x64, 0x47 } };
static EFI_GUID table_header_guid = { 0x1e74f542, 0x71dd, 0x4d66,
	{ 0x96, 0x3e, 0xef, 0x42, 0x87, 0xff, 0x17, 0x3b } };

struct coco_secret_area {
	UINT64 base_pa;
	UINT64 size;
};

#define HEADER_SIZE 20 /* GUID + u32 length, for the header and each entry */

static void error(const CHAR16 *what, const CHAR16 *path, EFI_STATUS status)
{
	Print(L"coco-inject: error: %s %s: %r\n", what, path ? path : L"",
	      status);
}

/*
 * Reads a whole file from the volume into pool memory. Returns
 * EFI_NOT_FOUND, untold, when the file does not exist.
 */
static EFI_STATUS read_file(EFI_FILE_HANDLE root, CHAR16 *path, UINTN max,
			    UINT8 **data, UINTN *size)
{
	EFI_FILE_HANDLE file;
	EFI_FILE_INFO *info;
	EFI_STATUS status;
	UINTN want, got;
	UINT8 *buf;

	*data = NULL;
	*size = 0;
	status = uefi_call_wrapper(root->Open, 5, root, &file, path,
				   EFI_FILE_MODE_READ, 0ULL);
	if (status == EFI_NOT_FOUND)
		return status;
	if (EFI_ERROR(status)) {
		error(L"cannot open", path, status);
		return status;
	}
	info = LibFileInfo(file);
	if (!info) {
		error(L"cannot get the size of", path, EFI_DEVICE_ERROR);
		status = EFI_DEVICE_ERROR;
		goto close;
	}
	want = info->FileSize;
	FreePool(info);
	if (want > max) {
		Print(L"coco-inject: error: %s is %lu bytes, more than %lu\n",
		      path, (UINT64)want, (UINT64)max);
		status = EFI_BAD_BUFFER_SIZE;
		goto close;
	}
	/* One spare byte, so that text can be terminated. */
	buf = AllocateZeroPool(want + 1);
	if (!buf) {
		error(L"out of memory reading", path, EFI_OUT_OF_RESOURCES);
		status = EFI_OUT_OF_RESOURCES;
		goto close;
	}
	got = want;
	status = uefi_call_wrapper(file->Read, 3, file, &got, buf);
	if (EFI_ERROR(status) || got != want) {
		error(L"cannot read", path, EFI_ERROR(status) ? status : EFI_END_OF_FILE);
		FreePool(buf);
		if (!EFI_ERROR(status))
			status = EFI_END_OF_FILE;
		goto close;
	}
	*data = buf;
	*size = want;
close:
	uefi_call_wrapper(file->Close, 1, file);
	return status;
}

static UINT32 get_le32(const UINT8 *p)
{
	return (UINT32)p[0] | (UINT32)p[1] << 8 | (UINT32)p[2] << 16 |
	       (UINT32)p[3] << 24;
}

/* Lists the GUIDs and sizes of the table's entries; never their data. */
static void describe_table(const UINT8 *t, UINTN size)
{
	UINTN off, len, n = 0;
	EFI_GUID guid;

	if (size < HEADER_SIZE || CompareMem(t, &table_header_guid, sizeof(guid))) {
		Print(L"coco-inject: the table does not start with the secret table header GUID (unpopulated area)\n");
		return;
	}
	len = get_le32(t + 16);
	Print(L"coco-inject: table header: length %lu\n", (UINT64)len);
	if (len > size)
		len = size;
	for (off = HEADER_SIZE; off + HEADER_SIZE <= len; off += get_le32(t + off + 16)) {
		UINT32 elen = get_le32(t + off + 16);

		/* gnu-efi 4 (Debian 13) declares CopyMem's source without const. */
		CopyMem(&guid, (VOID *)(t + off), sizeof(guid));
		if (elen < HEADER_SIZE || elen > len - off) {
			Print(L"coco-inject: entry %lu (%g) has a bad length %u: corrupted table\n",
			      (UINT64)n, &guid, elen);
			return;
		}
		Print(L"coco-inject: secret %g: %u bytes\n", &guid,
		      elen - HEADER_SIZE);
		n++;
	}
	Print(L"coco-inject: %lu entries\n", (UINT64)n);
}

/* The table file's mask (see the top): plain bytes only ever land in the area. */
static void unmask_into(UINT8 *dst, const UINT8 *masked, UINTN size)
{
	UINTN i;

	for (i = 0; i < size; i++)
		dst[i] = masked[i] ^ (UINT8)(167 * i + 13);
}

/* Publishes the secret area, as OVMF's SecretDxe does; *@out: where. */
static EFI_STATUS publish_area(const UINT8 *table, UINTN size, const UINT8 **out)
{
	struct coco_secret_area *area;
	EFI_PHYSICAL_ADDRESS base = 0;
	UINTN pages = EFI_SIZE_TO_PAGES(size);
	EFI_STATUS status;

	if (pages == 0)
		pages = 1;
	status = uefi_call_wrapper(BS->AllocatePages, 4, AllocateAnyPages,
				   EfiReservedMemoryType, pages, &base);
	if (EFI_ERROR(status)) {
		error(L"cannot allocate the secret area", NULL, status);
		return status;
	}
	ZeroMem((void *)(UINTN)base, pages * EFI_PAGE_SIZE);
	unmask_into((UINT8 *)(UINTN)base, table, size);

	status = uefi_call_wrapper(BS->AllocatePool, 3, EfiACPIReclaimMemory,
				   sizeof(*area), (void **)&area);
	if (EFI_ERROR(status)) {
		error(L"cannot allocate the area descriptor", NULL, status);
		goto free_pages;
	}
	area->base_pa = base;
	area->size = pages * EFI_PAGE_SIZE;
	status = uefi_call_wrapper(BS->InstallConfigurationTable, 2,
				   &coco_area_guid, area);
	if (EFI_ERROR(status)) {
		error(L"cannot install the config table", NULL, status);
		uefi_call_wrapper(BS->FreePool, 1, area);
		goto free_pages;
	}
	Print(L"coco-inject: secret area at 0x%lx, size 0x%lx (table file %lu bytes), config table %g installed\n",
	      (UINT64)base, area->size, (UINT64)size, &coco_area_guid);
	*out = (const UINT8 *)(UINTN)base;
	return EFI_SUCCESS;

free_pages:
	ZeroMem((void *)(UINTN)base, pages * EFI_PAGE_SIZE);
	uefi_call_wrapper(BS->FreePages, 2, base, pages);
	return status;
}

/* The command line file as a UCS-2 string, line breaks made spaces. */
static CHAR16 *make_cmdline(const UINT8 *text, UINTN size, UINTN *bytes)
{
	CHAR16 *cmdline;
	UINTN i, n = 0;

	cmdline = AllocateZeroPool((size + 1) * sizeof(CHAR16));
	if (!cmdline)
		return NULL;
	for (i = 0; i < size && text[i]; i++) {
		UINT8 c = text[i];

		cmdline[n++] = (c == '\n' || c == '\r' || c == '\t') ? L' ' : c;
	}
	while (n > 0 && cmdline[n - 1] == L' ')
		n--;
	cmdline[n] = 0;
	*bytes = (n + 1) * sizeof(CHAR16);
	return cmdline;
}

static EFI_STATUS start_kernel(EFI_HANDLE image, EFI_HANDLE device,
			       CHAR16 *cmdline, UINTN cmdline_bytes)
{
	EFI_DEVICE_PATH *path;
	EFI_LOADED_IMAGE *kernel;
	EFI_HANDLE handle = NULL;
	EFI_STATUS status;

	path = FileDevicePath(device, KERNEL_PATH);
	if (!path) {
		error(L"cannot make a device path for", KERNEL_PATH, EFI_OUT_OF_RESOURCES);
		return EFI_OUT_OF_RESOURCES;
	}
	status = uefi_call_wrapper(BS->LoadImage, 6, FALSE, image, path, NULL,
				   0, &handle);
	FreePool(path);
	if (EFI_ERROR(status)) {
		error(L"cannot load", KERNEL_PATH, status);
		return status;
	}
	status = uefi_call_wrapper(BS->HandleProtocol, 3, handle,
				   &LoadedImageProtocol, (void **)&kernel);
	if (EFI_ERROR(status)) {
		error(L"no loaded-image protocol on", KERNEL_PATH, status);
		uefi_call_wrapper(BS->UnloadImage, 1, handle);
		return status;
	}
	kernel->LoadOptions = cmdline;
	kernel->LoadOptionsSize = (UINT32)cmdline_bytes;
	Print(L"coco-inject: starting %s %s\n", KERNEL_PATH, cmdline);
	status = uefi_call_wrapper(BS->StartImage, 3, handle, NULL, NULL);
	/* Only reached when the kernel failed to start or returned. */
	error(L"the kernel returned", KERNEL_PATH, status);
	return EFI_ERROR(status) ? status : EFI_LOAD_ERROR;
}

EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *systab)
{
	EFI_LOADED_IMAGE *self;
	EFI_FILE_HANDLE root;
	EFI_STATUS status;
	UINT8 *table, *text;
	UINTN table_size, text_size, cmdline_bytes;
	CHAR16 *cmdline;

	InitializeLib(image, systab);
	Print(L"coco-inject: started\n");

	status = uefi_call_wrapper(BS->HandleProtocol, 3, image,
				   &LoadedImageProtocol, (void **)&self);
	if (EFI_ERROR(status)) {
		error(L"no loaded-image protocol on this application", NULL, status);
		goto fail;
	}
	root = LibOpenRoot(self->DeviceHandle);
	if (!root) {
		error(L"cannot open the volume this application was loaded from",
		      NULL, EFI_NOT_FOUND);
		status = EFI_NOT_FOUND;
		goto fail;
	}

	status = read_file(root, CMDLINE_PATH, CMDLINE_MAX_BYTES, &text, &text_size);
	if (status == EFI_NOT_FOUND)
		error(L"missing", CMDLINE_PATH, status);
	if (EFI_ERROR(status))
		goto close;
	cmdline = make_cmdline(text, text_size, &cmdline_bytes);
	FreePool(text);
	if (!cmdline) {
		status = EFI_OUT_OF_RESOURCES;
		error(L"out of memory", NULL, status);
		goto close;
	}

	status = read_file(root, TABLE_PATH, TABLE_MAX_BYTES, &table, &table_size);
	if (status == EFI_NOT_FOUND) {
		Print(L"coco-inject: no %s: booting without a secret area\n", TABLE_PATH);
	} else if (EFI_ERROR(status)) {
		goto free_cmdline;
	} else {
		const UINT8 *published = NULL;

		status = publish_area(table, table_size, &published);
		ZeroMem(table, table_size);
		FreePool(table);
		if (EFI_ERROR(status))
			goto free_cmdline;
		describe_table(published, table_size);
	}
	uefi_call_wrapper(root->Close, 1, root);
	root = NULL;

	status = start_kernel(image, self->DeviceHandle, cmdline, cmdline_bytes);

free_cmdline:
	FreePool(cmdline);
close:
	if (root)
		uefi_call_wrapper(root->Close, 1, root);
fail:
	Print(L"coco-inject: failed: %r\n", status);
	return status;
}
