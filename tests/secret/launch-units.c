// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The pieces of coco-secret's launch commands that the command line
 * cannot show byte for byte, against ../shared/vectors/sev/VECTORS.md:
 * the LAUNCH_SECRET packets of section 3 (whose launch blob no digest
 * known here verifies, so package cannot reach them), its plaintext
 * table, the measurement MAC of section 2, the SEV-ES VMSA pages against
 * sevctl's vmsa0.bin and vmsa1.bin, and the padded hashes table of
 * section 1. Run by test-launch-units.sh with the vectors' directory.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/tap.h"
#include "coco-secret.h"
#include "cert-chain.h"
#include "platform-cert.h"
#include "sev.h"

static const char *vec;

static char *vec_path(const char *name)
{
	static char buf[4096];

	snprintf(buf, sizeof(buf), "%s/%s", vec, name);
	return buf;
}

static int read_vec(const char *name, uint8_t *buf, size_t size)
{
	FILE *f = fopen(vec_path(name), "rb");
	size_t n;

	if (f == NULL)
		return -1;
	n = fread(buf, 1, size, f);
	fclose(f);
	return (int)n;
}

static void key(const char *name, struct secret_buf *k)
{
	if (key_file_read("key", vec_path(name), 16, k) < 0)
		exit(1);
}

static void b64(const uint8_t *p, size_t len, char *out)
{
	base64_encode(p, len, out);
}

static void from_b64(const char *text, uint8_t *out, size_t len)
{
	uint8_t raw[256];

	if (base64_decode(text, raw, sizeof(raw)) != (int)len)
		exit(1);
	memcpy(out, raw, len);
}

/* Section 3: the secret table of secret1 (and secret2), then the packet. */
static void test_packets(void)
{
	static const struct { const char *file2, *header, *payload; } rows[] = {
		{ NULL, "AAAAAKxUdO1N0yx9mJ7FI9klWey8FSzeYQ4X8K71VzNKLU/KQsIsQxLjtbhaPUewqshX5Q==",
		  "0U3e5PcXv0UW+H4tSBFKOdCYfKE1+j38Bc2fuO16mYiyI+sWx7INfn+lgYj56GL12yyinDa+lVfCCwD/2w5cPA==" },
		{ "secret/secret2.txt",
		  "AAAAAKxUdO1N0yx9mJ7FI9klWeyZ3r0dOEKHUOhIRqzGYYvTJgdMtBPL1nK6GD9aGET7Ng==",
		  "0U3e5PcXv0UW+H4tSBFKObWYfKE1+j38Bc2fuO16mYiyI+sWx7INfn+lgYj56GL12yyinDa+lVfCC+WWs332lpLNUX1ZI3YK7vYgtys4X+uGxEIlkIQ90v8/w8ZFmQMe" },
	};
	struct secret_buf tik = { 0 }, tek = { 0 };
	uint8_t iv[16], measure[32], blob[48];
	char text[512], path1[4096], path2[4096];
	size_t i;

	key("secret/tik1.bin", &tik);
	key("secret/tek1.bin", &tek);
	from_b64("rFR07U3TLH2YnsUj2SVZ7A==", iv, 16);
	from_b64("TLeA7607lZQntLjRY1/i+sbtdSZ+75zxpz4Px9hzpBLwItF5Q2o4prA++3ZZv9ZS", blob, 48);
	memcpy(measure, blob, 32);
	snprintf(path1, sizeof(path1), "%s", vec_path("secret/secret1.txt"));
	snprintf(path2, sizeof(path2), "%s", vec_path("secret/secret2.txt"));
	for (i = 0; i < 2; i++) {
		struct table_input in[2];
		struct secret_buf table = { 0 };
		struct secret_packet pkt;

		guid_parse("736869e5-84f0-4973-92ec-06879ce3da0b", &in[0].guid);
		in[0].path = path1;
		guid_parse("736869e5-aaaa-4973-92ec-06879ce3da0b", &in[1].guid);
		in[1].path = path2;
		tap_check(table_assemble(in, i + 1, DEFAULT_AREA_SIZE, true, &table) == 0,
			  "section 3 row %zu: the table assembles", i + 1);
		if (i == 0) {
			hex_encode(table.data, table.len, text);
			tap_str_eq(text, "42f5741edd71664d963eef4287ff173b3a000000"
				   "e5696873f084734992ec06879ce3da0b26000000"
				   "4d592d4c554b532d50415353504852415345000000000000",
				   "section 3: the one-secret plaintext table (64 bytes)");
		}
		tap_check(secret_packet_build(&tik, &tek, iv, measure, table.data, table.len,
					      &pkt) == 0, "section 3 row %zu: the packet builds", i + 1);
		b64(pkt.header, PACKET_HEADER_SIZE, text);
		tap_str_eq(text, rows[i].header, "section 3 row %zu: header (FLAGS, IV, MAC)", i + 1);
		b64(pkt.payload, pkt.payload_len, text);
		tap_str_eq(text, rows[i].payload, "section 3 row %zu: payload (AES-128-CTR)", i + 1);
		secret_packet_free(&pkt);
		secret_buf_free(&table);
	}
	secret_buf_free(&tik);
	secret_buf_free(&tek);
}

