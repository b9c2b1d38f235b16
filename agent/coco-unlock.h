/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * coco-unlock internal header: the types every part of the agent shares,
 * and one section of prototypes per source file.
 */
#pragma once

#include <dirent.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "guid.h"
#include "macro.h"
#include "module-load.h"
#include "secret-read.h"
#include "secure-mem.h"
#include "token.h"
#include "volume-key-id.h"
#include "wipe-record.h"

/* Exit statuses (SPEC "Exit status"). */
enum {
	EXIT_ALL_OPEN = 0,
	EXIT_SOME_CLOSED = 1,
	EXIT_USAGE = 2,
	EXIT_NO_SECRETS = 3,
	EXIT_WIPE_FAILED = 4,	/* a secret could not be unlinked: it is still readable */
};

/* Where the unlocking run leaves the GUIDs it planned, for --wipe-only. */
#define STATE_DIR WIPE_RECORD_DIR

/* Configured volumes, or found by a scan: room for a real disk among 32 fakes. */
#define MAX_VOLUMES 64
#define MAX_VOLUME_KEYS 32
#define MAX_TOKENS 32		/* coco-efi-secret tokens read from one header */
#define MAX_SECRETS 64		/* efi_secret exposes at most 64 files */
#define MAPPING_NAME_MAX 128	/* device-mapper names are < 128 bytes */
#define UUID_STRING_LEN 36
#define DEFAULT_TIMEOUT_SEC 30
#define MAX_TIMEOUT_SEC 86400

enum wipe_policy {
	WIPE_USED,
	WIPE_ALL,
	WIPE_NONE,
};

/* What a volume fails to: the prompt (default), or power off (rd.coco.on-failure). */
enum on_failure {
	ON_FAILURE_UNSET,
	ON_FAILURE_PROMPT,
	ON_FAILURE_POWEROFF,
};

/*
 * crypttab and cryptdevice options: the activation flags we honour, and
 * what binds the volume to the guest owner (header, pin, MAC).
 */
struct volume_options {
	bool discard;
	bool readonly;
	bool no_read_workqueue;
	bool no_write_workqueue;
	bool require_mac;			/* x-coco.require-mac */
	enum on_failure on_failure;		/* x-coco.on-failure= */
	char pin[VOLUME_KEY_ID_LEN + 1];	/* fixate-volume-key=, "" if none */
	char header[PATH_MAX];			/* header=: a detached header file */
};

/* Where a volume came from, for messages. */
enum volume_source {
	SOURCE_RD_LUKS_UUID,
	SOURCE_RD_LUKS_NAME,
	SOURCE_CRYPTDEVICE,
	SOURCE_CRYPTTAB,
	SOURCE_DISCOVERED,
};

enum volume_state {
	VOLUME_PENDING,		/* device not seen yet */
	VOLUME_OPEN,		/* unlocked now, or already active */
	VOLUME_CLOSED,		/* left for the standard units to ask */
	VOLUME_MISSING,		/* device never appeared */
};

struct volume {
	enum volume_source source;
	/* LUKS UUID in lowercase, or "" when only a device is known. */
	char uuid[UUID_STRING_LEN + 1];
	/* Device as configured: a path, or UUID=, LABEL=, PARTUUID=, PARTLABEL=. */
	char device[PATH_MAX];
	/* Mapping name; "" until config_finish() defaults it to luks-UUID. */
	char name[MAPPING_NAME_MAX];
	/* Key named by crypttab's key file. */
	bool has_crypttab_key;
	struct guid crypttab_key;
	struct volume_options options;

	/* Filled while unlocking. */
	char path[PATH_MAX];
	enum volume_state state;
	bool ambiguous;		/* two devices carry its UUID: refused */
};

/* rd.coco.key=UUID:GUID */
struct volume_key {
	char uuid[UUID_STRING_LEN + 1];
	struct guid guid;
};

