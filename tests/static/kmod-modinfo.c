// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Test only: prints the .modinfo of a module file as libkmod reads it
 * ("key=value" lines), linked against the static build's libkmod, so that
 * tests/static/test-kmod-zstd.sh can show that libkmod reads what
 * distributions ship (Ubuntu's .ko.zst). Exit 1 when it cannot.
 */
#include <stdio.h>
#include <string.h>

#include <libkmod.h>

int main(int argc, char **argv)
{
	struct kmod_list *info = NULL, *l;
	struct kmod_module *mod = NULL;
	struct kmod_ctx *ctx;
	int r;

	if (argc != 2) {
		fprintf(stderr, "usage: kmod-modinfo MODULE-FILE\n");
		return 2;
	}
	ctx = kmod_new("/nonexistent", NULL);
	if (ctx == NULL)
		return 1;
	r = kmod_module_new_from_path(ctx, argv[1], &mod);
	if (r == 0)
		r = kmod_module_get_info(mod, &info);
	if (r < 0)
		fprintf(stderr, "kmod-modinfo: %s: %s\n", argv[1], strerror(-r));
	kmod_list_foreach(l, info)
		printf("%s=%s\n", kmod_module_info_get_key(l), kmod_module_info_get_value(l));
	kmod_module_info_free_list(info);
	kmod_module_unref(mod);
	kmod_unref(ctx);
	return r < 0 ? 1 : 0;
}