/* Section 2, row 1: the MEASURE of a given digest. */
static void test_measure_mac(void)
{
	struct platform_info pi = { .api_major = 1, .api_minor = 40, .build_id = 40, .policy = 3 };
	struct secret_buf tik = { 0 };
	struct launch_blob blob;
	uint8_t digest[32], mac[32], raw[48];
	char text[80];

	key("measurement/tik1.bin", &tik);
	from_b64("xkvRAfyaSizgonxAjZIAkR8TmolUabBKQKb6KJCDDSM=", digest, 32);
	from_b64("wxP6tRHCFrFQWxsuqZA8QA==", blob.mnonce, 16);
	tap_check(launch_measure_mac(&tik, &pi, digest, blob.mnonce, mac) == 0,
		  "section 2: the MEASURE MAC computes");
	memcpy(raw, mac, 32);
	memcpy(raw + 32, blob.mnonce, 16);
	b64(raw, 48, text);
	tap_str_eq(text, "lswbxWxI9gckya16JQvdFtpYmNO4b+3inAPpqsgoBI7DE/q1EcIWsVBbGy6pkDxA",
		   "section 2 row 1: MEASURE || MNONCE is the vector's blob");
	secret_buf_free(&tik);
}

/* sevctl's VMSAs: legacy FPU, family 25 model 1 stepping 1, the el9 reset address. */
static void test_vmsa(void)
{
	static uint8_t want[VMSA_SIZE], got[VMSA_SIZE];
	struct ovmf fw;
	struct vmsa_params p = { .vcpu_sig = vcpu_sig_from_fms(25, 1, 1), .fpu = VMSA_FPU_LEGACY };

	tap_check(p.vcpu_sig == 0xa00f11, "family 25 model 1 stepping 1 is signature 0xa00f11");
	tap_check(ovmf_load(vec_path("ovmf_amdsev_el9_suffix.bin"), &fw) == 0 && fw.has_reset_eip,
		  "the el9 firmware's footer table has a reset address");
	tap_check(fw.reset_eip == 0x80b004, "... 0x80b004, as the vectors say");
	p.eip = BSP_RESET_EIP;
	vmsa_build(&p, got);
	tap_check(read_vec("vmsa0.bin", want, sizeof(want)) == VMSA_SIZE &&
		  memcmp(got, want, VMSA_SIZE) == 0, "the BSP's VMSA is vmsa0.bin");
	p.eip = fw.reset_eip;
	vmsa_build(&p, got);
	tap_check(read_vec("vmsa1.bin", want, sizeof(want)) == VMSA_SIZE &&
		  memcmp(got, want, VMSA_SIZE) == 0, "an AP's VMSA is vmsa1.bin");
	p.fpu = VMSA_FPU_INIT2;
	vmsa_build(&p, got);
	tap_check(got[0x408] == 0x80 && got[0x409] == 0x1f && got[0x410] == 0x7f &&
		  got[0x411] == 0x03 && memcmp(got, want, 0x408) == 0,
		  "init2 differs from legacy in mxcsr (0x408) and fcw (0x410) only");
	ovmf_free(&fw);
}