/* rd.coco.volume-key=UUID:PIN */
struct volume_pin {
	char uuid[UUID_STRING_LEN + 1];
	char pin[VOLUME_KEY_ID_LEN + 1];
};

struct config {
	bool disabled;		/* rd.coco=0 or rd.luks=0 */
	bool debug;		/* rd.coco.debug */
	bool try_all;		/* rd.coco.try-all */
	bool use_crypttab;	/* rd.luks.crypttab, default yes */
	int timeout_sec;	/* rd.coco.timeout */
	enum wipe_policy wipe;	/* rd.coco.wipe */
	bool has_global_key;	/* rd.coco.key=GUID */
	struct guid global_key;
	/* rd.luks.allow-discards, rd.coco.require-mac, rd.coco.on-failure */
	struct volume_options global_options;

	size_t n_keys;
	struct volume_key keys[MAX_VOLUME_KEYS];
	size_t n_pins;
	struct volume_pin pins[MAX_VOLUME_KEYS];
	size_t n_volumes;
	struct volume volumes[MAX_VOLUMES];
};

/* Command-line options of the program itself. */
struct options {
	const char *secrets_dir;	/* --secrets-dir: no module, no mount, no fs check */
	const char *cmdline_file;	/* --cmdline */
	const char *crypttab_file;	/* --crypttab */
	bool crypttab_given;
	const char *kmod_dir;		/* --kmod-dir: module tree for libkmod (tests) */
	const char *devices_dir;	/* --devices-dir: files to scan instead of block devices */
	const char *state_dir;		/* --state-dir: instead of /run/coco-unlock */
	bool dry_run;
	bool wipe_only;
	bool log_kmsg;		/* --log-kmsg: the kernel log without /etc/initrd-release */
	bool serial;		/* --serial: one volume at a time, no worker processes */
	uint64_t parallel_memory_kib;	/* --parallel-memory (test knob): 0, or a lower budget */
	uint64_t pbkdf2_budget;		/* --pbkdf2-budget: a lower PBKDF2 budget (tests) */
};


/*
 * The secrets directory and what the agent did with each file. A secret
 * is read once, into a slot of the locked store, and unlinked at once
 * (unless rd.coco.wipe=none): every later use, retries included, reads the
 * copy. The signal handler reads the state arrays and the dirfd, and
 * zeroes the store: they are volatile sig_atomic_t, set before the guard.
 */
struct secret_area {
	char dir[PATH_MAX];
	volatile sig_atomic_t dirfd;
	size_t count;
	struct guid guids[MAX_SECRETS];
	/* A plan named it: rd.coco.wipe=used unlinks it. */
	volatile sig_atomic_t used[MAX_SECRETS];
	/* Unlinked by us (or found gone): nothing to do any more. */
	volatile sig_atomic_t wiped[MAX_SECRETS];
	/* Its copy is in the store (len in copy_len), or reading it failed. */
	volatile sig_atomic_t loaded[MAX_SECRETS];
	int load_error[MAX_SECRETS];
	size_t copy_len[MAX_SECRETS];
	struct secret_buf store;	/* MAX_SECRETS slots of SECRET_SLOT bytes */
	/*
	 * What happens to a secret's file right after its one read:
	 * wipe_after_read (rd.coco.wipe used or all; main.c sets it), or
	 * nothing. A pointer, so the reader does not depend on the wiper.
	 */
	void (*after_read)(struct secret_area *area, size_t index);
	bool wipe_failed;		/* an unlink failed: exit status 4 */
};

#define SECRET_SLOT (SECRET_MAX_SIZE + 1)

enum key_rule {
	KEY_RULE_EXPLICIT,	/* rd.coco.key or crypttab */
	KEY_RULE_TOKEN,		/* coco-efi-secret token */
	KEY_RULE_CONVENTIONAL,	/* the disk-passphrase GUID */
	KEY_RULE_TRY_ALL,	/* rd.coco.try-all */
};

#define ANY_KEYSLOT (-1)

