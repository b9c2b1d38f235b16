// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * coco-secret launch: the owner's whole decision, against a QEMU the host
 * started paused (-S). It asks QEMU (QMP) for the platform and policy
 * (query-sev) and the PSP's measurement (query-sev-launch-measure),
 * verifies that measurement against the launch the measure options
 * describe, packages the secrets for that launch only, injects them
 * (sev-inject-launch-secret) and lets the guest run (cont).
 *
 * The host's answers are input like any other: each is checked for type
 * and range before it is believed, and a wrong one stops the launch.
 * Until the packet is injected, every failure leaves the guest paused
 * with nothing injected; the owner's verdict is said, with verify's
 * diagnosis when the measurement is another launch's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "coco-secret.h"
#include "launch-args.h"
#include "qmp-client.h"

static const char launch_help[] =
"Usage: coco-secret launch --qmp SOCKET --tik F --tek F\n"
"        (--table FILE | GUID=FILE...) [--allow-policy nodbg,noks,es]\n"
"        [--qmp-timeout S] (the measure options: --mode, --ovmf, --kernel, ...)\n"
"Drives a QEMU started with -S: query-sev, query-sev-launch-measure, verify,\n"
"package, sev-inject-launch-secret, cont. On any failure nothing is injected\n"
"and the guest stays paused. See coco-secret(1).\n";

#define DEFAULT_QMP_TIMEOUT 30

static int check_options(const struct launch_args *a)
{
	if (!has(a, LOPT_QMP))
		return launch_usage("launch needs --qmp SOCKET (QEMU's QMP socket)", NULL);
	if (!has(a, LOPT_TIK))
		return launch_usage("launch needs --tik F (the session's TIK)", NULL);
	if (!has(a, LOPT_MODE) || !has(a, LOPT_OVMF))
		return launch_usage("launch needs the launch it expects: the measure options, "
				    "--mode and --ovmf at least", NULL);
	if (has(a, LOPT_QMP_TIMEOUT) && num(a, LOPT_QMP_TIMEOUT) == 0)
		return launch_usage("--qmp-timeout is 1 second or more", NULL);
	return package_check_secrets(a);
}

/* A number in @o's member @name, from 0 to @max; false after saying why. */
static bool member_uint(const struct qmp *q, json_object *o, const char *name, uint64_t max,
			uint64_t *out)
{
	json_object *v;
	int64_t n;

	if (!json_object_object_get_ex(o, name, &v) || !json_object_is_type(v, json_type_int) ||
	    (n = json_object_get_int64(v)) < 0 || (uint64_t)n > max) {
		err("QMP %s: query-sev: %s is missing or not a number from 0 to %llu", q->path,
		    name, (unsigned long long)max);
		return false;
	}
	*out = (uint64_t)n;
	return true;
}

