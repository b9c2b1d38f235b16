// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Messages: one line each, prefixed with the program name, on stderr so
 * that stdout carries only what a command was asked to print. Callers
 * pass GUIDs, paths, sizes and reasons, never secret bytes.
 */
#include <stdarg.h>
#include <stdio.h>

#include "coco-secret.h"

bool verbose;

static void vsay(const char *fmt, va_list ap)
{
	fputs("coco-secret: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsay(fmt, ap);
	va_end(ap);
}

void info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsay(fmt, ap);
	va_end(ap);
}
