// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Several volumes at once. Deriving a keyslot's key is the slow part of
 * an unlock, and independent volumes need not wait for each other: when
 * more than one volume is present and more than one CPU is online, each
 * one is unlocked by unlock_volume() in a worker process of its own.
 * Processes, not threads: libcryptsetup and libdevmapper keep global
 * state (log callback, crypto backend, device-mapper control, udev
 * cookies), and systemd-cryptsetup too opens each volume in a process of
 * its own. With --serial, one CPU or one volume: no worker, as before.
 *
 *   - At most as many workers at once as CPUs online.
 *   - Argon2 takes memory: a volume whose plan may try argon2 keyslots
 *     starts only while the largest of their memory, with that of the
 *     argon2 workers running, fits the hostile-host budget (half of
 *     MemAvailable, at most 4 GiB; --parallel-memory, a test knob, lowers
 *     it); otherwise it waits for a worker to end. With no argon2 worker
 *     running it always starts, as it would alone. PBKDF2 counts nothing.
 *     A worker's policy refuses argon2 memory over its grant, so a header
 *     changed since the parent read it cannot take more.
 *   - Before the fork the parent reads each header (for that memory) and
 *     makes the volume's plan without a word, marks the plan's secrets
 *     used and records them for the late wipe, and reads (and so unlinks)
 *     each secret that more than one volume may need: after that the copy
 *     the workers inherit (locked again in each) is the only one.
 *   - A worker reports in a MAP_SHARED anonymous mapping made before the
 *     fork, never through a pipe and never a secret byte: its volume's
 *     state, UUID and name, the secrets it marked used, and, as it goes,
 *     those it unlinked. A worker killed halfway leaves its volume closed;
 *     the parent's final wipe removes what its plan named.
 * Messages stay the ones unlock_volume() writes, one write() per line
 * (log.c), interleaved between volumes.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "coco-unlock.h"
#include "header-policy.h"
#include "luks-header.h"

/* A worker's exit status when it could not lock memory: the parent unlocks that volume. */
#define WORKER_NO_LOCK 70

/* What a worker tells the parent: no secret byte. */
struct worker_report {
	volatile sig_atomic_t done;		/* the fields below are final */
	volatile sig_atomic_t state;		/* enum volume_state */
	volatile sig_atomic_t wipe_failed;
	volatile sig_atomic_t used[MAX_SECRETS];
	volatile sig_atomic_t wiped[MAX_SECRETS];	/* live: wipe.c's mirror */
	char uuid[UUID_STRING_LEN + 1];
	char name[MAPPING_NAME_MAX];
};

enum job_state { JOB_WAITING, JOB_RUNNING, JOB_DONE };

struct job {
	struct volume *v;
	bool secrets[MAX_SECRETS];	/* what its plan names */
	uint64_t memory_kib;		/* largest argon2 memory among the keyslots it may try */
	enum job_state state;
	bool said_wait;
	pid_t pid;
	struct worker_report *report;
};

struct dispatch {
	const struct config *cfg;
	const struct options *opts;
	struct secret_area *area;
	struct secret_mem *mem;
	struct job jobs[MAX_VOLUMES];
	size_t n;
	size_t running;
	size_t max_running;
	uint64_t budget_kib;
	uint64_t in_use_kib;
	pid_t parent;
};

static size_t worker_limit(const struct options *opts, size_t n)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	if (opts->serial || n < 2 || cpus < 2)
		return 1;
	return (size_t)cpus < n ? (size_t)cpus : n;
}

