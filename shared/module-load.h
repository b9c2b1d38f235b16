/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Loading a kernel module through libkmod (efi_secret, dm_crypt), as
 * coco-unlock and the token plugin both do: udev's autoload by alias is
 * not guaranteed, and a static agent in a minimal initramfs has no
 * modprobe. Already loaded or built in is fine.
 */
#pragma once

/* Where libkmod's messages and ours go, at debug level; NULL: nowhere. */
typedef void (*module_debug_fn)(const char *msg, void *data);

/*
 * 0 when @name is loaded (or built in), -ENOENT when the module is
 * unknown, -EPERM when a blacklist or the command line stopped it,
 * -errno. @kmod_dir: the module tree (NULL: the running kernel's).
 */
int module_load(const char *kmod_dir, const char *name, module_debug_fn debug, void *data);
