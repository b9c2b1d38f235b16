// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * What convert leaves beside the image for the owner's launch: vmlinuz
 * and initrd.img (written by convert-root.sh), the kernel command line,
 * the secret table (table.c, as build makes it) and, given the firmware,
 * the launch digests to expect (coco-secret measure, run as a child of
 * this very binary so that it is the same code).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coco-secret.h"
#include "convert.h"

static int write_text(const char *dir, const char *name, const char *text)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "we");
	if (f == NULL || fputs(text, f) == EOF || fclose(f) == EOF) {
		err("cannot write %s: %s", path, strerror(errno));
		return -EIO;
	}
	return 0;
}

static int write_cmdline(const struct convert_options *o, char *cmdline, size_t size)
{
	char line[4096 + 2];

	snprintf(cmdline, size, "root=/dev/mapper/%s ro%s%s%s", CONVERT_MAPPING,
		 o->no_poweroff ? "" : " rd.coco.on-failure=poweroff", o->append ? " " : "",
		 o->append ? o->append : "");
	snprintf(line, sizeof(line), "%s\n", cmdline);
	return write_text(o->export_dir, "cmdline", line);
}

/* One digest per mode (comma-separated), into measure-MODE.txt. */
static int export_measure(const struct convert_options *o, const char *cmdline)
{
	char kernel[PATH_MAX], initrd[PATH_MAX], mode[16];
	const char *p = o->measure_modes;
	int r = 0;

	snprintf(kernel, sizeof(kernel), "%s/vmlinuz", o->export_dir);
	snprintf(initrd, sizeof(initrd), "%s/initrd.img", o->export_dir);
	while (r == 0 && p && *p) {
		size_t n = strcspn(p, ",");
		const char *argv[] = {
			"/proc/self/exe", "measure",  "--mode",	 mode,	     "--ovmf",
			o->ovmf,	  "--kernel", kernel,	 "--initrd", initrd,
			"--append",	  cmdline,    "--vcpus", o->vcpus,   "--vcpu-type",
			o->vcpu_type,	  NULL
		};
		char *out = NULL, name[48];

		snprintf(mode, sizeof(mode), "%.*s", (int)(n < 15 ? n : 15), p);
		if (strcmp(mode, "sev") == 0)
			argv[12] = NULL; /* vCPUs are not measured on SEV */
		r = run_capture(argv, &out);
		if (r == 0) {
			snprintf(name, sizeof(name), "measure-%s.txt", mode);
			r = write_text(o->export_dir, name, out);
		} else
			err("coco-secret measure failed for mode %s", mode);
		free(out);
		p += n + (p[n] == ',');
	}
	return r;
}

int export_boot_files(const struct convert_work *w, const struct convert_options *o)
{
	struct table_input in = { .guid = o->guid, .path = w->secret };
	char cmdline[4096], table[PATH_MAX];
	int r;

	r = write_cmdline(o, cmdline, sizeof(cmdline));
	snprintf(table, sizeof(table), "%s/secret.table", o->export_dir);
	if (r == 0)
		r = table_build(table, &in, 1, DEFAULT_AREA_SIZE, true) == EXIT_OK ? 0 : -EIO;
	if (r == 0 && o->ovmf != NULL) {
		progress("the expected launch digests (coco-secret measure: %s)", o->measure_modes);
		r = export_measure(o, cmdline);
	}
	return r;
}
