/* The bulk of AES-GCM with AES-NI and PCLMULQDQ, for oci/gcm.c, which
 * uses it only when gcm__x86_probe() says the CPU has both (and SSSE3 for
 * the byte shuffles).  Instructions are enabled per function (target
 * attribute), so the rest of the binary runs on any x86-64; on other
 * architectures the probe says "no" and the rest is never called.
 *
 * CTR: 8 counter blocks in flight, so AESENC's latency is hidden behind
 * the other 7 blocks' rounds.
 * GHASH: blocks are byte-reversed into one 128-bit integer each, so bit i
 * holds the coefficient of x^(127-i) ("reflected"); a carry-less multiply
 * of two reflected values is the reflected product shifted right by one,
 * hence the shift left before reducing modulo x^128 + x^7 + x^2 + x + 1.
 * 8 blocks share one reduction: X1*H^8 + X2*H^7 + ... + X8*H, with the
 * powers of H computed once per key, each product by Karatsuba (3
 * multiplies).  Opening runs GHASH and CTR in one loop.  Written from the carry-less
 * multiplication and GCM definitions (SP 800-38D 6.3, Intel SDM PCLMULQDQ). */
#include "oci/gcm.h"

#if defined(__x86_64__)

#include <cpuid.h>
#include <immintrin.h>

#define GCM_TARGET __attribute__((target("aes,pclmul,ssse3")))

int gcm__x86_probe(void)
{
	unsigned a, b, c, d;

	if (!__get_cpuid(1, &a, &b, &c, &d))
		return 0;
	return (c & bit_AES) && (c & bit_PCLMUL) && (c & bit_SSSE3);
}

GCM_TARGET static inline __m128i bswap(__m128i v)
{
	return _mm_shuffle_epi8(v, _mm_set_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13,
						14, 15));
}

/* lo/mid/hi ^= the three parts of a*b (schoolbook, 4 multiplies). */
GCM_TARGET static inline void clmul_acc(__m128i a, __m128i b, __m128i *lo, __m128i *mid,
					__m128i *hi)
{
	*lo = _mm_xor_si128(*lo, _mm_clmulepi64_si128(a, b, 0x00));
	*hi = _mm_xor_si128(*hi, _mm_clmulepi64_si128(a, b, 0x11));
	*mid = _mm_xor_si128(*mid, _mm_xor_si128(_mm_clmulepi64_si128(a, b, 0x01),
						 _mm_clmulepi64_si128(a, b, 0x10)));
}

/* The same by Karatsuba, 3 multiplies: bk holds b's two halves xored
 * (low lane), and kmid collects (a1^a0)(b1^b0), which is mid ^ lo ^ hi;
 * kara_mid() turns the sums back into mid (all of it is linear, so one
 * conversion serves 8 products). */
GCM_TARGET static inline void kara_acc(__m128i a, __m128i b, __m128i bk, __m128i *lo,
				       __m128i *kmid, __m128i *hi)
{
	__m128i ak = _mm_xor_si128(a, _mm_srli_si128(a, 8));

	*lo = _mm_xor_si128(*lo, _mm_clmulepi64_si128(a, b, 0x00));
	*hi = _mm_xor_si128(*hi, _mm_clmulepi64_si128(a, b, 0x11));
	*kmid = _mm_xor_si128(*kmid, _mm_clmulepi64_si128(ak, bk, 0x00));
}

GCM_TARGET static inline __m128i kara_mid(__m128i lo, __m128i kmid, __m128i hi)
{
	return _mm_xor_si128(kmid, _mm_xor_si128(lo, hi));
}

/* [X1:X0] shifted right by s bits as one 128-bit value. */
#define SHR128(v, s) _mm_or_si128(_mm_srli_epi64(v, s), \
				  _mm_slli_epi64(_mm_srli_si128(v, 8), 64 - (s)))

/* The 256-bit product hi:mid:lo (mid straddles the halves) -> reflected
 * field element. */
