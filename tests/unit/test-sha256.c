// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * SHA-256 against the FIPS 180-4 examples and HMAC-SHA256 against
 * RFC 4231's test cases (short key, "Jefe", a key longer than a block),
 * plus split updates that must give the same digest.
 */
#include <string.h>

#include "sha256.h"
#include "tap.h"

static const char *hex_sha256(const void *data, size_t len)
{
	static char out[2 * SHA256_DIGEST_SIZE + 1];
	uint8_t d[SHA256_DIGEST_SIZE];

	sha256(data, len, d);
	hex_encode(d, sizeof(d), out);
	return out;
}

static const char *hex_hmac(const void *key, size_t key_len, const void *data, size_t len)
{
	static char out[2 * SHA256_DIGEST_SIZE + 1];
	uint8_t d[SHA256_DIGEST_SIZE];

	hmac_sha256(key, key_len, data, len, d);
	hex_encode(d, sizeof(d), out);
	return out;
}

static void test_sha256(void)
{
	static const char two_blocks[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	static char million[1000000];
	struct sha256 s;
	uint8_t d[SHA256_DIGEST_SIZE];
	char hex[2 * SHA256_DIGEST_SIZE + 1];
	size_t i;

	tap_str_eq(hex_sha256("", 0),
		   "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "sha256 of nothing");
	tap_str_eq(hex_sha256("abc", 3),
		   "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "sha256 of abc");
	tap_str_eq(hex_sha256(two_blocks, strlen(two_blocks)),
		   "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
		   "sha256 of the 448-bit message (padding takes a second block)");
	memset(million, 'a', sizeof(million));
	tap_str_eq(hex_sha256(million, sizeof(million)),
		   "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
		   "sha256 of a million a's");
	sha256_init(&s);
	for (i = 0; i < sizeof(million); i += 997)
		sha256_update(&s, million + i, i + 997 > sizeof(million) ? sizeof(million) - i : 997);
	sha256_final(&s, d);
	hex_encode(d, sizeof(d), hex);
	tap_str_eq(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
		   "the same in 997-byte updates");
}

static void test_hmac(void)
{
	uint8_t key20[20], key131[131];

	memset(key20, 0x0b, sizeof(key20));
	tap_str_eq(hex_hmac(key20, sizeof(key20), "Hi There", 8),
		   "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7", "RFC 4231 case 1");
	tap_str_eq(hex_hmac("Jefe", 4, "what do ya want for nothing?", 28),
		   "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843", "RFC 4231 case 2");
	memset(key131, 0xaa, sizeof(key131));
	tap_str_eq(hex_hmac(key131, sizeof(key131),
			    "Test Using Larger Than Block-Size Key - Hash Key First", 54),
		   "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
		   "RFC 4231 case 6 (a key longer than a block)");
}

static void test_helpers(void)
{
	tap_check(memcmp_constant_time("abcd", "abcd", 4) == 0, "equal bytes compare equal");
	tap_check(memcmp_constant_time("abcd", "abce", 4) != 0, "a last-byte difference is seen");
	tap_check(memcmp_constant_time("xbcd", "abcd", 4) != 0, "a first-byte difference is seen");
}

int main(void)
{
	test_sha256();
	test_hmac();
	test_helpers();
	return tap_done();
}
