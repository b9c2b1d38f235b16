// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Which uevent messages make the device wait look again: a block device
 * added or changed, in the kernel's format and in udev's (a binary
 * header, then the properties). Anything else, or a malformed message,
 * is not a reason.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>

#include "coco-unlock.h"
#include "tap.h"

/* Builds "a\0b\0c\0" from "a|b|c" into @buf; the length. */
static size_t nul_list(char *buf, const char *list)
{
	size_t n = strlen(list), i;

	memcpy(buf, list, n + 1);
	for (i = 0; i < n; i++)
		if (buf[i] == '|')
			buf[i] = '\0';
	return n + 1;
}

static bool kernel_says(const char *list)
{
	char buf[512];

	return uevent_shows_block_device(buf, nul_list(buf, list));
}

/* libudev's layout: prefix, magic (big-endian), header size, properties offset, length... */
static size_t udev_message(char *buf, const char *list, uint32_t magic, uint32_t off)
{
	uint32_t be_magic = htonl(magic), header = 40, len;

	memset(buf, 0, 40);
	memcpy(buf, "libudev", 8);
	memcpy(buf + 8, &be_magic, 4);
	memcpy(buf + 12, &header, 4);
	memcpy(buf + 16, &off, 4);
	len = (uint32_t)nul_list(buf + 40, list);
	memcpy(buf + 20, &len, 4);
	return 40 + len;
}

static bool udev_says(const char *list, uint32_t magic, uint32_t off)
{
	char buf[512];

	return uevent_shows_block_device(buf, udev_message(buf, list, magic, off));
}

static void test_kernel(void)
{
	tap_check(kernel_says("add@/devices/pci0000:00/0000:00:02.0/virtio1/block/vdb|ACTION=add|"
			      "DEVPATH=/devices/pci0000:00/0000:00:02.0/virtio1/block/vdb|SUBSYSTEM=block|"
			      "MAJOR=254|MINOR=16|DEVNAME=vdb|DEVTYPE=disk|SEQNUM=1234"),
		  "kernel: a disk added");
	tap_check(kernel_says("change@/devices/virtual/block/loop0|ACTION=change|"
			      "DEVPATH=/devices/virtual/block/loop0|SUBSYSTEM=block|DEVNAME=loop0"),
		  "kernel: a block device changed");
	tap_check(!kernel_says("remove@/devices/virtual/block/loop0|ACTION=remove|SUBSYSTEM=block"),
		  "kernel: a removal is not a reason");
	tap_check(!kernel_says("add@/devices/pci0000:00/0000:00:02.0|ACTION=add|SUBSYSTEM=pci"),
		  "kernel: another subsystem is not");
	tap_check(!kernel_says("add@/x|ACTION=add|SUBSYSTEM=blocks"), "kernel: SUBSYSTEM=blocks is not block");
	tap_check(!kernel_says("add@/x|ACTION=added|SUBSYSTEM=block"), "kernel: ACTION=added is not add");
	tap_check(!kernel_says("ACTION=add|SUBSYSTEM=block"), "no ACTION@DEVPATH first: not a uevent");
	tap_check(!kernel_says("add@/x|SUBSYSTEM=block"), "no ACTION property: not a reason");
}

static void test_udev(void)
{
	const char *disk = "ACTION=add|DEVPATH=/devices/virtual/block/vdb|SUBSYSTEM=block|"
			   "DEVNAME=/dev/vdb|DEVLINKS=/dev/disk/by-label/root";

	tap_check(udev_says(disk, 0xfeedcafe, 40), "udev: a disk added, its links made");
	tap_check(!udev_says(disk, 0xfeedcaff, 40), "udev: a wrong magic is not a reason");
	tap_check(!udev_says(disk, 0xfeedcafe, 4000), "udev: properties past the end are not read");
	tap_check(!udev_says(disk, 0xfeedcafe, 8), "udev: properties inside the header are not read");
	tap_check(!udev_says("ACTION=add|SUBSYSTEM=net", 0xfeedcafe, 40), "udev: another subsystem is not");
}

static void test_malformed(void)
{
	char buf[64];

	memcpy(buf, "add@/x\0ACTION=add\0SUBSYSTEM=block", 33);
	tap_check(uevent_shows_block_device(buf, 33), "a last property without its NUL is read to the end");
	tap_check(!uevent_shows_block_device(buf, 30), "and not past the length given");
	tap_check(!uevent_shows_block_device("", 0), "an empty message is not a reason");
	memset(buf, 'a', sizeof(buf));
	tap_check(!uevent_shows_block_device(buf, sizeof(buf)), "no NUL at all: not a uevent");
	tap_check(!uevent_shows_block_device("libudev", 8), "a bare udev prefix is not a reason");
}

int main(void)
{
	test_kernel();
	test_udev();
	test_malformed();
	return tap_done();
}
