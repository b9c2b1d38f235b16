// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Waiting for devices to appear: the wait wakes when the kernel (or
 * udev) says a block device was added or changed, instead of looking
 * again on a fixed tick. The source, in order of preference:
 *   - with --devices-dir (the tests), inotify on that directory: its
 *     files are the devices;
 *   - else a NETLINK_KOBJECT_UEVENT socket on the kernel's group (the
 *     device node exists, devtmpfs made it, when the event is sent) and
 *     udev's (the /dev/disk/by-label/ and by-partuuid/ links that LABEL=
 *     and PARTUUID= volumes resolve through exist once udev says so);
 *   - else inotify on /dev;
 *   - else the old look every 100 ms.
 * A message only ever means "look again": what is looked at is read
 * from the devices themselves, so nothing a message says is trusted
 * (who sent it, or what device it names). The host can hot-plug and
 * unplug disks as fast as it likes: each wake-up reads a bounded number
 * of messages, and looks are spaced by LOOK_GAP_MS, so a flood costs
 * bounded work and the caller's deadline (CLOCK_MONOTONIC) still holds.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/netlink.h>

#include "coco-unlock.h"

#define POLL_INTERVAL_MS 100
/*
 * Events can be missed without the socket saying so: a device node or
 * link made by something that is neither the kernel nor udev (a hook's
 * mknod or ln -s), udev's group not reaching us, an inotify queue that
 * overflowed, a header written onto a device that was already there.
 * The slow tick bounds what such a miss costs.
 */
#define SAFETY_TICK_MS 1000
/*
 * An event may come a little before the device can be read (inotify on
 * /dev sees the node before the disk is opened for reading; a file is
 * created before it is written): after a look that an event caused, the
 * next one comes sooner.
 */
#define SETTLE_TICK_MS 100
/* At most one look per LOOK_GAP_MS when events keep coming. */
#define LOOK_GAP_MS 10
/* Messages read per wake-up, at most. */
#define DRAIN_MAX 64
/* uevents are at most 2 KiB (UEVENT_BUFFER_SIZE); udev's somewhat more. */
#define MESSAGE_MAX 8192

#define UEVENT_GROUP_KERNEL 1u
#define UEVENT_GROUP_UDEV 2u
/* libudev's message header: "libudev\0", magic (big-endian), sizes... */
#define UDEV_PREFIX "libudev"
#define UDEV_MAGIC 0xfeedcafeu
#define UDEV_MAGIC_OFFSET 8
#define UDEV_PROPERTIES_OFFSET 16
#define UDEV_HEADER_MIN 40

