// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * coco-secret package: the LAUNCH_SECRET packet for a verified launch.
 * It runs verify's steps first and packages nothing unless they pass;
 * the table must fit the secret area of the firmware that was measured;
 * the packet is written as sevctl writes it (header and payload in
 * base64) and as the QMP command that injects it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "coco-secret.h"
#include "launch-args.h"

static const char package_help[] =
"Usage: coco-secret package (the verify options) --tek F\n"
"        (--table FILE | GUID=FILE...) [--area-size N]\n"
"        [--header-out F] [--payload-out F] [--qmp-out F]\n"
"Verifies the launch, then writes the LAUNCH_SECRET packet for it: header and\n"
"payload in base64 (sevctl's files), or the QMP sev-inject-launch-secret command.\n"
"See coco-secret(1).\n";

/* The largest table assembled before comparing it with the area (--area-size's cap). */
#define MAX_ASSEMBLED_TABLE (1u << 20)

int package_check_secrets(const struct launch_args *a)
{
	if (!has(a, LOPT_TEK))
		return launch_usage(a->cmd, "needs --tek F (the session's TEK)");
	if (has(a, LOPT_TABLE) == (a->n_pos > 0))
		return launch_usage(a->cmd, "needs the secrets as --table FILE or as GUID=FILE "
				    "arguments (one of the two)");
	return 0;
}

static int check_options(const struct launch_args *a)
{
	int r = package_check_secrets(a);

	if (r)
		return r;
	if (!has(a, LOPT_HEADER_OUT) && !has(a, LOPT_PAYLOAD_OUT) && !has(a, LOPT_QMP_OUT))
		return launch_usage("package needs somewhere to write: --header-out and "
				    "--payload-out, or --qmp-out", NULL);
	if (has(a, LOPT_HEADER_OUT) != has(a, LOPT_PAYLOAD_OUT))
		return launch_usage("--header-out and --payload-out go together", NULL);
	if (has(a, LOPT_AREA_SIZE) && has(a, LOPT_OVMF))
		return launch_usage("--area-size is read from the --ovmf firmware: give one", NULL);
	return 0;
}

/* The firmware that was measured says how large its secret area is. */
static int area_size(const struct launch_args *a, const struct verify_request *v, size_t *size)
{
	if (!v->measured) {
		*size = has(a, LOPT_AREA_SIZE) ? num(a, LOPT_AREA_SIZE) : DEFAULT_AREA_SIZE;
		return 0;
	}
	if (!v->m.fw.has_secret_area) {
		err("firmware %s: its footer table names no secret area: nothing can be injected",
		    v->m.fw.path);
		return -1;
	}
	*size = v->m.fw.secret_size;
	return 0;
}

static int parse_inputs(const struct launch_args *a, struct table_input *in)
{
	int i;

	for (i = 0; i < a->n_pos; i++) {
		const char *eq = strchr(a->pos[i], '=');

		if (eq == NULL || eq[1] == '\0' ||
		    !guid_parse_n(a->pos[i], (size_t)(eq - a->pos[i]), &in[i].guid))
			return launch_usage("expected GUID=FILE", a->pos[i]);
		in[i].path = eq + 1;
	}
	return 0;
}

static int load_table(const struct launch_args *a, struct secret_buf *table)
{
	struct table_input *in;
	int r;

	/* Either way the whole table is read first; package() compares it with the area. */
	if (has(a, LOPT_TABLE)) {
		if (table_load_valid(str(a, LOPT_TABLE), MAX_ASSEMBLED_TABLE, table) < 0)
			return EXIT_FAIL;
		if (table->len % TABLE_ALIGN) {
			err("table %s: %zu bytes is not a multiple of 16, as LAUNCH_SECRET needs "
			    "(build it without --no-pad)", str(a, LOPT_TABLE), table->len);
			return EXIT_FAIL;
		}
		return 0;
	}
	in = calloc((size_t)a->n_pos, sizeof(*in));
	if (in == NULL)
		return EXIT_FAIL;
	r = parse_inputs(a, in);
	if (r == 0 && table_assemble(in, (size_t)a->n_pos, MAX_ASSEMBLED_TABLE, true, table) < 0)
		r = EXIT_FAIL;
	free(in);
	return r;
}

static int choose_iv(const struct launch_args *a, uint8_t iv[SECRET_IV_SIZE])
{
	uint8_t raw[SECRET_IV_SIZE + 3];

	if (!has(a, LOPT_IV))
		return RAND_bytes(iv, SECRET_IV_SIZE) == 1 ? 0 : EXIT_FAIL;
	if (strlen(str(a, LOPT_IV)) != BASE64_LEN(SECRET_IV_SIZE) ||
	    base64_decode(str(a, LOPT_IV), raw, sizeof(raw)) != SECRET_IV_SIZE)
		return launch_usage("--iv is 16 bytes of base64", NULL);
	memcpy(iv, raw, SECRET_IV_SIZE);
	return 0;
}