GCM_TARGET static inline __m128i reduce(__m128i lo, __m128i mid, __m128i hi)
{
	__m128i cl, ch, t;

	lo = _mm_xor_si128(lo, _mm_slli_si128(mid, 8));
	hi = _mm_xor_si128(hi, _mm_srli_si128(mid, 8));
	/* Undo the reflection's one-bit offset: [hi:lo] <<= 1. */
	cl = _mm_srli_epi64(lo, 63);
	ch = _mm_srli_epi64(hi, 63);
	lo = _mm_or_si128(_mm_slli_epi64(lo, 1), _mm_slli_si128(cl, 8));
	hi = _mm_or_si128(_mm_or_si128(_mm_slli_epi64(hi, 1), _mm_slli_si128(ch, 8)),
			  _mm_srli_si128(cl, 8));
	/* lo holds the coefficients of x^128..x^255 (x^255 at bit 0).  Each
	 * x^(128+i) becomes x^i (1 + x + x^2 + x^7): lo xor lo>>1, >>2, >>7.
	 * The bits those shifts push out of bit 0 are x^128..x^134 again;
	 * adding them into lo's top first (X0 << 63, 62, 57 into the high
	 * word) folds them in the same pass. */
	t = _mm_xor_si128(_mm_xor_si128(_mm_slli_epi64(lo, 63), _mm_slli_epi64(lo, 62)),
			  _mm_slli_epi64(lo, 57));
	lo = _mm_xor_si128(lo, _mm_slli_si128(t, 8));
	t = _mm_xor_si128(_mm_xor_si128(lo, SHR128(lo, 1)), _mm_xor_si128(SHR128(lo, 2),
									  SHR128(lo, 7)));
	return _mm_xor_si128(hi, t);
}

GCM_TARGET static inline __m128i gfmul(__m128i a, __m128i b)
{
	__m128i lo = _mm_setzero_si128(), mid = lo, hi = lo;

	clmul_acc(a, b, &lo, &mid, &hi);
	return reduce(lo, mid, hi);
}

GCM_TARGET void gcm__x86_init(struct gcm_key *k)
{
	__m128i h = bswap(_mm_loadu_si128((const __m128i *)k->h)), p = h;

	for (int i = 0; i < 8; i++) {
		if (i)
			p = gfmul(p, h);
		_mm_storeu_si128((__m128i *)k->hpow[i], p);
		_mm_storeu_si128((__m128i *)k->hkar[i], _mm_xor_si128(p, _mm_srli_si128(p, 8)));
	}
}

/* The 8-block loops are spelled out: compilers at -O2 keep an array of
 * 8 blocks in memory, a load and a store around every AESENC. */
#define EACH8(OP) OP(0) OP(1) OP(2) OP(3) OP(4) OP(5) OP(6) OP(7)

/* acc = (acc ^ C1) H^8 + C2 H^7 + ... + C8 H, one reduction. */
GCM_TARGET static inline __m128i ghash8(const struct gcm_key *k, __m128i acc, const uint8_t *in)
{
	const __m128i *hp = (const __m128i *)k->hpow, *hk = (const __m128i *)k->hkar;
	__m128i lo = _mm_setzero_si128(), km = lo, hi = lo;

#define GHASH_ONE(j) kara_acc(j ? bswap(_mm_loadu_si128((const __m128i *)(in + 16 * j))) \
			      : _mm_xor_si128(acc, bswap(_mm_loadu_si128((const __m128i *)in))), \
			      _mm_loadu_si128(hp + 7 - j), _mm_loadu_si128(hk + 7 - j), &lo, &km, &hi);
	EACH8(GHASH_ONE)
	return reduce(lo, kara_mid(lo, km, hi), hi);
}

GCM_TARGET static inline __m128i ghash1(const struct gcm_key *k, __m128i acc, const uint8_t *in)
{
	return gfmul(_mm_xor_si128(acc, bswap(_mm_loadu_si128((const __m128i *)in))),
		     _mm_loadu_si128((const __m128i *)k->hpow[0]));
}

GCM_TARGET void gcm__x86_ghash(const struct gcm_key *k, uint8_t x[16], const uint8_t *in,
			       size_t nblocks)
{
	__m128i acc = bswap(_mm_loadu_si128((const __m128i *)x));

	for (; nblocks >= 8; nblocks -= 8, in += 128)
		acc = ghash8(k, acc, in);
	for (; nblocks; nblocks--, in += 16)
		acc = ghash1(k, acc, in);
	_mm_storeu_si128((__m128i *)x, bswap(acc));
}

/* 8 counter blocks (from ctr, whose lane 0 is the counter as a native
 * integer: adding to that 32-bit lane wraps modulo 2^32 as inc32 must)
 * xored into in; returns the next counter. */