/* The argon2 memory of the keyslots @plan may try that the policy lets through. */
static uint64_t plan_memory(const struct luks_header *h, const struct key_plan *plan, bool detached,
			    const struct kdf_budget *budget)
{
	bool active[LUKS2_KEYSLOTS], judged[LUKS2_KEYSLOTS] = { false };
	char why[LUKS_WHY_MAX];
	uint64_t most = 0, m;
	size_t i;
	int k;

	luks_header_keyslots(h, active);
	for (i = 0; i < plan->n; i++)
		for (k = 0; k < LUKS2_KEYSLOTS; k++) {
			if (!active[k] || judged[k] ||
			    (plan->c[i].keyslot != ANY_KEYSLOT && plan->c[i].keyslot != k))
				continue;
			judged[k] = true;
			if (header_policy_check_keyslot(h, k, detached, budget, why) < 0)
				continue;
			m = header_policy_keyslot_memory(h, k);
			most = m > most ? m : most;
		}
	return most;
}

/* What unlock_volume() will plan for the volume, and its memory; silent. */
static void preview(const struct dispatch *d, struct job *j, const struct kdf_budget *budget)
{
	static struct volume v;		/* with the header's UUID, as read_header() fills it */
	struct coco_token tokens[MAX_TOKENS];
	const char *source;
	char why[LUKS_WHY_MAX];
	struct luks_header h;
	struct key_plan plan;
	bool have;
	int n = 0;
	size_t i;

	v = *j->v;
	source = v.options.header[0] ? v.options.header : v.path;
	have = luks_header_read(source, &h, why) == 0 && (v.uuid[0] == '\0' || strcmp(h.uuid, v.uuid) == 0);
	if (have && v.uuid[0] == '\0')
		memcpy(v.uuid, h.uuid, sizeof(v.uuid));
	if (have && h.version == 2)
		n = coco_tokens_from_json(h.json, tokens, MAX_TOKENS);
	key_plan_preview(d->cfg, &v, d->area, n > 0 ? tokens : NULL, n > 0 ? (size_t)n : 0, &plan);
	for (i = 0; i < plan.n; i++)
		j->secrets[plan.c[i].secret] = true;
	j->memory_kib = have ? plan_memory(&h, &plan, v.options.header[0] != '\0', budget) : 0;
	luks_header_free(&h);
}

/*
 * Used and recorded now, so a worker killed before its first read leaves
 * them to the parent's wipe; read now when several volumes may need them.
 */
static void claim_secrets(struct dispatch *d, bool more_to_come)
{
	struct secret_area *area = d->area;
	size_t count[MAX_SECRETS] = { 0 };
	size_t i, s;

	for (i = 0; i < d->n; i++)
		for (s = 0; s < area->count; s++)
			if (d->jobs[i].secrets[s]) {
				if (!area->used[s])
					wipe_record(area, s);
				area->used[s] = 1;
				count[s]++;
			}
	if (area->after_read == NULL)
		return;		/* rd.coco.wipe=none: each worker reads the file itself */
	for (s = 0; s < area->count; s++)
		if (count[s] > 1 || (count[s] == 1 && more_to_come))
			secret_area_preload(area, s);
}

/* The locks are not inherited: the copies this process writes lock again. */
static int relock(struct secret_area *area, struct secret_mem *mem)
{
	if (mlock(area->store.data, area->store.mapped) < 0 ||
	    mlock(mem->secret.data, mem->secret.mapped) < 0 ||
	    mlock(mem->key.data, mem->key.mapped) < 0)
		return -errno;
	return 0;
}

static _Noreturn void worker_main(struct dispatch *d, struct job *j)
{
	struct worker_report *rep = j->report;
	struct secret_area *area = d->area;
	struct volume *v = j->v;
	size_t i;

	/* The parent gone, its handler has wiped; this one zeroes and ends too. */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != d->parent)
		raise(SIGTERM);
	if (relock(area, d->mem) < 0)
		_exit(WORKER_NO_LOCK);
	/* Guards its own volume's secrets only (wipe.c). */
	for (i = 0; i < area->count; i++)
		area->used[i] = j->secrets[i];
	wipe_guard_worker(rep->wiped);
	kdf_budget_cap_memory(j->memory_kib);

	unlock_volume(d->cfg, d->opts, area, d->mem, v);

	for (i = 0; i < area->count; i++)
		rep->used[i] = area->used[i];
	rep->wipe_failed = area->wipe_failed;
	rep->state = v->state;
	memcpy(rep->uuid, v->uuid, sizeof(rep->uuid));
	memcpy(rep->name, v->name, sizeof(rep->name));
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	rep->done = 1;
	explicit_bzero(area->store.data, area->store.mapped);
	secret_buf_clear(&d->mem->secret);
	secret_buf_clear(&d->mem->key);
	/* No atexit handlers, no stdio flush: those are the parent's. */
	_exit(0);
}

