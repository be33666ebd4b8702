/* Streaming decompression stages for layer blobs: gzip (zlib; multi-member
 * streams), zstd (libzstd; window limited) and identity, each a struct
 * reader (lib/stream.h) wrapping the one before:
 *
 *     blob -> digest_reader -> decompress_open(...) -> digest_reader(diff_id)
 *          -> tar_open(...)
 *
 * Strict: a truncated stream is -EPROTO; corrupt data, a bad CRC, or bytes
 * after the last gzip member that are not another member are -EBADMSG
 * (trailing zero padding included: it is garbage too).  A frame that needs
 * a zstd window over 2^DECOMPRESS_ZSTD_WINDOW_LOG_MAX is -E2BIG.  Output
 * past max_out bytes is -EFBIG (decompression bombs): memory stays bounded
 * (a 64 KiB input buffer plus the codec's state) whatever the input.
 * Errors are sticky.  An empty gzip or zstd stream is -EPROTO. */
#ifndef OCI_DECOMPRESS_H
#define OCI_DECOMPRESS_H

#include <stdint.h>

struct err;
struct reader;

#define DECOMPRESS_ZSTD_WINDOW_LOG_MAX 27   /* 128 MiB */

enum decompress_kind {
	DECOMPRESS_NONE,   /* identity */
	DECOMPRESS_GZIP,
	DECOMPRESS_ZSTD,
	DECOMPRESS_AUTO,   /* by magic: gzip, zstd, else identity */
};

/* OCI and Docker layer media types -> kind; -ENOTSUP for others (foreign
 * or unknown compression). */
int decompress_kind_for_media_type(const char *media_type,
				   enum decompress_kind *out, struct err *e);

const char *decompress_kind_name(enum decompress_kind k);

/* A new stage reading from in (borrowed).  max_out caps the decompressed
 * bytes (0 = no cap).  Free with r->close(r).  Never NULL: errors appear
 * at the first read.  DECOMPRESS_AUTO refuses bzip2 and xz by magic
 * (-ENOTSUP). */
struct reader *decompress_open(struct reader *in, enum decompress_kind kind,
			       uint64_t max_out);

/* Bytes consumed from in / produced so far. */
void decompress_counts(struct reader *r, uint64_t *in, uint64_t *out);

#endif
