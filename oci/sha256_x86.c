/* SHA-256 block function with the x86 SHA extensions (SHA-NI), for
 * oci/digest.c, which calls sha256__x86_probe() once and uses the result
 * only when the CPU has SHA and SSE4.1 (CPUID 7.0:EBX[29], 1:ECX[19]).
 * The instructions are enabled per function (target attribute), so the
 * file needs no global -m flags and the rest of the binary still runs on
 * any x86-64.  Written from the SHA256RNDS2/MSG1/MSG2 definitions in the
 * Intel SDM; on other architectures the probe just says "no". */
#include "oci/digest.h"

#if defined(__x86_64__)

#include <cpuid.h>
#include <immintrin.h>

#define SHA_TARGET __attribute__((target("sha,sse4.1")))

/* W[t..t+3] for the next four rounds from the previous sixteen words:
 * msg1 adds sigma0(W[t-15]) to W[t-16], we add W[t-7] (a 4-byte shift
 * across the two middle registers), msg2 adds sigma1(W[t-2]). */
#define SCHEDULE(w0, w1, w2, w3) \
	_mm_sha256msg2_epu32(_mm_add_epi32(_mm_sha256msg1_epu32(w0, w1), \
					   _mm_alignr_epi8(w3, w2, 4)), w3)

/* Four rounds: SHA256RNDS2 does two with the low two WK lanes, taking
 * (C,D,G,H) and (A,B,E,F) and returning the new (A,B,E,F); the old
 * (A,B,E,F) is the new (C,D,G,H), so the two registers swap roles. */
#define ROUNDS4(w, i) do { \
	__m128i wk_ = _mm_add_epi32(w, _mm_load_si128((const __m128i *)&sha256__K[4 * (i)])); \
	cdgh = _mm_sha256rnds2_epu32(cdgh, abef, wk_); \
	abef = _mm_sha256rnds2_epu32(abef, cdgh, _mm_shuffle_epi32(wk_, 0x0e)); \
} while (0)

SHA_TARGET static void x86_blocks(uint32_t st[8], const unsigned char *p, size_t nblocks)
{
	/* Message words are big-endian: byte-swap each 32-bit lane. */
	const __m128i bswap = _mm_set_epi8(12, 13, 14, 15, 8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3);
	/* st[] = A..H; the instructions want lanes (low..high) F,E,B,A and
	 * H,G,D,C. */
	__m128i dcba = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&st[0]), 0x1b);
	__m128i hgfe = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&st[4]), 0x1b);
	__m128i abef = _mm_unpackhi_epi64(hgfe, dcba);
	__m128i cdgh = _mm_unpacklo_epi64(hgfe, dcba);

	for (; nblocks > 0; nblocks--, p += 64) {
		__m128i abef0 = abef, cdgh0 = cdgh;
		__m128i w0 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 0)), bswap);
		__m128i w1 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 16)), bswap);
		__m128i w2 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 32)), bswap);
		__m128i w3 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 48)), bswap);

		ROUNDS4(w0, 0);
		ROUNDS4(w1, 1);
		ROUNDS4(w2, 2);
		ROUNDS4(w3, 3);
		for (int i = 4; i < 16; i += 4) {
			w0 = SCHEDULE(w0, w1, w2, w3);
			ROUNDS4(w0, i);
			w1 = SCHEDULE(w1, w2, w3, w0);
			ROUNDS4(w1, i + 1);
			w2 = SCHEDULE(w2, w3, w0, w1);
			ROUNDS4(w2, i + 2);
			w3 = SCHEDULE(w3, w0, w1, w2);
			ROUNDS4(w3, i + 3);
		}
		abef = _mm_add_epi32(abef, abef0);
		cdgh = _mm_add_epi32(cdgh, cdgh0);
	}

	dcba = _mm_unpackhi_epi64(cdgh, abef);
	hgfe = _mm_unpacklo_epi64(cdgh, abef);
	_mm_storeu_si128((__m128i *)&st[0], _mm_shuffle_epi32(dcba, 0x1b));
	_mm_storeu_si128((__m128i *)&st[4], _mm_shuffle_epi32(hgfe, 0x1b));
}

sha256__blocks_fn *sha256__x86_probe(void)
{
	unsigned a, b, c, d;

	if (!__get_cpuid_count(1, 0, &a, &b, &c, &d) || !(c & (1u << 19)))
		return NULL;
	if (!__get_cpuid_count(7, 0, &a, &b, &c, &d) || !(b & (1u << 29)))
		return NULL;
	return x86_blocks;
}

#else

sha256__blocks_fn *sha256__x86_probe(void)
{
	return NULL;
}

#endif