/* A string member, or NULL (the caller says what was expected). */
static const char *member_str(json_object *o, const char *name)
{
	json_object *v;

	if (!json_object_object_get_ex(o, name, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/*
 * query-sev, in both of QEMU's schemas: up to 9.0 a flat SevInfo; from
 * 9.1 a union on "sev-type" whose "sev" branch has the same members, the
 * policy among them. An SNP guest has no launch secret at all.
 */
static int check_sev_state(const struct qmp *q, json_object *r)
{
	json_object *en;
	const char *type = member_str(r, "sev-type"), *state = member_str(r, "state");
	bool typed = json_object_object_get_ex(r, "sev-type", NULL);

	if (!json_object_object_get_ex(r, "enabled", &en) ||
	    !json_object_is_type(en, json_type_boolean) || !json_object_get_boolean(en)) {
		err("QMP %s: query-sev: SEV is not enabled for this guest", q->path);
		return -1;
	}
	/* 9.1's "sev" covers SEV-ES too; the policy's ES bit tells them apart. */
	if (typed && (type == NULL || strcmp(type, "sev"))) {
		err("QMP %s: query-sev: sev-type is %s: only SEV and SEV-ES guests take a "
		    "launch secret (SNP guests attest from inside)", q->path,
		    type ? type : "not a string");
		return -1;
	}
	if (state == NULL || strcmp(state, "launch-secret")) {
		err("QMP %s: query-sev: the guest is in state %s, not launch-secret (was QEMU "
		    "started with -S, and not yet continued?)", q->path, state ? state : "(none)");
		return -1;
	}
	return 0;
}

static int read_sev_info(struct qmp *q, struct launch_args *a)
{
	static const struct { int opt; const char *name; uint64_t max; } fields[] = {
		{ LOPT_API_MAJOR, "api-major", 0xff }, { LOPT_API_MINOR, "api-minor", 0xff },
		{ LOPT_BUILD_ID, "build-id", 0xff }, { LOPT_POLICY, "policy", 0xffffffff },
	};
	json_object *r;
	size_t i;
	int ok = -1;

	if (qmp_execute(q, "query-sev", NULL, &r) < 0)
		return -1;
	if (!json_object_is_type(r, json_type_object))
		err("QMP %s: query-sev: the answer is not an object", q->path);
	else if (check_sev_state(q, r) == 0)
		ok = 0;
	for (i = 0; ok == 0 && i < sizeof(fields) / sizeof(fields[0]); i++) {
		if (!member_uint(q, r, fields[i].name, fields[i].max,
				 &a->num[fields[i].opt - LOPT_FIRST]))
			ok = -1;
		a->seen |= LOPT_BIT(fields[i].opt);
	}
	json_object_put(r);
	if (ok == 0)
		info("host: SEV API %llu.%llu build %llu, guest policy 0x%llx",
		     (unsigned long long)num(a, LOPT_API_MAJOR),
		     (unsigned long long)num(a, LOPT_API_MINOR),
		     (unsigned long long)num(a, LOPT_BUILD_ID),
		     (unsigned long long)num(a, LOPT_POLICY));
	return ok;
}

/* The measurement blob, kept in *@blob (the caller frees) for verify. */
static int read_measurement(struct qmp *q, struct launch_args *a, char **blob)
{
	json_object *r;
	const char *data;
	struct launch_blob parsed;

	if (qmp_execute(q, "query-sev-launch-measure", NULL, &r) < 0)
		return -1;
	data = json_object_is_type(r, json_type_object) ? member_str(r, "data") : NULL;
	if (data == NULL || !launch_blob_parse(data, &parsed)) {
		err("QMP %s: query-sev-launch-measure: data is not 48 bytes of base64", q->path);
		json_object_put(r);
		return -1;
	}
	*blob = strdup(data);
	json_object_put(r);
	if (*blob == NULL)
		return -1;
	a->str[LOPT_BLOB - LOPT_FIRST] = *blob;
	a->seen |= LOPT_BIT(LOPT_BLOB);
	return 0;
}

static json_object *b64_string(const uint8_t *p, size_t len)
{
	char *s = malloc(BASE64_LEN(len) + 1);
	json_object *o;

	if (s == NULL)
		return NULL;
	base64_encode(p, len, s);
	o = json_object_new_string(s);
	free(s);
	return o;
}

/*
 * sev-inject-launch-secret at the measured firmware's secret area: 0, or
 * QMP_REFUSED (QEMU or the PSP refused it) or QMP_NO_ANSWER (unknown).
 */
static int inject(struct qmp *q, const struct verify_request *v, const struct secret_packet *pkt)
{
	json_object *args = json_object_new_object(), *r = NULL;
	int rc;

	json_object_object_add(args, "packet-header", b64_string(pkt->header, PACKET_HEADER_SIZE));
	json_object_object_add(args, "secret", b64_string(pkt->payload, pkt->payload_len));
	json_object_object_add(args, "gpa", json_object_new_int64(v->m.fw.secret_gpa));
	rc = qmp_execute(q, "sev-inject-launch-secret", args, &r);
	json_object_put(r);
	return rc;
}

/* 0, or QMP_REFUSED / QMP_NO_ANSWER as qmp_execute() says. */
static int cont(struct qmp *q)
{
	json_object *r = NULL;
	int rc = qmp_execute(q, "cont", NULL, &r);

	json_object_put(r);
	return rc;
}

/* Everything before the injection: no step here changes the guest. */
static int decide(struct qmp *q, struct launch_args *a, struct verify_request *v,
		  struct package_job *job, char **blob)
{
	int r;

	if (read_sev_info(q, a) < 0 || read_measurement(q, a, blob) < 0)
		return EXIT_FAIL;
	r = verify_prepare(a, v);
	if (r == 0 && RAND_bytes(job->iv, sizeof(job->iv)) != 1)
		r = EXIT_FAIL;
	if (r == 0)
		r = package_build(a, v, job);
	if (r == 0)
		info("measurement verified: the host launched the expected guest");
	return r;
}

/* After the decision: inject, then continue; each outcome said as it is. */
static int conclude(struct qmp *q, const struct verify_request *v,
		    const struct package_job *job)
{
	int rc = inject(q, v, &job->pkt);

	if (rc == QMP_NO_ANSWER) {
		/* It was sent: only the host knows whether it arrived. */
		err("launch: no answer to the injection, so whether the secret arrived is "
		    "unknown; the guest was not continued");
		return EXIT_FAIL;
	}
	if (rc) {
		err("launch: nothing injected; the guest was not continued");
		return EXIT_FAIL;
	}
	rc = cont(q);
	if (rc) {
		err("launch: the secret was injected, but %s", rc == QMP_REFUSED ?
		    "QEMU did not continue the guest" : "whether the guest runs is unknown");
		return EXIT_FAIL;
	}
	printf("measurement verified\nsecret injected (%zu bytes)\nguest continued\n",
	       job->pkt.payload_len);
	return EXIT_OK;
}

static int run(struct launch_args *a)
{
	struct qmp q;
	struct verify_request v;
	struct package_job job = { 0 };
	char *blob = NULL;
	int timeout = DEFAULT_QMP_TIMEOUT;
	int r;

	if (has(a, LOPT_QMP_TIMEOUT))
		timeout = (int)num(a, LOPT_QMP_TIMEOUT);
	memset(&v, 0, sizeof(v));
	r = qmp_open(&q, str(a, LOPT_QMP), timeout) < 0 ? EXIT_FAIL : 0;
	if (r == 0)
		r = decide(&q, a, &v, &job, &blob);
	if (r)
		err("launch: nothing injected; the guest was not continued");
	else
		r = conclude(&q, &v, &job);
	qmp_close(&q);
	verify_free(&v);
	package_job_free(&job);
	free(blob);
	return r;
}

int cmd_launch(int argc, char **argv)
{
	struct launch_args a;
	int r;

	r = launch_args_parse(argc, argv, "launch", LOPTS_LAUNCH, launch_help, &a);
	if (r == 0)
		r = check_options(&a);
	if (r == 0 && has(&a, LOPT_MODE) && a.mode == SEV_MODE_SNP)
		r = launch_usage("SNP guests take no launch secret: --mode is sev or seves", NULL);
	return r ? r : run(&a);
}
