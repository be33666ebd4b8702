/* Digests: parsing refuses anything that is not sha256:<64 lowercase hex>;
 * hashing matches the FIPS 180-4 / NIST vectors with every implementation
 * this CPU has; the accelerated and portable block functions agree on
 * random messages, and our buffering and padding agree with mbedTLS (an
 * independent oracle) for every length 0..4096 and every split point
 * 0..200; the verifying reader catches wrong digests, short bodies and
 * long bodies without reading past the size. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/sha256.h>

#include "lib/err.h"
#include "lib/stream.h"
#include "oci/digest.h"
#include "t/tap.h"

#define EMPTY "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define ABC "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

#define MSG448 "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
#define MSG896 "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu"

static void oracle(const unsigned char *p, size_t n, struct digest *out)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char sum[32];

	mbedtls_sha256_ret(p, n, sum, 0);
	memcpy(out->s, "sha256:", 7);
	for (int i = 0; i < 32; i++) {
		out->s[7 + 2 * i] = hex[sum[i] >> 4];
		out->s[8 + 2 * i] = hex[sum[i] & 15];
	}
	out->s[DIGEST_STR_LEN] = '\0';
}

static uint64_t rng = 0x9e3779b97f4a7c15u;
static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 32);
}

/* The NIST vectors, one-shot and fed one byte / odd chunks at a time. */
static void vectors(const char *impl)
{
	static const struct { const char *msg; const char *want; } v[] = {
		{ "", EMPTY }, { "abc", ABC },
		{ MSG448, "sha256:248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
		{ MSG896, "sha256:cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1" },
	};
	struct digest d;
	struct sha256 h;

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		size_t n = strlen(v[i].msg);
		sha256_digest(v[i].msg, n, &d);
		is_str(d.s, v[i].want, "%s: %zu-byte NIST vector", impl, n);
		sha256_init(&h);
		for (size_t j = 0; j < n; j++)
			sha256_update(&h, v[i].msg + j, 1);
		sha256_final(&h, &d);
		is_str(d.s, v[i].want, "%s: %zu-byte NIST vector, byte by byte", impl, n);
	}

	unsigned char *a = malloc(1000000);
	memset(a, 'a', 1000000);
	sha256_init(&h);
	for (size_t off = 0, k = 1; off < 1000000; off += k, k = k * 3 % 1021 + 1)
		sha256_update(&h, a + off, off + k > 1000000 ? 1000000 - off : k);
	sha256_final(&h, &d);
	is_str(d.s, "sha256:cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
	       "%s: one million 'a' in odd chunks", impl);
	free(a);
}

/* Every length 0..4096 of random data: accelerated vs portable block
 * function, and ours vs mbedTLS; then every split point 0..200 of a
 * 1000-byte message, and three-way random splits, and a digest taken
 * from a copy mid-stream (the digest reader does that). */
static void compare(void)
{
	enum { MAX = 4096 };
	unsigned char *p = malloc(MAX + 1000);
	struct digest fast, slow, want;
	struct sha256 h;
	int bad_impl = 0, bad_oracle = 0, bad_split = 0, bad_random = 0;

	for (size_t i = 0; i < MAX + 1000; i++)
		p[i] = (unsigned char)rnd();
	for (size_t n = 0; n <= MAX; n++) {
		const unsigned char *m = p + (n * 7 % 997);   /* vary alignment too */
		sha256__force_portable(0);
		sha256_digest(m, n, &fast);
		sha256__force_portable(1);
		sha256_digest(m, n, &slow);
		oracle(m, n, &want);
		bad_impl += strcmp(fast.s, slow.s) != 0;
		bad_oracle += strcmp(fast.s, want.s) != 0;
	}
	sha256__force_portable(0);
	is_int(bad_impl, 0, "accelerated == portable for every length 0..%d", MAX);
	is_int(bad_oracle, 0, "ours == mbedTLS for every length 0..%d", MAX);

	oracle(p, 1000, &want);
	for (size_t k = 0; k <= 200; k++) {
		sha256_init(&h);
		sha256_update(&h, p, k);
		sha256_update(&h, p + k, 1000 - k);
		sha256_final(&h, &fast);
		bad_split += strcmp(fast.s, want.s) != 0;
	}
	is_int(bad_split, 0, "split at every offset 0..200 of 1000 bytes");

	for (int round = 0; round < 500; round++) {
		size_t n = rnd() % MAX, a = n ? rnd() % n : 0, b = n - a ? a + rnd() % (n - a) : a;
		struct digest mid, midwant;
		sha256__force_portable(round & 1);
		sha256_init(&h);
		sha256_update(&h, p, a);
		struct sha256 copy = h;
		sha256_final(&copy, &mid);
		sha256_update(&h, p + a, b - a);
		sha256_update(&h, p + b, n - b);
		sha256_final(&h, &fast);
		oracle(p, a, &midwant);
		oracle(p, n, &want);
		bad_random += strcmp(fast.s, want.s) != 0 || strcmp(mid.s, midwant.s) != 0;
	}
	sha256__force_portable(0);
	is_int(bad_random, 0, "500 random three-way splits, with a mid-stream copy");
	free(p);
}