struct key_candidate {
	enum key_rule rule;
	size_t secret;		/* index into secret_area */
	int keyslot;		/* ANY_KEYSLOT or a keyslot number */
	int token;		/* KEY_RULE_TOKEN: index into the tokens given */
};

/* Locked memory for one secret and one volume key at a time. */
struct secret_mem {
	struct secret_buf secret;
	struct secret_buf key;
};

struct key_plan {
	size_t n;
	struct key_candidate c[MAX_SECRETS * 2];
};

/* log.c */
enum log_level { LOG_LEVEL_ERR = 3, LOG_LEVEL_WARN = 4, LOG_LEVEL_INFO = 6, LOG_LEVEL_DEBUG = 7 };
void log_setup(bool to_kmsg, bool debug);
void log_set_debug(bool debug);
bool log_debug_enabled(void);
void log_message(enum log_level level, const char *fmt, ...) _printf_(2, 3);
#define log_err(...) log_message(LOG_LEVEL_ERR, __VA_ARGS__)
#define log_warn(...) log_message(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_info(...) log_message(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) log_message(LOG_LEVEL_DEBUG, __VA_ARGS__)


/* options.c */
int options_parse(int argc, char **argv, struct options *opts);

/*
 * What a parser read, in the order it read it; config.c merges it. The
 * volumes are as written (names not defaulted, duplicates not merged).
 */
struct volume_list {
	size_t n;
	struct volume *items;
};

/* The kernel command line as read (cmdline.c). */
struct cmdline {
	bool disabled;
	bool debug;
	bool try_all;
	bool use_crypttab;
	int timeout_sec;
	enum wipe_policy wipe;
	bool has_global_key;
	struct guid global_key;
	struct volume_options global_options;
	struct volume_list volumes;
	size_t n_keys;
	struct volume_key *keys;
	size_t n_pins;
	struct volume_pin *pins;
};

/* config.c: the merge */
void config_init(struct config *cfg);
int config_load(struct config *cfg, const struct options *opts);
int config_merge_cmdline(struct config *cfg, const struct cmdline *cl);
int config_merge_volumes(struct config *cfg, const struct volume_list *list);
/* Parse and merge: what config_load does with each file's text. */
int config_parse_cmdline(struct config *cfg, const char *text);
int config_parse_crypttab(struct config *cfg, const char *text, const char *secrets_dir);
int config_add_volume(struct config *cfg, const struct volume *v);
int config_add_key(struct config *cfg, const char *uuid, const struct guid *guid);
int config_add_pin(struct config *cfg, const char *uuid, const char *pin);
const char *volume_pin(const struct config *cfg, const struct volume *v);
int config_finish(struct config *cfg);
const char *volume_label(const struct volume *v);

/* parse-util.c: what both parsers use */
int volume_options_parse(const char *text, struct volume_options *opts);
int on_failure_parse(const char *text, enum on_failure *out);
int wipe_parse_policy(const char *text, enum wipe_policy *out);
bool parse_luks_uuid(const char *text, char out[UUID_STRING_LEN + 1]);
bool parse_bool_value(const char *text, bool *out);
bool mapping_name_valid(const char *name);
bool device_spec_valid(const char *dev);
int volume_list_add(struct volume_list *list, const struct volume *v);
void volume_list_free(struct volume_list *list);

/* cmdline.c: 0 and @cl filled (cmdline_free), or -EINVAL with a message */
void cmdline_init(struct cmdline *cl);
int cmdline_parse(const char *cmdline, struct cmdline *cl);
void cmdline_free(struct cmdline *cl);
int cryptdevice_parse(const char *value, struct volume *v);

/* crypttab.c: 0 and @out filled (volume_list_free), or -EINVAL with a message */
int crypttab_parse(const char *text, const char *secrets_dir, struct volume_list *out);

