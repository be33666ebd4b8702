/* AES-GCM (NIST SP 800-38D) for the TLS records of a pull.
 *
 * Callers: oci/gcm_mbedtls.c, which is mbedTLS's GCM on x86_64 builds
 * (MBEDTLS_GCM_ALT, see build.sh), so every AES-GCM cipher suite of
 * oci/tls.c runs here; oci/tls.c asks gcm_accelerated() whether to prefer
 * AES-GCM suites; t/unit/oci_gcm.c and t/tools/gcmbench.c.
 *
 * Two implementations behind one API, chosen per key: on x86_64 CPUs with
 * AES-NI and PCLMULQDQ, oci/gcm_x86.c (8 counter blocks in flight, GHASH
 * over 8 blocks per reduction); elsewhere a portable one (table-driven AES,
 * 4-bit-table GHASH) that is slow but correct.  Neither allocates.
 *
 * These are primitives on the per-record hot path: failures are a negative
 * errno without a struct err (the mbedTLS shim maps them to its codes,
 * once).  A key and a stream are plain memory: no cleanup beyond
 * gcm_wipe() of secrets. */
#ifndef OCI_GCM_H
#define OCI_GCM_H

#include <stddef.h>
#include <stdint.h>

/* An expanded key.  accel says which implementation gcm_key_init chose;
 * tests may clear it to run the portable path on the same key. */
struct gcm_key {
	uint8_t rk[15][16];     /* AES round keys, FIPS-197 byte order */
	int rounds;             /* 10, 12 or 14 */
	int accel;              /* 1: oci/gcm_x86.c */
	uint8_t h[16];          /* E(K, 0^128) */
	uint64_t mhi[16], mlo[16]; /* portable GHASH: nibble n times H */
	uint8_t hpow[8][16];    /* accelerated GHASH: H^1..H^8 as it wants them */
	uint8_t hkar[8][16];    /* and their halves xored, for Karatsuba */
};

/* One message being sealed or opened. */
struct gcm {
	uint8_t ek0[16];        /* E(K, J0), masks the tag */
	uint8_t cb[16];         /* next counter block */
	uint8_t x[16];          /* GHASH accumulator */
	uint8_t ks[16];         /* keystream of the current partial block */
	uint8_t part[16];       /* ciphertext of the current partial block */
	size_t npart;           /* bytes of ks used / of part filled, 0..15 */
	uint64_t len, aad_len;
	int decrypt;
};

/* The most plaintext one message may carry (SP 800-38D 5.2.1.1). */
#define GCM_MAX_LEN ((((uint64_t)1) << 36) - 32)

/* Whether keys get the accelerated implementation on this CPU. */
int gcm_accelerated(void);

/* key_len 16, 24 or 32 (else -EINVAL). */
int gcm_key_init(struct gcm_key *k, const uint8_t *key, size_t key_len);

/* Starts a message: iv_len 1.. (12 is the fast, usual case), the whole
 * additional data at once.  -EINVAL for an empty IV. */
int gcm_start(struct gcm *g, const struct gcm_key *k, int decrypt,
	      const uint8_t *iv, size_t iv_len, const uint8_t *aad, size_t aad_len);
/* Any lengths, in any pieces; out may equal in (not otherwise overlap).
 * -EMSGSIZE past GCM_MAX_LEN. */
int gcm_update(struct gcm *g, const struct gcm_key *k, const uint8_t *in,
	       uint8_t *out, size_t len);
/* The full 16-byte tag; callers truncate. */
void gcm_finish(struct gcm *g, const struct gcm_key *k, uint8_t tag[16]);

/* One-shot forms.  tag_len 4..16.  gcm_open returns -EBADMSG when the tag
 * does not match (compared in constant time) and then zeroes out. */
int gcm_seal(const struct gcm_key *k, const uint8_t *iv, size_t iv_len,
	     const uint8_t *aad, size_t aad_len, const uint8_t *in, uint8_t *out,
	     size_t len, uint8_t *tag, size_t tag_len);
int gcm_open(const struct gcm_key *k, const uint8_t *iv, size_t iv_len,
	     const uint8_t *aad, size_t aad_len, const uint8_t *in, uint8_t *out,
	     size_t len, const uint8_t *tag, size_t tag_len);

/* Zeroes n bytes so that the compiler cannot drop it (keys, states). */
void gcm_wipe(void *p, size_t n);

/* oci/gcm_x86.c, used by oci/gcm.c only. */
int gcm__x86_probe(void);
void gcm__x86_init(struct gcm_key *k);
void gcm__x86_ctr(const struct gcm_key *k, uint8_t cb[16], const uint8_t *in,
		  uint8_t *out, size_t nblocks);
void gcm__x86_ghash(const struct gcm_key *k, uint8_t x[16], const uint8_t *in,
		    size_t nblocks);
/* Both over the same ciphertext: GHASH into x, CTR from cb to out. */
void gcm__x86_open(const struct gcm_key *k, uint8_t cb[16], uint8_t x[16],
		   const uint8_t *in, uint8_t *out, size_t nblocks);

#endif