static void start(struct dispatch *d, struct job *j)
{
	pid_t pid;

	memset((void *)j->report, 0, sizeof(*j->report));
	pid = fork();
	if (pid == 0)
		worker_main(d, j);
	if (pid < 0) {
		log_debug("%s: cannot start a worker (%s): unlocking it here", volume_label(j->v),
			  strerror(errno));
		unlock_volume(d->cfg, d->opts, d->area, d->mem, j->v);
		j->state = JOB_DONE;
		return;
	}
	j->pid = pid;
	j->state = JOB_RUNNING;
	d->running++;
	d->in_use_kib += j->memory_kib;
	log_debug("%s: worker %d started: argon2 memory %llu KiB, %llu of %llu KiB in use, %zu running",
		  volume_label(j->v), (int)pid, (unsigned long long)j->memory_kib,
		  (unsigned long long)d->in_use_kib, (unsigned long long)d->budget_kib, d->running);
}

/* Argon2 memory: what is running and this one fit, or no argon2 worker runs. */
static bool fits(const struct dispatch *d, const struct job *j)
{
	return j->memory_kib == 0 || d->in_use_kib == 0 || d->in_use_kib + j->memory_kib <= d->budget_kib;
}

/* A worker that ended without a report: its volume stays closed (unless it got as far as the mapping). */
static void worker_lost(struct dispatch *d, struct job *j, int status)
{
	struct volume *v = j->v;
	char how[48];

	if (WIFSIGNALED(status))
		snprintf(how, sizeof(how), "killed by signal %d", WTERMSIG(status));
	else
		snprintf(how, sizeof(how), "ended with status %d", WEXITSTATUS(status));
	v->state = VOLUME_CLOSED;
	if (!d->opts->dry_run && v->uuid[0] != '\0' &&
	    mapping_state(v->name, v->uuid, v->path) == MAPPING_OURS) {
		log_err("%s: its worker was %s after the mapping was made", volume_label(v), how);
		v->state = VOLUME_OPEN;
		return;
	}
	log_err("%s: its worker was %s; left closed for the passphrase prompt", volume_label(v), how);
}

/* The report into the parent's state: the secrets first, whatever the end. */
static void finish(struct dispatch *d, struct job *j, int status)
{
	struct worker_report *rep = j->report;
	struct secret_area *area = d->area;
	size_t i;

	d->running--;
	d->in_use_kib -= j->memory_kib;
	j->state = JOB_DONE;
	for (i = 0; i < area->count; i++) {
		if (rep->wiped[i])
			area->wiped[i] = 1;
		if (rep->done && rep->used[i])
			area->used[i] = 1;
	}
	if (rep->wipe_failed)
		area->wipe_failed = true;
	if (rep->done && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		j->v->state = rep->state;
		memcpy(j->v->uuid, rep->uuid, sizeof(j->v->uuid));
		memcpy(j->v->name, rep->name, sizeof(j->v->name));
		j->v->uuid[sizeof(j->v->uuid) - 1] = '\0';
		j->v->name[sizeof(j->v->name) - 1] = '\0';
	} else if (WIFEXITED(status) && WEXITSTATUS(status) == WORKER_NO_LOCK) {
		log_debug("%s: its worker could not lock memory: unlocking it here", volume_label(j->v));
		unlock_volume(d->cfg, d->opts, area, d->mem, j->v);
	} else {
		worker_lost(d, j, status);
	}
}

