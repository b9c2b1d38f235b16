/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A QMP client for coco-secret launch (qmp-client.c): one UNIX socket,
 * one command at a time, every reply awaited for a bounded time.
 */
#pragma once

#include <json-c/json.h>

struct qmp {
	const char *path;	/* for messages */
	int fd;
	int timeout_ms;		/* per reply */
	unsigned next_id;
	char *buf;		/* bytes received, not yet a whole line */
	size_t len;
};

/* Connects, reads the greeting, negotiates; -1 after saying why. */
int qmp_open(struct qmp *q, const char *path, int timeout_s);
void qmp_close(struct qmp *q);
/*
 * Runs @cmd with @args (taken, may be NULL); the "return" value in
 * *@ret (the caller puts it), or -1 after saying why (QEMU's error, a
 * timeout, a reply that is not QMP).
 */
int qmp_execute(struct qmp *q, const char *cmd, json_object *args, json_object **ret);