/* secret-area.c */
int secret_area_open(struct secret_area *area, const struct options *opts);
int secret_area_open_dir(struct secret_area *area, const char *dir, bool need_securityfs);
void secret_area_close(struct secret_area *area);
DIR *secret_area_opendir(const struct secret_area *area);
int secret_area_find(const struct secret_area *area, const struct guid *guid);
int secret_area_read(struct secret_area *area, size_t index, struct secret_buf *buf);
void secret_area_preload(struct secret_area *area, size_t index);

/* devices.c */
int luks_probe(const char *path, char uuid[UUID_STRING_LEN + 1], int *version);
int device_resolve(const struct volume *v, const char *devices_dir, char *path, size_t size,
		   char *other);
typedef int (*luks_device_fn)(const char *path, const char *uuid, int version, void *data);
int luks_devices_foreach(const char *devices_dir, luks_device_fn fn, void *data);


/* key-choice.c */
int key_plan_build(const struct config *cfg, const struct volume *v,
		   const struct secret_area *area, const struct coco_token *tokens,
		   size_t n_tokens, struct key_plan *plan);
int key_plan_preview(const struct config *cfg, const struct volume *v,
		     const struct secret_area *area, const struct coco_token *tokens,
		     size_t n_tokens, struct key_plan *plan);
const char *key_rule_name(enum key_rule rule);

/* unlock.c */
void unlock_setup_logging(bool debug);
uint32_t activation_flags(const struct volume_options *o);
int unlock_volume(const struct config *cfg, const struct options *opts,
		  struct secret_area *area, struct secret_mem *mem, struct volume *v);
int volume_mark_planned_secrets(const struct config *cfg, struct secret_area *area,
				struct volume *v);
void volume_refused(const struct config *cfg, struct secret_area *area, struct volume *v);

/* mapping.c */
enum mapping_state { MAPPING_NONE, MAPPING_OURS, MAPPING_OTHER };
enum mapping_state mapping_state(const char *name, const char *uuid, const char *device);

/* device-events.c: waiting for devices without a polling tick */
enum device_events_source {
	DEVICE_EVENTS_POLL,	/* nothing to watch: a look every 100 ms */
	DEVICE_EVENTS_UEVENT,	/* NETLINK_KOBJECT_UEVENT, kernel and udev groups */
	DEVICE_EVENTS_INOTIFY,	/* --devices-dir (tests), or /dev */
};

struct device_events {
	enum device_events_source source;
	int fd;
	char what[160];		/* the source, or why there is none, for messages */
	bool announced;
	bool settle;		/* the last look came from an event: the next soon */
	long long last_look_ms;
	unsigned int wakes, event_looks, ticks, messages;
};

long long monotonic_ms(void);
void device_events_open(struct device_events *ev, const char *devices_dir);
void device_events_wait(struct device_events *ev, long long deadline_ms);
void device_events_close(struct device_events *ev);
bool uevent_shows_block_device(const char *msg, size_t len);

/* volumes.c */
int volumes_discover(struct config *cfg, const struct options *opts,
		     const struct secret_area *area);
int volumes_unlock_all(struct config *cfg, const struct options *opts,
		       struct secret_area *area, struct secret_mem *mem);
int volumes_mark_planned(struct config *cfg, const struct options *opts,
			 struct secret_area *area);

/* workers.c */
void workers_unlock(const struct config *cfg, const struct options *opts,
		    struct secret_area *area, struct secret_mem *mem,
		    struct volume **volumes, size_t n, bool more_to_come);

/* wipe.c */
void wipe_guard_install(struct secret_area *area, enum wipe_policy policy);
void wipe_guard_buffer(struct secret_buf *buf);
void wipe_guard_forget_buffer(struct secret_buf *buf);
void wipe_guard_worker(volatile sig_atomic_t *wiped);
void wipe_after_read(struct secret_area *area, size_t i);
int wipe_record_open(const struct options *opts);
void wipe_record(const struct secret_area *area, size_t i);
void wipe_record_load(struct secret_area *area, const struct options *opts);
int wipe_secrets(struct secret_area *area, enum wipe_policy policy);