static int drain(struct reader *r, struct err *e, size_t *total)
{
	char b[7];
	ssize_t n;
	*total = 0;
	while ((n = reader_read(r, b, sizeof(b), e)) > 0)
		*total += (size_t)n;
	return (int)n;
}

int main(void)
{
	struct digest d, want;
	struct err e = ERR_INIT;
	struct mem_reader mr;
	struct digest_reader dr;
	size_t total;

	is_int(digest_parse(ABC, &d, &e), 0, "valid digest");
	is_str(digest_hex(&d), &ABC[7], "hex part");
	static const char *const bad[] = {
		"sha256:../../x", "sha256:", "sha512:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
		"sha256:BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD",
		"sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015a",
		"sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad0",
		"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
		"sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015a/",
		"", "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f2001\n5a",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ok(digest_parse(bad[i], &d, &e) == -EINVAL, "refused: %.40s", bad[i]);
	ok(strstr(e.msg, "invalid digest") && !strchr(e.msg, '\n'), "message is printable: %s", e.msg);

	diag("sha256 implementation in use: %s", sha256__impl_name());
	vectors(sha256__impl_name());
	sha256__force_portable(1);
	is_str(sha256__impl_name(), "portable", "the test hook selects the portable code");
	vectors(sha256__impl_name());
	sha256__force_portable(0);
	compare();

	digest_parse(ABC, &want, &e);
	mem_reader_init(&mr, "abc", 3);
	digest_reader_init(&dr, &mr.r, 3, &want, "blob");
	ok(drain(&dr.r, &e, &total) == 0 && total == 3, "verifying reader passes a good body");
	digest_reader_result(&dr, &d);
	is_str(d.s, ABC, "result digest");

	mem_reader_init(&mr, "abd", 3);
	digest_reader_init(&dr, &mr.r, 3, &want, "blob");
	is_int(drain(&dr.r, &e, &total), -EBADMSG, "wrong content: digest mismatch");
	ok(strstr(e.msg, "digest mismatch for blob") != NULL, "message: %s", e.msg);

	mem_reader_init(&mr, "ab", 2);
	digest_reader_init(&dr, &mr.r, 3, &want, "blob");
	is_int(drain(&dr.r, &e, &total), -EBADMSG, "short body: size mismatch");

	mem_reader_init(&mr, "abcdefgh", 8);
	digest_reader_init(&dr, &mr.r, 3, &want, "blob");
	is_int(drain(&dr.r, &e, &total), -EFBIG, "long body refused");
	ok(total == 3 && mr.off == 4, "read at most one byte past the declared size (total %zu, consumed %zu)",
	   total, mr.off);

	mem_reader_init(&mr, "abc", 3);
	digest_reader_init(&dr, &mr.r, -1, NULL, "stream");
	ok(drain(&dr.r, &e, &total) == 0 && total == 3, "unchecked mode just hashes");
	digest_reader_result(&dr, &d);
	is_str(d.s, ABC, "hash of unchecked stream");
	return done_testing();
}
