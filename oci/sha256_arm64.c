/* SHA-256 block function with the ARMv8 SHA2 instructions, for
 * oci/digest.c, which calls sha256__arm64_probe() once: on Linux the
 * kernel reports the instructions in AT_HWCAP; every Apple silicon CPU
 * has them.  Enabled per function (target attribute) so the rest of the
 * binary still runs on arm64 CPUs without them.  Written from the Arm
 * ARM's SHA256H/SHA256H2/SHA256SU0/SHA256SU1 definitions; on other
 * architectures the probe just says "no". */
#include "oci/digest.h"

#if defined(__aarch64__)

#include <arm_neon.h>
#if defined(__linux__)
#include <sys/auxv.h>
#ifndef HWCAP_SHA2
#define HWCAP_SHA2 (1 << 6)   /* arch/arm64/include/uapi/asm/hwcap.h */
#endif
#endif

#define SHA_TARGET __attribute__((target("sha2")))

/* W[t..t+3]: su0 adds sigma0(W[t-15]) to W[t-16], su1 adds W[t-7] and
 * sigma1(W[t-2]). */
#define SCHEDULE(w0, w1, w2, w3) vsha256su1q_u32(vsha256su0q_u32(w0, w1), w2, w3)

/* Four rounds: SHA256H gives the new A..D, SHA256H2 the new E..H, and
 * both need the A..D from before the rounds. */
#define ROUNDS4(w, i) do { \
	uint32x4_t wk_ = vaddq_u32(w, vld1q_u32(&sha256__K[4 * (i)])); \
	uint32x4_t abcd_ = abcd; \
	abcd = vsha256hq_u32(abcd, efgh, wk_); \
	efgh = vsha256h2q_u32(efgh, abcd_, wk_); \
} while (0)

SHA_TARGET static void arm64_blocks(uint32_t st[8], const unsigned char *p, size_t nblocks)
{
	uint32x4_t abcd = vld1q_u32(&st[0]), efgh = vld1q_u32(&st[4]);

	for (; nblocks > 0; nblocks--, p += 64) {
		uint32x4_t abcd0 = abcd, efgh0 = efgh;
		/* Message words are big-endian: byte-swap each 32-bit lane. */
		uint32x4_t w0 = vreinterpretq_u32_u8(vrev32q_u8(vld1q_u8(p + 0)));
		uint32x4_t w1 = vreinterpretq_u32_u8(vrev32q_u8(vld1q_u8(p + 16)));
		uint32x4_t w2 = vreinterpretq_u32_u8(vrev32q_u8(vld1q_u8(p + 32)));
		uint32x4_t w3 = vreinterpretq_u32_u8(vrev32q_u8(vld1q_u8(p + 48)));

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
		abcd = vaddq_u32(abcd, abcd0);
		efgh = vaddq_u32(efgh, efgh0);
	}
	vst1q_u32(&st[0], abcd);
	vst1q_u32(&st[4], efgh);
}

#if defined(__APPLE__)
static int have_sha2(void) { return 1; }
#elif defined(__linux__)
static int have_sha2(void) { return (getauxval(AT_HWCAP) & HWCAP_SHA2) != 0; }
#else
static int have_sha2(void) { return 0; }
#endif

sha256__blocks_fn *sha256__arm64_probe(void)
{
	return have_sha2() ? arm64_blocks : NULL;
}

#else

sha256__blocks_fn *sha256__arm64_probe(void)
{
	return NULL;
}

#endif