/* The clock of every wait and deadline (volumes.c's too). */
long long monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_until(long long when_ms)
{
	struct timespec ts = { when_ms / 1000, (when_ms % 1000) * 1000000 };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

static long long min_ll(long long a, long long b)
{
	return a < b ? a : b;
}

/* Where the NUL-separated KEY=VALUE list starts; false if not a uevent. */
static bool uevent_properties(const char *msg, size_t len, size_t *off)
{
	const char *end;
	uint32_t magic, props;

	if (len >= UDEV_HEADER_MIN && memcmp(msg, UDEV_PREFIX, sizeof(UDEV_PREFIX)) == 0) {
		memcpy(&magic, msg + UDEV_MAGIC_OFFSET, sizeof(magic));
		memcpy(&props, msg + UDEV_PROPERTIES_OFFSET, sizeof(props));
		if (ntohl(magic) != UDEV_MAGIC || props < UDEV_HEADER_MIN || props >= len)
			return false;
		*off = props;
		return true;
	}
	/* The kernel's: "ACTION@DEVPATH" first. */
	end = memchr(msg, '\0', len);
	if (end == NULL || memchr(msg, '@', (size_t)(end - msg)) == NULL)
		return false;
	*off = (size_t)(end - msg) + 1;
	return true;
}

static bool property_is(const char *kv, size_t n, const char *want)
{
	return n == strlen(want) && memcmp(kv, want, n) == 0;
}

/* A block device was added or changed: a kernel or a udev message. */
bool uevent_shows_block_device(const char *msg, size_t len)
{
	bool block = false, appears = false;
	size_t off;

	if (!uevent_properties(msg, len, &off))
		return false;
	while (off < len) {
		const char *kv = msg + off;
		size_t n = strnlen(kv, len - off);

		if (property_is(kv, n, "SUBSYSTEM=block"))
			block = true;
		else if (property_is(kv, n, "ACTION=add") || property_is(kv, n, "ACTION=change"))
			appears = true;
		off += n + 1;
	}
	return block && appears;
}

static int open_uevent(void)
{
	struct sockaddr_nl sa = {
		.nl_family = AF_NETLINK,
		.nl_groups = UEVENT_GROUP_KERNEL | UEVENT_GROUP_UDEV,
	};
	int fd, r;

	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_KOBJECT_UEVENT);
	if (fd < 0)
		return -errno;
	r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	if (r < 0) {
		/* udev's group may be refused where the kernel's is not. */
		sa.nl_groups = UEVENT_GROUP_KERNEL;
		r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	}
	if (r < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

static int open_inotify(const char *dir)
{
	int fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK), r;

	if (fd < 0)
		return -errno;
	/* Created, renamed in, or written and closed (a copy ends so). */
	if (inotify_add_watch(fd, dir, IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

void device_events_open(struct device_events *ev, const char *devices_dir)
{
	int r = -ENOENT, fd;

	memset(ev, 0, sizeof(*ev));
	ev->fd = -1;
	ev->source = DEVICE_EVENTS_POLL;
	if (devices_dir != NULL) {
		fd = open_inotify(devices_dir);
		if (fd >= 0) {
			ev->fd = fd;
			ev->source = DEVICE_EVENTS_INOTIFY;
			snprintf(ev->what, sizeof(ev->what), "inotify on %s", devices_dir);
			return;
		}
		snprintf(ev->what, sizeof(ev->what), "inotify on %s: %s", devices_dir, strerror(-fd));
		return;
	}
	fd = open_uevent();
	if (fd >= 0) {
		ev->fd = fd;
		ev->source = DEVICE_EVENTS_UEVENT;
		snprintf(ev->what, sizeof(ev->what), "uevents (netlink)");
		return;
	}
	r = fd;
	fd = open_inotify("/dev");
	if (fd >= 0) {
		ev->fd = fd;
		ev->source = DEVICE_EVENTS_INOTIFY;
		snprintf(ev->what, sizeof(ev->what), "inotify on /dev (no uevent socket: %s)",
			 strerror(-r));
		return;
	}
	snprintf(ev->what, sizeof(ev->what), "uevent netlink: %s, inotify on /dev: %s",
		 strerror(-r), strerror(-fd));
}

/* Reads what is queued (at most DRAIN_MAX messages); true if a look is due. */
static bool drain_uevent(struct device_events *ev)
{
	static char msg[MESSAGE_MAX];
	bool look = false;
	int i;

	for (i = 0; i < DRAIN_MAX; i++) {
		ssize_t n = recv(ev->fd, msg, sizeof(msg), MSG_DONTWAIT | MSG_TRUNC);

		if (n < 0 && errno == EINTR)
			continue;
		/* ENOBUFS: the queue overflowed and events were lost. */
		if (n < 0 && errno == ENOBUFS) {
			look = true;
			continue;
		}
		if (n < 0)
			break;
		ev->messages++;
		/* Cut short: it may have been about a disk. */
		if ((size_t)n > sizeof(msg) || uevent_shows_block_device(msg, (size_t)n))
			look = true;
	}
	return look;
}

static bool drain_inotify(struct device_events *ev)
{
	static char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool look = false;
	int i;

	for (i = 0; i < DRAIN_MAX; i++) {
		ssize_t n = read(ev->fd, buf, sizeof(buf)), off;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		/* Every name in the watched directory may be a device; overflow too. */
		look = true;
		for (off = 0; off + (ssize_t)sizeof(struct inotify_event) <= n;
		     off += (ssize_t)sizeof(struct inotify_event) + ((struct inotify_event *)(buf + off))->len)
			ev->messages++;
	}
	return look;
}

/* The old way: one look every POLL_INTERVAL_MS. */
static void wait_polling(long long deadline_ms)
{
	sleep_until(min_ll(monotonic_ms() + POLL_INTERVAL_MS, deadline_ms));
}

static void announce(struct device_events *ev)
{
	if (ev->announced)
		return;
	ev->announced = true;
	if (ev->source == DEVICE_EVENTS_POLL)
		log_debug("cannot watch for devices (%s): looking every %d ms", ev->what,
			  POLL_INTERVAL_MS);
	else
		log_debug("watching for devices with %s", ev->what);
}

/*
 * Returns when a device may have appeared, at the safety tick, or at
 * @deadline_ms (monotonic_ms()): the caller looks again either way.
 */
void device_events_wait(struct device_events *ev, long long deadline_ms)
{
	struct pollfd pfd = { .fd = ev->fd, .events = POLLIN };
	long long now, until;

	announce(ev);
	if (ev->source == DEVICE_EVENTS_POLL) {
		wait_polling(deadline_ms);
		return;
	}
	if (ev->event_looks > 0)
		sleep_until(min_ll(ev->last_look_ms + LOOK_GAP_MS, deadline_ms));
	now = monotonic_ms();
	until = min_ll(now + (ev->settle ? SETTLE_TICK_MS : SAFETY_TICK_MS), deadline_ms);
	ev->settle = false;
	while (now < until) {
		int r = poll(&pfd, 1, (int)(until - now));
		bool look;

		if (r < 0 && errno != EINTR) {
			log_debug("waiting for device events: %s; looking every %d ms from now on",
				  strerror(errno), POLL_INTERVAL_MS);
			close(ev->fd);
			ev->fd = -1;
			ev->source = DEVICE_EVENTS_POLL;
			return;
		}
		if (r > 0) {
			unsigned int read_before = ev->messages;

			ev->wakes++;
			look = ev->source == DEVICE_EVENTS_UEVENT ? drain_uevent(ev) : drain_inotify(ev);
			if (look) {
				ev->event_looks++;
				ev->last_look_ms = monotonic_ms();
				ev->settle = true;
				return;
			}
			/* Woken with nothing to read (an error state): not a spin. */
			if (ev->messages == read_before)
				sleep_until(min_ll(monotonic_ms() + POLL_INTERVAL_MS, until));
		}
		now = monotonic_ms();
	}
	if (until < deadline_ms)
		ev->ticks++;
}

void device_events_close(struct device_events *ev)
{
	if (ev->announced && ev->source != DEVICE_EVENTS_POLL)
		log_debug("device wait: %u look(s) on an event, %u on the tick; %u wake-up(s), "
			  "%u event(s) read", ev->event_looks, ev->ticks, ev->wakes, ev->messages);
	if (ev->fd >= 0)
		close(ev->fd);
	ev->fd = -1;
}
