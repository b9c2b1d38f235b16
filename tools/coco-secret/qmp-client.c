// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The QMP client coco-secret launch drives a paused QEMU with. The peer
 * is the host, which the owner does not trust: every reply has a
 * deadline, a message has a size limit, and anything that is not the
 * answer to the command just sent (a reply with another id, a greeting
 * without "QMP", garbage) ends the conversation with one line that
 * names the socket and the fault. Events in between are skipped, but
 * they do not extend the deadline, so a peer cannot stall us with them.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "coco-secret.h"
#include "qmp-client.h"

/* QMP's answers to our commands are small; anything larger is not one. */
#define QMP_MAX_MESSAGE (64 * 1024)

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The buffered bytes up to the first newline, as a string; NULL if none. */
static char *take_line(struct qmp *q)
{
	char *nl = memchr(q->buf, '\n', q->len);
	size_t n;
	char *line;

	if (nl == NULL)
		return NULL;
	n = (size_t)(nl - q->buf);
	line = strndup(q->buf, n);
	memmove(q->buf, nl + 1, q->len - n - 1);
	q->len -= n + 1;
	return line;
}

/* One line from the peer before @deadline; NULL after saying why. */
static char *read_line(struct qmp *q, const char *what, long long deadline)
{
	struct pollfd p = { .fd = q->fd, .events = POLLIN };
	char *line;
	ssize_t got;
	long long left;
	int r;

	while ((line = take_line(q)) == NULL) {
		if (q->len >= QMP_MAX_MESSAGE) {
			err("QMP %s: %s: a message over %d bytes: not QEMU's", q->path, what,
			    QMP_MAX_MESSAGE);
			return NULL;
		}
		left = deadline - now_ms();
		r = poll(&p, 1, left > 0 ? (int)left : 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0) {
			err("QMP %s: %s: no answer within %d s", q->path, what,
			    q->timeout_ms / 1000);
			return NULL;
		}
		got = r < 0 ? -1 : read(q->fd, q->buf + q->len, QMP_MAX_MESSAGE - q->len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			err("QMP %s: %s: %s", q->path, what,
			    got == 0 ? "the peer closed the connection" : strerror(errno));
			return NULL;
		}
		q->len += (size_t)got;
	}
	return line;
}

/* The next JSON object from the peer; NULL after saying why. */
static json_object *read_message(struct qmp *q, const char *what, long long deadline)
{
	char *line = read_line(q, what, deadline);
	json_object *o;

	if (line == NULL)
		return NULL;
	o = json_tokener_parse(line);
	free(line);
	if (o == NULL || !json_object_is_type(o, json_type_object)) {
		err("QMP %s: %s: the peer sent something that is not a JSON object", q->path, what);
		json_object_put(o);
		return NULL;
	}
	return o;
}

static int send_all(struct qmp *q, const char *what, const char *s)
{
	size_t len = strlen(s), done = 0;
	ssize_t n;

	while (done < len) {
		n = send(q->fd, s + done, len - done, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err("QMP %s: %s: cannot send: %s", q->path, what, strerror(errno));
			return -1;
		}
		done += (size_t)n;
	}
	return 0;
}

/* QEMU's error reply, in its own words (class and description). */
static void say_error(struct qmp *q, const char *cmd, json_object *e)
{
	json_object *cls = NULL, *desc = NULL;

	json_object_object_get_ex(e, "class", &cls);
	json_object_object_get_ex(e, "desc", &desc);
	err("QMP %s: %s failed: %s%s%s", q->path, cmd,
	    desc ? json_object_get_string(desc) : "no description",
	    cls ? ", " : "", cls ? json_object_get_string(cls) : "");
}

/* Waits for the reply with our id, skipping events; 0 with *ret, or QMP_*. */
static int await_reply(struct qmp *q, const char *cmd, unsigned id, json_object **ret)
{
	long long deadline = now_ms() + q->timeout_ms;
	json_object *m, *v;

	for (;;) {
		m = read_message(q, cmd, deadline);
		if (m == NULL)
			return QMP_NO_ANSWER;
		if (json_object_object_get_ex(m, "event", NULL)) {
			json_object_put(m);
			continue;
		}
		if (!json_object_object_get_ex(m, "id", &v) ||
		    !json_object_is_type(v, json_type_int) || json_object_get_int64(v) != id) {
			err("QMP %s: %s: a reply that is not to this command (wrong or no id)",
			    q->path, cmd);
			json_object_put(m);
			return QMP_NO_ANSWER;
		}
		break;
	}
	if (json_object_object_get_ex(m, "error", &v)) {
		say_error(q, cmd, v);
		json_object_put(m);
		return QMP_REFUSED;
	}
	if (!json_object_object_get_ex(m, "return", &v)) {
		err("QMP %s: %s: a reply with neither return nor error", q->path, cmd);
		json_object_put(m);
		return QMP_NO_ANSWER;
	}
	*ret = json_object_get(v);
	json_object_put(m);
	return 0;
}

int qmp_execute(struct qmp *q, const char *cmd, json_object *args, json_object **ret)
{
	json_object *msg = json_object_new_object();
	unsigned id = ++q->next_id;
	int r;

	*ret = NULL;
	json_object_object_add(msg, "execute", json_object_new_string(cmd));
	if (args)
		json_object_object_add(msg, "arguments", args);
	json_object_object_add(msg, "id", json_object_new_int64(id));
	r = send_all(q, cmd, json_object_to_json_string_ext(msg, JSON_C_TO_STRING_PLAIN));
	if (r == 0)
		r = send_all(q, cmd, "\r\n");
	json_object_put(msg);
	return r < 0 ? QMP_NO_ANSWER : await_reply(q, cmd, id, ret);
}

static int connect_socket(struct qmp *q)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	if (strlen(q->path) >= sizeof(sa.sun_path)) {
		err("QMP %s: the socket path is too long", q->path);
		return -1;
	}
	strcpy(sa.sun_path, q->path);
	q->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (q->fd < 0 || connect(q->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		err("QMP %s: cannot connect: %s", q->path, strerror(errno));
		return -1;
	}
	return 0;
}

int qmp_open(struct qmp *q, const char *path, int timeout_s)
{
	json_object *greeting, *ret = NULL;
	bool is_qmp;

	memset(q, 0, sizeof(*q));
	q->path = path;
	q->fd = -1;
	q->timeout_ms = timeout_s * 1000;
	q->buf = malloc(QMP_MAX_MESSAGE);
	if (q->buf == NULL || connect_socket(q) < 0)
		return -1;
	greeting = read_message(q, "greeting", now_ms() + q->timeout_ms);
	if (greeting == NULL)
		return -1;
	is_qmp = json_object_object_get_ex(greeting, "QMP", NULL);
	json_object_put(greeting);
	if (!is_qmp) {
		err("QMP %s: the greeting is not QMP's", path);
		return -1;
	}
	if (qmp_execute(q, "qmp_capabilities", NULL, &ret) < 0)
		return -1;
	json_object_put(ret);
	return 0;
}

void qmp_close(struct qmp *q)
{
	if (q->fd >= 0)
		close(q->fd);
	free(q->buf);
	q->fd = -1;
	q->buf = NULL;
}
