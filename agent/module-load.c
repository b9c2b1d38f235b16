// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Loading modules through libkmod: efi_secret, because udev's autoload by
 * alias is not guaranteed (the device type may change), and dm_crypt,
 * because a static agent in a minimal initramfs has no modprobe to rely
 * on. Already loaded or built in is fine.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <libkmod.h>

#include "coco-unlock.h"

static void kmod_log(void *data, int priority, const char *file, int line,
		     const char *fn, const char *format, va_list args)
{
	char msg[256];

	vsnprintf(msg, sizeof(msg), format, args);
	msg[strcspn(msg, "\n")] = '\0';
	log_debug("libkmod: %s", msg);
}

static int insert_module(struct kmod_module *mod)
{
	int state = kmod_module_get_initstate(mod);
	int r;

	if (state == KMOD_MODULE_BUILTIN || state == KMOD_MODULE_LIVE) {
		log_debug("%s is %s", kmod_module_get_name(mod),
			  state == KMOD_MODULE_BUILTIN ? "built in" : "already loaded");
		return 0;
	}
	r = kmod_module_probe_insert_module(mod, 0, NULL, NULL, NULL, NULL);
	if (r == -EEXIST)
		return 0;
	if (r < 0)
		return r;
	/* A positive value means a blacklist or a command line stopped it. */
	return r > 0 ? -EPERM : 0;
}

/* 0 when loaded (or built in), -ENOENT when the module is unknown. */
int module_load(const char *kmod_dir, const char *name)
{
	struct kmod_list *list = NULL, *l;
	struct kmod_ctx *ctx;
	int r;

	ctx = kmod_new(kmod_dir, NULL);
	if (ctx == NULL)
		return -ENOMEM;
	kmod_set_log_fn(ctx, kmod_log, NULL);

	r = kmod_module_new_from_lookup(ctx, name, &list);
	if (r < 0 || list == NULL) {
		r = -ENOENT;
		goto out;
	}
	r = -ENOENT;
	kmod_list_foreach(l, list) {
		struct kmod_module *mod = kmod_module_get_module(l);

		r = insert_module(mod);
		kmod_module_unref(mod);
		break;
	}
	kmod_module_unref_list(list);
out:
	kmod_unref(ctx);
	return r;
}
