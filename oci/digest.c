/* sha256 digests and the verifying reader stage (see oci/digest.h).
 * Hashing is on the hot path of every pull and unpack, so this file does
 * the buffering, padding and length encoding itself and hands whole
 * blocks to the fastest compression function this CPU has: SHA-NI
 * (oci/sha256_x86.c), the ARMv8 SHA2 instructions (oci/sha256_arm64.c),
 * or the portable C below, written from FIPS 180-4 sections 4.1.2, 5 and
 * 6.2. */
#include <errno.h>
#include <string.h>

#include "lib/err.h"
#include "oci/digest.h"

/* FIPS 180-4 4.2.2; the accelerated files read the same table. */
const uint32_t sha256__K[64] __attribute__((aligned(16))) = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static uint32_t ror(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

static uint32_t load_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void store_be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

/* FIPS 180-4 6.2.2, with the schedule kept in a 16-word ring.  Eight
 * rounds per loop step with the working variables renamed instead of
 * shifted, so they stay in registers. */
#define S0(x) (ror(x, 2) ^ ror(x, 13) ^ ror(x, 22))
#define S1(x) (ror(x, 6) ^ ror(x, 11) ^ ror(x, 25))
#define s0(x) (ror(x, 7) ^ ror(x, 18) ^ ((x) >> 3))
#define s1(x) (ror(x, 17) ^ ror(x, 19) ^ ((x) >> 10))
#define W(t) (t < 16 ? w[t] : (w[(t) & 15] += s1(w[((t) - 2) & 15]) + w[((t) - 7) & 15] + \
						s0(w[((t) - 15) & 15])))
#define ROUND(a, b, c, d, e, f, g, h, t) do { \
	uint32_t t1_ = h + S1(e) + ((e & f) ^ (~e & g)) + sha256__K[t] + W(t); \
	d += t1_; \
	h = t1_ + S0(a) + ((a & b) ^ (a & c) ^ (b & c)); \
} while (0)

static void portable_blocks(uint32_t st[8], const unsigned char *p, size_t nblocks)
{
	for (; nblocks > 0; nblocks--, p += 64) {
		uint32_t w[16];
		uint32_t a = st[0], b = st[1], c = st[2], d = st[3];
		uint32_t e = st[4], f = st[5], g = st[6], h = st[7];

		for (int t = 0; t < 16; t++)
			w[t] = load_be32(p + 4 * t);
		for (int t = 0; t < 64; t += 8) {
			ROUND(a, b, c, d, e, f, g, h, t + 0);
			ROUND(h, a, b, c, d, e, f, g, t + 1);
			ROUND(g, h, a, b, c, d, e, f, t + 2);
			ROUND(f, g, h, a, b, c, d, e, t + 3);
			ROUND(e, f, g, h, a, b, c, d, t + 4);
			ROUND(d, e, f, g, h, a, b, c, t + 5);
			ROUND(c, d, e, f, g, h, a, b, t + 6);
			ROUND(b, c, d, e, f, g, h, a, t + 7);
		}
		st[0] += a, st[1] += b, st[2] += c, st[3] += d;
		st[4] += e, st[5] += f, st[6] += g, st[7] += h;
	}
}

/* Which implementation sha256_init picks.  The probe result is a fact
 * about the CPU, cached once (racing first callers compute the same
 * value); force_portable is a test and benchmark hook. */
static int force_portable;
static sha256__blocks_fn *probed;
static int probe_done;

static sha256__blocks_fn *accel_blocks(void)
{
	if (__atomic_load_n(&probe_done, __ATOMIC_ACQUIRE))
		return probed;
	sha256__blocks_fn *f = sha256__x86_probe();
	if (!f)
		f = sha256__arm64_probe();
	probed = f;
	__atomic_store_n(&probe_done, 1, __ATOMIC_RELEASE);
	return f;
}

static sha256__blocks_fn *pick_blocks(void)
{
	sha256__blocks_fn *f = force_portable ? NULL : accel_blocks();
	return f ? f : portable_blocks;
}

void sha256__force_portable(int on)
{
	force_portable = on;
}

const char *sha256__impl_name(void)
{
	sha256__blocks_fn *f = pick_blocks();
	if (f == portable_blocks)
		return "portable";
	return f == sha256__x86_probe() ? "sha-ni" : "armv8-sha2";
}