/* Section 1: the padded table for empty kernel and initrd, 'console=ttyS0 loglevel=7'. */
static void test_hashes_table(void)
{
	struct boot_hashes h;
	uint8_t table[SEV_HASHES_TABLE_SIZE];
	char text[2 * SEV_HASHES_TABLE_SIZE + 1];

	tap_check(boot_hashes_compute("/dev/null", "/dev/null", "console=ttyS0 loglevel=7", &h) == 0,
		  "the boot hashes compute");
	sev_hashes_table(&h, table);
	hex_encode(table, sizeof(table), text);
	tap_str_eq(text, "06d63894224fc94cb479a793d411fd21a800"
		   "d82dd09720bd944caa78e7714d36ab2a3200"
		   "321c8eec6a77bad179511397f913a083067ad8cb737bb260aacbfe8df70fc50a"
		   "31f7ba442f3ad74b9af141e29169781d3200"
		   "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
		   "3794e74dd2ab7f42b835d5b172d2045b3200"
		   "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
		   "0000000000000000", "section 1: the padded SEV hashes table (176 bytes)");
}

/* The footer tables the vectors describe. */
static void test_footers(void)
{
	struct ovmf fw;

	tap_check(ovmf_load(vec_path("ovmf_AmdSev_suffix.bin"), &fw) == 0, "AmdSev parses");
	tap_check(fw.reset_eip == 0x80b004 && fw.secret_gpa == 0x810000 &&
		  fw.secret_size == 0xc00 && fw.hashes_gpa == 0x810c00 && fw.hashes_size == 0x400 &&
		  fw.has_snp_metadata, "AmdSev: reset 0x80b004, secret 0x810000+0xc00, "
		  "hashes 0x810c00+0x400, SNP metadata");
	ovmf_free(&fw);
	tap_check(ovmf_load(vec_path("ovmf_amdsev_el9_suffix.bin"), &fw) == 0 &&
		  fw.secret_gpa == 0x80c000 && fw.secret_size == 0xc00 &&
		  fw.hashes_gpa == 0x80cc00 && fw.hashes_size == 0x400 && !fw.has_snp_metadata,
		  "el9: secret 0x80c000+0xc00, hashes 0x80cc00+0x400, no SNP metadata");
	ovmf_free(&fw);
	tap_check(ovmf_load(vec_path("ovmf_OvmfX64_suffix.bin"), &fw) == 0 &&
		  !fw.has_hashes_area && !fw.has_secret_area,
		  "OvmfX64: hashes-table and secret entries present but zero");
	ovmf_free(&fw);
}

struct loaded_cert {
	uint8_t raw[2084];
	struct platform_cert c;
	bool ok;
};

static void load_cert(const char *product, const char *name, struct loaded_cert *lc)
{
	char rel[64];
	int n;

	snprintf(rel, sizeof(rel), "certs/%s/%s.cert", product, name);
	n = read_vec(rel, lc->raw, sizeof(lc->raw));
	lc->ok = n > 0 && platform_cert_parse(lc->raw, (size_t)n, &lc->c) == 0;
	tap_check(lc->ok, "%s %s parses", product, name);
}