static void reap_one(struct dispatch *d)
{
	int status;
	pid_t pid;
	size_t i;

	for (;;) {
		pid = waitpid(-1, &status, 0);
		if (pid < 0 && errno == EINTR)
			continue;
		if (pid < 0) {
			/* No child left that we know of: those counted as running are lost. */
			log_err("cannot wait for the workers: %s", strerror(errno));
			for (i = 0; i < d->n; i++)
				if (d->jobs[i].state == JOB_RUNNING)
					finish(d, &d->jobs[i], SIGKILL);	/* as if killed */
			return;
		}
		for (i = 0; i < d->n; i++)
			if (d->jobs[i].state == JOB_RUNNING && d->jobs[i].pid == pid) {
				finish(d, &d->jobs[i], status);
				return;
			}
	}
}

/* Starts what may start, in order (a volume that must wait lets the next one by). */
static void start_ready(struct dispatch *d)
{
	size_t i;

	for (i = 0; i < d->n && d->running < d->max_running; i++) {
		struct job *j = &d->jobs[i];

		if (j->state != JOB_WAITING)
			continue;
		if (fits(d, j)) {
			start(d, j);
		} else if (!j->said_wait) {
			j->said_wait = true;
			log_debug("%s waits for memory: its argon2 keyslots take %llu KiB, %llu of %llu KiB are in use",
				  volume_label(j->v), (unsigned long long)j->memory_kib,
				  (unsigned long long)d->in_use_kib, (unsigned long long)d->budget_kib);
		}
	}
}

static size_t unfinished(const struct dispatch *d)
{
	size_t i, n = 0;

	for (i = 0; i < d->n; i++)
		n += d->jobs[i].state != JOB_DONE;
	return n;
}

static void run_parallel(struct dispatch *d, struct volume **volumes, bool more_to_come)
{
	struct worker_report *reports;
	struct kdf_budget budget;
	size_t i;

	reports = mmap(NULL, d->n * sizeof(*reports), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (reports == MAP_FAILED) {
		log_debug("no shared memory for the workers (%s): one volume at a time", strerror(errno));
		for (i = 0; i < d->n; i++)
			unlock_volume(d->cfg, d->opts, d->area, d->mem, volumes[i]);
		return;
	}
	kdf_budget_default(&budget);
	d->budget_kib = budget.argon2_max_kib;
	if (d->opts->parallel_memory_kib > 0 && d->opts->parallel_memory_kib < d->budget_kib)
		d->budget_kib = d->opts->parallel_memory_kib;
	for (i = 0; i < d->n; i++) {
		d->jobs[i] = (struct job){ .v = volumes[i], .report = &reports[i] };
		preview(d, &d->jobs[i], &budget);
	}
	claim_secrets(d, more_to_come);
	log_debug("unlocking %zu volumes, at most %zu at once, argon2 within %llu KiB", d->n,
		  d->max_running, (unsigned long long)d->budget_kib);
	while (unfinished(d) > 0) {
		start_ready(d);
		if (d->running > 0)
			reap_one(d);
	}
	munmap(reports, d->n * sizeof(*reports));
}

/*
 * Unlocks @volumes (present, located), in parallel where it pays.
 * @more_to_come: volumes still wait for their devices, and may need a
 * secret these use.
 */
void workers_unlock(const struct config *cfg, const struct options *opts,
		    struct secret_area *area, struct secret_mem *mem,
		    struct volume **volumes, size_t n, bool more_to_come)
{
	static struct dispatch d;
	size_t i, max = worker_limit(opts, n);

	if (max < 2) {
		for (i = 0; i < n; i++)
			unlock_volume(cfg, opts, area, mem, volumes[i]);
		return;
	}
	memset(&d, 0, sizeof(d));
	d.cfg = cfg;
	d.opts = opts;
	d.area = area;
	d.mem = mem;
	d.n = n;
	d.max_running = max;
	d.parent = getpid();
	run_parallel(&d, volumes, more_to_come);
}
