// SPDX-License-Identifier: LGPL-2.1-or-later
/* Loading modules through libkmod: see module-load.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <libkmod.h>

#include "module-load.h"

struct debug_sink {
	module_debug_fn fn;
	void *data;
};

static void kmod_log(void *data, int priority, const char *file, int line,
		     const char *fn, const char *format, va_list args)
{
	const struct debug_sink *sink = data;
	char msg[256], line_text[280];

	vsnprintf(msg, sizeof(msg), format, args);
	msg[strcspn(msg, "\n")] = '\0';
	snprintf(line_text, sizeof(line_text), "libkmod: %s", msg);
	sink->fn(line_text, sink->data);
}

static int insert_module(struct kmod_module *mod, const struct debug_sink *sink)
{
	int state = kmod_module_get_initstate(mod);
	char msg[128];
	int r;

	if (state == KMOD_MODULE_BUILTIN || state == KMOD_MODULE_LIVE) {
		if (sink->fn != NULL) {
			snprintf(msg, sizeof(msg), "%s is %s", kmod_module_get_name(mod),
				 state == KMOD_MODULE_BUILTIN ? "built in" : "already loaded");
			sink->fn(msg, sink->data);
		}
		return 0;
	}
	r = kmod_module_probe_insert_module(mod, 0, NULL, NULL, NULL, NULL);
	if (r == -EEXIST)
		return 0;
	if (r < 0)
		return r;
	/* A positive value means a blacklist or a command line stopped it. */
	if (r > 0)
		return -EPERM;
	/* Who loaded it (we, or udev before us) is worth a debug line. */
	if (sink->fn != NULL) {
		snprintf(msg, sizeof(msg), "%s loaded", kmod_module_get_name(mod));
		sink->fn(msg, sink->data);
	}
	return 0;
}

int module_load(const char *kmod_dir, const char *name, module_debug_fn debug, void *data)
{
	struct debug_sink sink = { .fn = debug, .data = data };
	struct kmod_list *list = NULL, *l;
	struct kmod_ctx *ctx;
	int r;

	ctx = kmod_new(kmod_dir, NULL);
	if (ctx == NULL)
		return -ENOMEM;
	if (debug != NULL)
		kmod_set_log_fn(ctx, kmod_log, &sink);
	else
		kmod_set_log_priority(ctx, 0);

	r = kmod_module_new_from_lookup(ctx, name, &list);
	if (r < 0 || list == NULL) {
		r = -ENOENT;
		goto out;
	}
	r = -ENOENT;
	kmod_list_foreach(l, list) {
		struct kmod_module *mod = kmod_module_get_module(l);

		r = insert_module(mod, &sink);
		kmod_module_unref(mod);
		break;
	}
	kmod_module_unref_list(list);
out:
	kmod_unref(ctx);
	return r;
}
