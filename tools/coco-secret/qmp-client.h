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
/* qmp_execute()'s failures: QEMU refused the command, or no usable answer came. */
#define QMP_REFUSED (-2)
#define QMP_NO_ANSWER (-1)

/*
 * Runs @cmd with @args (taken, may be NULL); 0 and the "return" value in
 * *@ret (the caller puts it), or after saying why QMP_REFUSED (an "error"
 * reply: the command did nothing) or QMP_NO_ANSWER (a timeout, a closed
 * socket, a reply that is not QMP: whether it ran is unknown).
 */
int qmp_execute(struct qmp *q, const char *cmd, json_object *args, json_object **ret);
