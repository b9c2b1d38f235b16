// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * coco-secret session: what sevctl session does. It verifies the host's
 * chain up to AMD's root (cert-chain.c), makes a fresh GODH key pair and
 * fresh TEK and TIK, derives the session keys from the ECDH secret with
 * the PDH, and writes what QEMU's sev-guest takes (dh-cert-file,
 * session-file) and the keys the owner keeps for verify and package:
 * NAME_godh.b64, NAME_session.b64, NAME_tek.bin, NAME_tik.bin (0600).
 * The GODH's private key lives only for the derivation.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "cert-chain.h"
#include "coco-secret.h"
#include "launch-args.h"

static const char session_help[] =
"Usage: coco-secret session --pdh CHAIN --policy N --name NAME\n"
"        [--ark F --ask F] [--insecure-no-chain]\n"
"Verifies the host's chain (sevctl export --full) up to AMD's ARK, and writes\n"
"NAME_godh.b64, NAME_session.b64, NAME_tek.bin and NAME_tik.bin. See coco-secret(1).\n";

#define ECDH_SECRET_SIZE 48
#define ECC_COORD 72

struct session_job {
	struct cert_chain chain;
	struct secret_buf z, tek, tik;
	uint8_t godh_cert[SEV_CERT_SIZE];
	uint8_t blob[SESSION_BLOB_SIZE];
};

static void le32_put(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* The GODH in the SEV format: a PDH-usage ECDH P-384 key, both signature slots empty. */
static int godh_cert(EVP_PKEY *key, uint8_t cert[SEV_CERT_SIZE])
{
	BIGNUM *x = NULL, *y = NULL;
	int ok;

	memset(cert, 0, SEV_CERT_SIZE);
	le32_put(cert, 1);
	le32_put(cert + 8, SEV_USAGE_PDH);
	le32_put(cert + 12, SEV_ALGO_ECDH_SHA256);
	le32_put(cert + 16, ECC_CURVE_P384);
	ok = EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_X, &x) &&
	     EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_Y, &y) &&
	     BN_bn2lebinpad(x, cert + 20, ECC_COORD) == ECC_COORD &&
	     BN_bn2lebinpad(y, cert + 20 + ECC_COORD, ECC_COORD) == ECC_COORD;
	le32_put(cert + 0x414, SEV_USAGE_INVALID);
	le32_put(cert + 0x414 + 8 + 512, SEV_USAGE_INVALID);
	BN_free(x);
	BN_free(y);
	return ok ? 0 : -1;
}

/* A fresh GODH; Z = ECDH(GODH, PDH), into locked memory. */
static int key_agreement(struct session_job *job)
{
	EVP_PKEY *godh = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	EVP_PKEY_CTX *ctx = godh ? EVP_PKEY_CTX_new_from_pkey(NULL, godh, NULL) : NULL;
	size_t len = ECDH_SECRET_SIZE;
	int ok;

	ok = ctx && secret_alloc(&job->z, ECDH_SECRET_SIZE) == 0 && EVP_PKEY_derive_init(ctx) > 0 &&
	     EVP_PKEY_derive_set_peer(ctx, job->chain.certs[SLOT_PDH].key) > 0 &&
	     EVP_PKEY_derive(ctx, job->z.data, &len) > 0 && len == ECDH_SECRET_SIZE &&
	     godh_cert(godh, job->godh_cert) == 0;
	job->z.len = len;
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(godh);
	if (!ok)
		err("cannot make the GODH key or agree on a secret with the PDH");
	return ok ? 0 : -1;
}

static int fresh_key(struct secret_buf *k, size_t size)
{
	if (secret_alloc(k, size) < 0 || RAND_priv_bytes(k->data, (int)size) != 1)
		return -1;
	k->len = size;
	return 0;
}

static int make_session(struct session_job *job, uint32_t policy)
{
	uint8_t nonce[16], iv[16];

	if (key_agreement(job) < 0 || fresh_key(&job->tek, TEK_SIZE) < 0 ||
	    fresh_key(&job->tik, TIK_SIZE) < 0 || RAND_bytes(nonce, 16) != 1 ||
	    RAND_bytes(iv, 16) != 1)
		return -1;
	return session_blob_build(&job->z, &job->tek, &job->tik, policy, nonce, iv, job->blob);
}