static char *b64_of(const uint8_t *p, size_t len)
{
	char *s = malloc(BASE64_LEN(len) + 2);

	if (s) {
		base64_encode(p, len, s);
		strcat(s, "\n");
	}
	return s;
}

/* The QMP command; gpa is the measured firmware's secret area when known. */
static char *qmp_command(const struct verify_request *v, const char *hdr, const char *payload)
{
	char gpa[40] = "";
	char *s = NULL;

	if (v->measured)
		snprintf(gpa, sizeof(gpa), ", \"gpa\": %u", v->m.fw.secret_gpa);
	if (asprintf(&s, "{ \"execute\": \"sev-inject-launch-secret\", \"arguments\": "
		     "{ \"packet-header\": \"%.*s\", \"secret\": \"%.*s\"%s } }\n",
		     (int)strlen(hdr) - 1, hdr, (int)strlen(payload) - 1, payload, gpa) < 0)
		return NULL;
	return s;
}

struct output {
	int opt;
	char *text;
};

/* Every file or none: one that fails takes the ones written before it away. */
static int write_outputs(const struct launch_args *a, struct output *out, size_t n)
{
	size_t i, j;

	for (i = 0; i < n; i++) {
		if (!has(a, out[i].opt))
			continue;
		if (out[i].text == NULL ||
		    write_file_replace(str(a, out[i].opt), (const uint8_t *)out[i].text,
				       strlen(out[i].text)) < 0) {
			for (j = 0; j < i; j++)
				if (has(a, out[j].opt))
					unlink(str(a, out[j].opt));
			return EXIT_FAIL;
		}
	}
	return 0;
}

static int write_packet(const struct launch_args *a, const struct verify_request *v,
			const struct secret_packet *pkt)
{
	char *hdr = b64_of(pkt->header, PACKET_HEADER_SIZE);
	char *payload = b64_of(pkt->payload, pkt->payload_len);
	struct output out[] = {
		{ LOPT_HEADER_OUT, hdr }, { LOPT_PAYLOAD_OUT, payload },
		{ LOPT_QMP_OUT, hdr && payload ? qmp_command(v, hdr, payload) : NULL },
	};
	int r = write_outputs(a, out, 3);

	free(hdr);
	free(payload);
	free(out[2].text);
	return r;
}

int package_build(const struct launch_args *a, struct verify_request *v,
		  struct package_job *job)
{
	size_t area;
	int r;

	r = verify_run(v);
	if (r) {
		err("nothing packaged: the launch is not verified");
		return r;
	}
	if (area_size(a, v, &area) < 0)
		return EXIT_FAIL;
	r = load_table(a, &job->table);
	if (r == 0 && job->table.len > area) {
		err("the table is %zu bytes, larger than the %s secret area (%zu bytes)",
		    job->table.len, v->measured ? "firmware's" : "--area-size", area);
		r = EXIT_FAIL;
	}
	if (r == 0 && key_file_read("TEK", str(a, LOPT_TEK), TEK_SIZE, &job->tek) < 0)
		r = EXIT_FAIL;
	if (r == 0 && secret_packet_build(&v->tik, &job->tek, job->iv, v->blob.measure,
					  job->table.data, job->table.len, &job->pkt) < 0)
		r = EXIT_FAIL;
	return r;
}

void package_job_free(struct package_job *job)
{
	secret_packet_free(&job->pkt);
	secret_buf_free(&job->table);
	secret_buf_free(&job->tek);
}

static int package(const struct launch_args *a, struct verify_request *v,
		   struct package_job *job)
{
	int r = package_build(a, v, job);

	if (r == 0)
		r = write_packet(a, v, &job->pkt);
	if (r == 0)
		info("measurement verified; packet written for a table of %zu bytes",
		     job->pkt.payload_len);
	return r;
}

int cmd_package(int argc, char **argv)
{
	struct launch_args a;
	struct verify_request v;
	struct package_job job = { 0 };
	int r;

	r = launch_args_parse(argc, argv, "package", LOPTS_PACKAGE, package_help, &a);
	if (r == 0)
		r = check_options(&a);
	if (r == 0)
		r = choose_iv(&a, job.iv);
	if (r)
		return r;
	r = verify_prepare(&a, &v);
	if (r == 0)
		r = package(&a, &v, &job);
	verify_free(&v);
	package_job_free(&job);
	return r;
}