GCM_TARGET static inline __m128i ctr8(const struct gcm_key *k, __m128i ctr, const uint8_t *in,
				      uint8_t *out)
{
	const __m128i *rk = (const __m128i *)k->rk;
	__m128i r = _mm_loadu_si128(rk), b0, b1, b2, b3, b4, b5, b6, b7;

#define CTR_FIRST(j) b##j = _mm_xor_si128(bswap(_mm_add_epi32(ctr, _mm_set_epi32(0, 0, 0, j))), r);
	EACH8(CTR_FIRST)
	for (int i = 1; i < k->rounds; i++) {
		r = _mm_loadu_si128(rk + i);
#define CTR_ROUND(j) b##j = _mm_aesenc_si128(b##j, r);
		EACH8(CTR_ROUND)
	}
	r = _mm_loadu_si128(rk + k->rounds);
#define CTR_LAST(j) _mm_storeu_si128((__m128i *)(out + 16 * j), \
			_mm_xor_si128(_mm_aesenclast_si128(b##j, r), \
				      _mm_loadu_si128((const __m128i *)(in + 16 * j))));
	EACH8(CTR_LAST)
	return _mm_add_epi32(ctr, _mm_set_epi32(0, 0, 0, 8));
}

GCM_TARGET static inline __m128i ctr1(const struct gcm_key *k, __m128i ctr, const uint8_t *in,
				      uint8_t *out)
{
	const __m128i *rk = (const __m128i *)k->rk;
	__m128i b = _mm_xor_si128(bswap(ctr), _mm_loadu_si128(rk));

	for (int i = 1; i < k->rounds; i++)
		b = _mm_aesenc_si128(b, _mm_loadu_si128(rk + i));
	b = _mm_aesenclast_si128(b, _mm_loadu_si128(rk + k->rounds));
	_mm_storeu_si128((__m128i *)out, _mm_xor_si128(b, _mm_loadu_si128((const __m128i *)in)));
	return _mm_add_epi32(ctr, _mm_set_epi32(0, 0, 0, 1));
}

GCM_TARGET void gcm__x86_ctr(const struct gcm_key *k, uint8_t cb[16], const uint8_t *in,
			     uint8_t *out, size_t nblocks)
{
	__m128i ctr = bswap(_mm_loadu_si128((const __m128i *)cb));

	for (; nblocks >= 8; nblocks -= 8, in += 128, out += 128)
		ctr = ctr8(k, ctr, in, out);
	for (; nblocks; nblocks--, in += 16, out += 16)
		ctr = ctr1(k, ctr, in, out);
	_mm_storeu_si128((__m128i *)cb, bswap(ctr));
}

/* Opening: GHASH and CTR over the same 8 blocks in one loop, so that the
 * CPU overlaps the multiplies of one with the AES rounds of the other
 * (GHASH reads each group before CTR overwrites it in place). */
GCM_TARGET void gcm__x86_open(const struct gcm_key *k, uint8_t cb[16], uint8_t x[16],
			      const uint8_t *in, uint8_t *out, size_t nblocks)
{
	__m128i ctr = bswap(_mm_loadu_si128((const __m128i *)cb));
	__m128i acc = bswap(_mm_loadu_si128((const __m128i *)x));

	for (; nblocks >= 8; nblocks -= 8, in += 128, out += 128) {
		acc = ghash8(k, acc, in);
		ctr = ctr8(k, ctr, in, out);
	}
	for (; nblocks; nblocks--, in += 16, out += 16) {
		acc = ghash1(k, acc, in);
		ctr = ctr1(k, ctr, in, out);
	}
	_mm_storeu_si128((__m128i *)cb, bswap(ctr));
	_mm_storeu_si128((__m128i *)x, bswap(acc));
}

#else /* !__x86_64__ */

int gcm__x86_probe(void)
{
	return 0;
}

void gcm__x86_init(struct gcm_key *k)
{
	(void)k;
}

void gcm__x86_ctr(const struct gcm_key *k, uint8_t cb[16], const uint8_t *in,
		  uint8_t *out, size_t nblocks)
{
	(void)k, (void)cb, (void)in, (void)out, (void)nblocks;
}

void gcm__x86_ghash(const struct gcm_key *k, uint8_t x[16], const uint8_t *in,
		    size_t nblocks)
{
	(void)k, (void)x, (void)in, (void)nblocks;
}

void gcm__x86_open(const struct gcm_key *k, uint8_t cb[16], uint8_t x[16],
		   const uint8_t *in, uint8_t *out, size_t nblocks)
{
	(void)k, (void)cb, (void)x, (void)in, (void)out, (void)nblocks;
}

#endif