struct out_file {
	const char *suffix;
	const uint8_t *data;
	size_t len;
	bool b64;
};

static int write_one(const char *name, const struct out_file *f, char **path)
{
	char *text = NULL;
	int r;

	if (asprintf(path, "%s_%s", name, f->suffix) < 0) {
		*path = NULL;
		return -1;
	}
	if (f->b64) {
		text = malloc(BASE64_LEN(f->len) + 1);
		if (text == NULL)
			return -1;
		base64_encode(f->data, f->len, text);
	}
	r = write_file_replace(*path, text ? (uint8_t *)text : f->data,
			       text ? strlen(text) : f->len);
	free(text);
	return r;
}

/* All four or none: a session half written would be unusable, or worse, reused. */
static int write_session(const char *name, const struct session_job *job)
{
	const struct out_file files[] = {
		{ "godh.b64", job->godh_cert, SEV_CERT_SIZE, true },
		{ "session.b64", job->blob, SESSION_BLOB_SIZE, true },
		{ "tek.bin", job->tek.data, TEK_SIZE, false },
		{ "tik.bin", job->tik.data, TIK_SIZE, false },
	};
	char *paths[4] = { NULL };
	int i, r = 0;

	for (i = 0; i < 4 && r == 0; i++)
		r = write_one(name, &files[i], &paths[i]);
	for (i = 0; i < 4; i++) {
		if (r && paths[i])
			unlink(paths[i]);
		free(paths[i]);
	}
	return r ? EXIT_FAIL : 0;
}

static int check_options(const struct launch_args *a, struct chain_options *o)
{
	if (!has(a, LOPT_PDH) || !has(a, LOPT_POLICY) || !has(a, LOPT_NAME))
		return launch_usage("session needs --pdh CHAIN, --policy N and --name NAME", NULL);
	if (has(a, LOPT_ARK) != has(a, LOPT_ASK))
		return launch_usage("--ark and --ask go together", NULL);
	if (has(a, LOPT_INSECURE_NO_CHAIN) && has(a, LOPT_ARK))
		return launch_usage("--insecure-no-chain verifies nothing: --ark/--ask are for a "
				    "verified chain", NULL);
	if (str(a, LOPT_NAME)[0] == '\0')
		return launch_usage("--name is empty", NULL);
	o->path = str(a, LOPT_PDH);
	o->ark_path = str(a, LOPT_ARK);
	o->ask_path = str(a, LOPT_ASK);
	o->insecure = has(a, LOPT_INSECURE_NO_CHAIN);
	return 0;
}

int cmd_session(int argc, char **argv)
{
	struct launch_args a;
	struct chain_options o = { 0 };
	struct session_job job = { 0 };
	int r;

	r = launch_args_parse(argc, argv, "session", LOPTS_SESSION, session_help, &a);
	if (r == 0 && a.n_pos)
		r = launch_usage("session takes no arguments besides options", a.pos[0]);
	if (r == 0)
		r = check_options(&a, &o);
	if (r)
		return r;
	if (o.insecure)
		err("WARNING: --insecure-no-chain: the PDH is not verified; a host holding its "
		    "private key could read the TEK and TIK, and every secret sent with them");
	if (cert_chain_load(&o, &job.chain) < 0)
		return EXIT_FAIL;
	if (!o.insecure)
		info("chain verified: PDH, PEK, OCA, CEK up to AMD's ARK (%s)",
		     job.chain.product ? job.chain.product : "the --ark file");
	r = make_session(&job, (uint32_t)num(&a, LOPT_POLICY)) < 0 ? EXIT_FAIL : 0;
	if (r == 0)
		r = write_session(str(&a, LOPT_NAME), &job);
	if (r == 0)
		info("wrote %s_godh.b64, %s_session.b64, %s_tek.bin, %s_tik.bin (policy 0x%x)",
		     str(&a, LOPT_NAME), str(&a, LOPT_NAME), str(&a, LOPT_NAME), str(&a, LOPT_NAME),
		     (unsigned)num(&a, LOPT_POLICY));
	cert_chain_free(&job.chain);
	secret_buf_free(&job.z);
	secret_buf_free(&job.tek);
	secret_buf_free(&job.tik);
	return r;
}