/* Section 5: what signs what, and that no reversed pair verifies. */
static void test_cert_pairs(const char *product, bool full)
{
	static const char *const names[] = { "ark", "ask", "cek", "oca", "pek", "pdh" };
	static const struct { int signer, signee; } valid[] = {
		{ 0, 0 }, { 0, 1 }, { 1, 2 }, { 2, 4 }, { 3, 4 }, { 3, 3 }, { 4, 5 },
	};
	struct loaded_cert certs[6];
	int n = full ? 6 : 2, i, j;
	size_t k;

	for (i = 0; i < n; i++)
		load_cert(product, names[i], &certs[i]);
	for (i = 0; i < n; i++)
		for (j = 0; j < n; j++) {
			bool want = false;

			for (k = 0; k < sizeof(valid) / sizeof(valid[0]); k++)
				want |= valid[k].signer == i && valid[k].signee == j;
			if (!want && !(j < n && i != j && i < n))
				continue;	/* self-signatures other than ARK's and OCA's: none */
			tap_check(certs[i].ok && certs[j].ok &&
				  platform_cert_signs(&certs[i].c, &certs[j].c) == want,
				  "%s: %s %s %s", product, names[i], want ? "signs" : "does not sign",
				  names[j]);
		}
	for (i = 0; i < n; i++)
		platform_cert_free(&certs[i].c);
}

/* Section 4: TEK, TIK, Z, nonce and IV all zero, policy 0. */
static void test_session_blob(void)
{
	struct secret_buf z = { 0 }, tek = { 0 }, tik = { 0 };
	static const uint8_t zeros[16];
	uint8_t blob[SESSION_BLOB_SIZE];
	char text[2 * SESSION_BLOB_SIZE + 1];

	if (secret_buf_alloc(&z, 48) || secret_buf_alloc(&tek, 16) || secret_buf_alloc(&tik, 16))
		exit(1);
	memset(z.data, 0, 48);
	memset(tek.data, 0, 16);
	memset(tik.data, 0, 16);
	z.len = 48;
	tek.len = tik.len = 16;
	tap_check(session_blob_build(&z, &tek, &tik, 0, zeros, zeros, blob) == 0,
		  "section 4: the session blob builds");
	hex_encode(blob + 16, 32, text);
	tap_str_eq(text, "2137bc7f9bb8bd7c3e55a576a15d3454b3856b8ba27afadf46dcfee9f02c02c4",
		   "section 4: wrap_tk");
	hex_encode(blob + 64, 32, text);
	tap_str_eq(text, "3176c0752738bd9d5e86689534020f528c088f16238826b000b327dee6aeed7d",
		   "section 4: wrap_mac");
	hex_encode(blob + 96, 32, text);
	tap_str_eq(text, "aa7855e13839dd767cd5da7c1ff5036540c9264b7a803029315e55375287b4af",
		   "section 4: policy_mac");
	tap_check(memcmp(blob, zeros, 16) == 0 && memcmp(blob + 48, zeros, 16) == 0,
		  "section 4: nonce and wrap_iv sit at 0 and 48");
	secret_buf_free(&z);
	secret_buf_free(&tek);
	secret_buf_free(&tik);
}

/* The built-in ARK and ASK of each product are the vector files, byte for byte. */
static void test_builtin_certs(void)
{
	const struct amd_product *p;
	uint8_t built[1603], file[1601];
	int i, n, m;

	for (p = amd_products; p->name; p++)
		for (i = 0; i < 2; i++) {
			char rel[64];

			snprintf(rel, sizeof(rel), "certs/%s/%s.cert", p->name, i ? "ark" : "ask");
			n = amd_product_cert(p, i, built, sizeof(built));
			m = read_vec(rel, file, sizeof(file));
			tap_check(n > 0 && n == m && memcmp(built, file, (size_t)n) == 0,
				  "built-in %s %s is %s", p->name, i ? "ARK" : "ASK", rel);
		}
}

int main(void)
{
	const char *top = getenv("TOP");
	static char dir[4096];

	secure_process_setup();
	snprintf(dir, sizeof(dir), "%s/../shared/vectors/sev", top ? top : ".");
	vec = dir;
	test_footers();
	test_hashes_table();
	test_vmsa();
	test_measure_mac();
	test_packets();
	test_cert_pairs("naples", true);
	test_cert_pairs("rome", true);
	test_cert_pairs("milan", false);
	test_cert_pairs("genoa", false);
	test_cert_pairs("turin", false);
	test_session_blob();
	test_builtin_certs();
	return tap_done();
}