int digest_parse(const char *s, struct digest *out, struct err *e)
{
	size_t n = strnlen(s, DIGEST_STR_LEN + 1);

	if (n != DIGEST_STR_LEN || strncmp(s, "sha256:", 7) != 0)
		goto bad;
	for (size_t i = 7; i < n; i++) {
		char c = s[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			goto bad;
	}
	memcpy(out->s, s, DIGEST_STR_LEN);
	out->s[DIGEST_STR_LEN] = '\0';
	return 0;
bad:
	/* Quote a bounded, printable prefix only: the input is outside data. */
	{
		char shown[48];
		size_t i;
		for (i = 0; i < sizeof(shown) - 1 && s[i]; i++)
			shown[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
		shown[i] = '\0';
		return err_set(e, -EINVAL, "invalid digest '%s%s' (want sha256:<64 lowercase hex>)",
			       shown, s[i] ? "..." : "");
	}
}

void sha256_init(struct sha256 *h)
{
	static const uint32_t iv[8] = { /* FIPS 180-4 5.3.3 */
		0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
		0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
	};
	memcpy(h->st, iv, sizeof(iv));
	h->nbytes = 0;
	h->blocks = pick_blocks();
}

void sha256_update(struct sha256 *h, const void *data, size_t n)
{
	const unsigned char *p = data;
	size_t used = (size_t)(h->nbytes & 63);

	h->nbytes += n;
	if (used) {
		size_t take = 64 - used < n ? 64 - used : n;
		memcpy(h->buf + used, p, take);
		p += take;
		n -= take;
		if (used + take < 64)
			return;
		h->blocks(h->st, h->buf, 1);
	}
	/* Whole blocks straight from the caller's memory: no copy. */
	if (n >= 64) {
		h->blocks(h->st, p, n / 64);
		p += n & ~(size_t)63;
		n &= 63;
	}
	if (n)
		memcpy(h->buf, p, n);
}

void sha256_final(struct sha256 *h, struct digest *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t used = (size_t)(h->nbytes & 63);
	uint64_t bits = h->nbytes * 8;   /* FIPS 180-4 5.1.1: length mod 2^64 */
	unsigned char sum[32];

	h->buf[used++] = 0x80;
	if (used > 56) {
		memset(h->buf + used, 0, 64 - used);
		h->blocks(h->st, h->buf, 1);
		used = 0;
	}
	memset(h->buf + used, 0, 56 - used);
	store_be32(h->buf + 56, (uint32_t)(bits >> 32));
	store_be32(h->buf + 60, (uint32_t)bits);
	h->blocks(h->st, h->buf, 1);
	for (int i = 0; i < 8; i++)
		store_be32(sum + 4 * i, h->st[i]);

	memcpy(out->s, "sha256:", 7);
	for (int i = 0; i < 32; i++) {
		out->s[7 + 2 * i] = hex[sum[i] >> 4];
		out->s[8 + 2 * i] = hex[sum[i] & 15];
	}
	out->s[DIGEST_STR_LEN] = '\0';
}

void sha256_digest(const void *p, size_t n, struct digest *out)
{
	struct sha256 h;
	sha256_init(&h);
	sha256_update(&h, p, n);
	sha256_final(&h, out);
}

static int check_end(struct digest_reader *dr, struct err *e)
{
	struct digest got;

	dr->done = 1;
	if (dr->want_size >= 0 && (long long)dr->h.nbytes != dr->want_size)
		return err_set(e, -EBADMSG, "size mismatch for %s: expected %lld bytes, got %llu",
			       dr->what, dr->want_size, (unsigned long long)dr->h.nbytes);
	if (dr->want) {
		struct sha256 copy = dr->h;
		sha256_final(&copy, &got);
		if (strcmp(got.s, dr->want->s) != 0)
			return err_set(e, -EBADMSG, "digest mismatch for %s: expected %s, got %s",
				       dr->what, dr->want->s, got.s);
	}
	return 0;
}

static ssize_t digest_read(struct reader *r, void *p, size_t n, struct err *e)
{
	struct digest_reader *dr = (struct digest_reader *)r;
	ssize_t got;

	if (dr->done)
		return 0;
	if (dr->want_size >= 0) {
		unsigned long long left = (unsigned long long)dr->want_size - dr->h.nbytes;
		if (left == 0) {
			/* Declared size reached: one probe byte tells an honest end
			 * from a body longer than declared. */
			unsigned char probe;
			got = dr->in->read(dr->in, &probe, 1, e);
			if (got < 0)
				return got;
			if (got > 0) {
				dr->done = 1;
				return err_set(e, -EFBIG, "%s is longer than its declared %lld bytes",
					       dr->what, dr->want_size);
			}
			int rc = check_end(dr, e);
			return rc < 0 ? rc : 0;
		}
		if (n > left)
			n = (size_t)left;
	}
	got = dr->in->read(dr->in, p, n, e);
	if (got < 0)
		return got;
	if (got == 0) {
		int rc = check_end(dr, e);
		return rc < 0 ? rc : 0;
	}
	sha256_update(&dr->h, p, (size_t)got);
	return got;
}

void digest_reader_init(struct digest_reader *dr, struct reader *in,
			long long want_size, const struct digest *want,
			const char *what)
{
	dr->r.read = digest_read;
	dr->r.close = NULL;
	dr->in = in;
	sha256_init(&dr->h);
	dr->want_size = want_size;
	dr->want = want;
	dr->what = what;
	dr->done = 0;
}

void digest_reader_result(struct digest_reader *dr, struct digest *out)
{
	struct sha256 copy = dr->h;
	sha256_final(&copy, out);
}
