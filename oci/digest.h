/* Content digests (OCI image-spec "Digests").  Only sha256 is produced;
 * sha512 may be verified later.  A digest string is "sha256:" + 64 lowercase
 * hex characters; anything else is refused (so "sha256:../../x" can never
 * become a path).  Used by the content store, the registry client and the
 * layer unpacker (diff_id). */
#ifndef OCI_DIGEST_H
#define OCI_DIGEST_H

#include <stddef.h>
#include <stdint.h>
#include "lib/stream.h"

struct err;

#define DIGEST_HEX_LEN 64
#define DIGEST_STR_LEN (7 + DIGEST_HEX_LEN)   /* "sha256:" + hex, no NUL */

/* A validated digest: "sha256:<64 hex>\0". */
struct digest {
	char s[DIGEST_STR_LEN + 1];
};

/* Validate and copy; -EINVAL with a message quoting (a safe prefix of)
 * the input otherwise.  Upper-case hex is refused, as in the spec. */
int digest_parse(const char *s, struct digest *out, struct err *e);
/* Pointer to the 64 hex characters (for paths like blobs/sha256/<hex>). */
static inline const char *digest_hex(const struct digest *d) { return d->s + 7; }

/* Streaming sha256 (FIPS 180-4).  The compression function is chosen
 * once per hash at sha256_init: SHA-NI on x86-64, the ARMv8 SHA2
 * instructions on arm64, portable C otherwise.  Plain data: a copy of a
 * struct sha256 is an independent hash of the same prefix. */
typedef void sha256__blocks_fn(uint32_t st[8], const unsigned char *p, size_t nblocks);
struct sha256 {
	uint32_t st[8];
	unsigned char buf[64];   /* partial block, nbytes % 64 bytes used */
	uint64_t nbytes;         /* bytes hashed so far (the digest reader reads it) */
	sha256__blocks_fn *blocks;
};
void sha256_init(struct sha256 *h);
void sha256_update(struct sha256 *h, const void *p, size_t n);
void sha256_final(struct sha256 *h, struct digest *out);
/* One-shot. */
void sha256_digest(const void *p, size_t n, struct digest *out);

/* A reader stage that hashes everything read through it and, at end of
 * stream, checks size (if want_size >= 0) and digest (if want != NULL):
 * -EBADMSG "digest mismatch for <what>: expected X, got Y" / size
 * mismatch.  It never reads past want_size: a longer body is an error
 * (-EFBIG) detected by reading at most one byte more. */
struct digest_reader {
	struct reader r;
	struct reader *in;       /* borrowed */
	struct sha256 h;
	long long want_size;     /* -1 = unknown */
	const struct digest *want; /* borrowed; NULL = don't check */
	const char *what;
	int done;
};
void digest_reader_init(struct digest_reader *dr, struct reader *in,
			long long want_size, const struct digest *want,
			const char *what);
/* After EOF: the digest of what was read. */
void digest_reader_result(struct digest_reader *dr, struct digest *out);

/* Internal (oci/digest.c, oci/sha256_*.c, tests and the sha256 bench).
 * The accelerated compression functions, or NULL when this CPU (or this
 * architecture) lacks the instructions. */
extern const uint32_t sha256__K[64];   /* round constants, 16-byte aligned */
sha256__blocks_fn *sha256__x86_probe(void);
sha256__blocks_fn *sha256__arm64_probe(void);
/* Tests and benchmarks: make later sha256_init()s use portable C (on != 0)
 * or the best available implementation (on == 0); not thread-safe. */
void sha256__force_portable(int on);
/* "sha-ni", "armv8-sha2" or "portable": what sha256_init picks now. */
const char *sha256__impl_name(void);

#endif
