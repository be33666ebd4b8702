/* Decompression stages (see oci/decompress.h).  Called by the layer
 * unpacker and the pull path; the tar reader sits on top.
 *
 * One struct for all kinds: it owns a 64 KiB input buffer, which also
 * holds the bytes read to sniff the magic for DECOMPRESS_AUTO, so nothing
 * has to be pushed back into the stage below. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "lib/err.h"
#include "lib/mem.h"
#include "lib/stream.h"
#include "oci/decompress.h"

#define IBUF (64 * 1024)

struct dstage {
	struct reader r;
	struct reader *in;
	enum decompress_kind kind;
	uint64_t max_out, n_out, n_in;
	unsigned char *ibuf;
	size_t ipos, ilen;
	bool in_eof, sniffed, started, between, done, failed;
	struct err fail;
	z_stream z;
	bool z_init;
	ZSTD_DCtx *zd;
	size_t zret;
};

static const struct { const char *mt; enum decompress_kind k; } media_types[] = {
	{ "application/vnd.oci.image.layer.v1.tar", DECOMPRESS_NONE },
	{ "application/vnd.oci.image.layer.v1.tar+gzip", DECOMPRESS_GZIP },
	{ "application/vnd.oci.image.layer.v1.tar+zstd", DECOMPRESS_ZSTD },
	{ "application/vnd.oci.image.layer.nondistributable.v1.tar", DECOMPRESS_NONE },
	{ "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", DECOMPRESS_GZIP },
	{ "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd", DECOMPRESS_ZSTD },
	{ "application/vnd.docker.image.rootfs.diff.tar", DECOMPRESS_NONE },
	{ "application/vnd.docker.image.rootfs.diff.tar.gzip", DECOMPRESS_GZIP },
	{ "application/vnd.docker.image.rootfs.diff.tar.zstd", DECOMPRESS_ZSTD },
	{ "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", DECOMPRESS_GZIP },
};

int decompress_kind_for_media_type(const char *media_type,
				   enum decompress_kind *out, struct err *e)
{
	for (size_t i = 0; i < ARRAY_SIZE(media_types); i++) {
		if (!strcmp(media_type, media_types[i].mt)) {
			*out = media_types[i].k;
			return 0;
		}
	}
	return err_set(e, -ENOTSUP, "unsupported layer media type \"%.200s\"", media_type);
}

const char *decompress_kind_name(enum decompress_kind k)
{
	switch (k) {
	case DECOMPRESS_NONE: return "uncompressed";
	case DECOMPRESS_GZIP: return "gzip";
	case DECOMPRESS_ZSTD: return "zstd";
	case DECOMPRESS_AUTO: return "auto";
	}
	return "?";
}

static __attribute__((format(printf, 4, 5)))
ssize_t fail(struct dstage *d, struct err *e, int code, const char *fmt, ...)
{
	char msg[ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	err_set(&d->fail, code, "%s: %s", decompress_kind_name(d->kind), msg);
	d->failed = true;
	if (e)
		*e = d->fail;
	return d->fail.code;
}

/* Keep the unread bytes, read more after them; sets in_eof at the end. */
static int refill(struct dstage *d, struct err *e)
{
	ssize_t got;

	if (d->ipos > 0) {
		memmove(d->ibuf, d->ibuf + d->ipos, d->ilen - d->ipos);
		d->ilen -= d->ipos;
		d->ipos = 0;
	}
	if (d->ilen == IBUF || d->in_eof)
		return 0;
	got = reader_read(d->in, d->ibuf + d->ilen, IBUF - d->ilen, e);
	if (got < 0) {
		d->failed = true;
		d->fail = e ? *e : (struct err)ERR_INIT;
		if (!d->fail.code)
			err_set(&d->fail, (int)got, "read error");
		return (int)got;
	}
	if (got == 0)
		d->in_eof = true;
	d->ilen += (size_t)got;
	d->n_in += (uint64_t)got;
	return 0;
}

static ssize_t gz_read(struct dstage *d, unsigned char *p, size_t n, struct err *e)
{
	int rc;

	for (;;) {
		size_t avail, produced, consumed;

		if (d->ipos == d->ilen && !d->in_eof && (rc = refill(d, e)) < 0)
			return rc;
		if (d->between) {
			if (d->ipos == d->ilen) {
				d->done = true;
				return 0;
			}
			if (d->ilen - d->ipos < 2 && !d->in_eof) {
				if ((rc = refill(d, e)) < 0)
					return rc;
				continue;
			}
			if (d->ilen - d->ipos < 2 || d->ibuf[d->ipos] != 0x1f ||
			    d->ibuf[d->ipos + 1] != 0x8b)
				return fail(d, e, -EBADMSG, "garbage after the last member "
					    "at byte %llu", (unsigned long long)
					    (d->n_in - (d->ilen - d->ipos)));
			inflateReset(&d->z);
			d->between = false;
		}
		/* Called even with no input left: inflate may still owe output. */
		avail = d->ilen - d->ipos;
		d->z.next_in = d->ibuf + d->ipos;
		d->z.avail_in = (uInt)avail;
		d->z.next_out = p;
		d->z.avail_out = (uInt)n;
		rc = inflate(&d->z, Z_NO_FLUSH);
		consumed = avail - d->z.avail_in;
		produced = n - d->z.avail_out;
		d->ipos += consumed;
		if (consumed)
			d->started = true;
		switch (rc) {
		case Z_STREAM_END:
			d->between = true;
			break;
		case Z_OK:
		case Z_BUF_ERROR:
			if (consumed || produced)
				break;
			if (d->ipos < d->ilen)
				return fail(d, e, -EIO, "inflate made no progress");
			if (d->in_eof)
				return fail(d, e, -EPROTO, d->started ? "truncated stream" :
					    "empty stream");
			break;
		case Z_MEM_ERROR:
			return fail(d, e, -ENOMEM, "out of memory");
		default:
			return fail(d, e, -EBADMSG, "corrupt data: %s",
				    d->z.msg ? d->z.msg : "unknown error");
		}
		if (produced)
			return (ssize_t)produced;
	}
}

static ssize_t zstd_read(struct dstage *d, unsigned char *p, size_t n, struct err *e)
{
	int rc;

	for (;;) {
		ZSTD_inBuffer zin;
		ZSTD_outBuffer zout = { p, n, 0 };
		size_t ret;

		if (d->ipos == d->ilen && !d->in_eof && (rc = refill(d, e)) < 0)
			return rc;
		if (d->ipos == d->ilen && d->in_eof) {
			if (!d->started)
				return fail(d, e, -EPROTO, "empty stream");
			if (d->zret == 0) {
				d->done = true;
				return 0;
			}
			/* fall through: the decoder may still owe output */
		}
		zin = (ZSTD_inBuffer){ d->ibuf + d->ipos, d->ilen - d->ipos, 0 };
		ret = ZSTD_decompressStream(d->zd, &zout, &zin);
		d->ipos += zin.pos;
		if (zin.pos)
			d->started = true;
		if (ZSTD_isError(ret)) {
			ZSTD_ErrorCode c = ZSTD_getErrorCode(ret);
			if (c == ZSTD_error_frameParameter_windowTooLarge)
				return fail(d, e, -E2BIG, "frame needs a window over %u bytes",
					    1u << DECOMPRESS_ZSTD_WINDOW_LOG_MAX);
			if (c == ZSTD_error_memory_allocation)
				return fail(d, e, -ENOMEM, "out of memory");
			return fail(d, e, -EBADMSG, "corrupt data: %s", ZSTD_getErrorName(ret));
		}
		d->zret = ret;
		if (zout.pos)
			return (ssize_t)zout.pos;
		if (!zin.pos) {
			if (d->in_eof && d->ipos == d->ilen)
				return fail(d, e, -EPROTO, "truncated stream");
			return fail(d, e, -EIO, "zstd made no progress");
		}
	}
}

static ssize_t id_read(struct dstage *d, unsigned char *p, size_t n, struct err *e)
{
	ssize_t got;

	if (d->ipos < d->ilen) {
		size_t k = d->ilen - d->ipos < n ? d->ilen - d->ipos : n;
		memcpy(p, d->ibuf + d->ipos, k);
		d->ipos += k;
		return (ssize_t)k;
	}
	if (d->in_eof)
		return 0;
	got = reader_read(d->in, p, n, e);
	if (got < 0) {
		d->failed = true;
		d->fail = e ? *e : (struct err)ERR_INIT;
		if (!d->fail.code)
			err_set(&d->fail, (int)got, "read error");
		return got;
	}
	if (got == 0)
		d->in_eof = true;
	d->n_in += (uint64_t)got;
	return got;
}

static int setup(struct dstage *d, struct err *e)
{
	int rc;

	if (d->kind == DECOMPRESS_AUTO) {
		while (d->ilen < 6 && !d->in_eof)
			if ((rc = refill(d, e)) < 0)
				return rc;
		const unsigned char *b = d->ibuf;
		if (d->ilen >= 2 && b[0] == 0x1f && b[1] == 0x8b)
			d->kind = DECOMPRESS_GZIP;
		else if (d->ilen >= 4 && !memcmp(b, "\x28\xb5\x2f\xfd", 4))
			d->kind = DECOMPRESS_ZSTD;
		else if (d->ilen >= 3 && !memcmp(b, "BZh", 3))
			return (int)fail(d, e, -ENOTSUP, "bzip2 layers are not supported");
		else if (d->ilen >= 6 && !memcmp(b, "\xfd" "7zXZ\0", 6))
			return (int)fail(d, e, -ENOTSUP, "xz layers are not supported");
		else
			d->kind = DECOMPRESS_NONE;
	}
	if (d->kind == DECOMPRESS_GZIP) {
		/* 15 + 16: a gzip wrapper only, the largest window. */
		if (inflateInit2(&d->z, 15 + 16) != Z_OK)
			return (int)fail(d, e, -ENOMEM, "cannot initialise zlib");
		d->z_init = true;
	} else if (d->kind == DECOMPRESS_ZSTD) {
		d->zd = ZSTD_createDCtx();
		if (!d->zd)
			return (int)fail(d, e, -ENOMEM, "cannot initialise zstd");
		ZSTD_DCtx_setParameter(d->zd, ZSTD_d_windowLogMax,
				       DECOMPRESS_ZSTD_WINDOW_LOG_MAX);
	}
	d->sniffed = true;
	return 0;
}

static ssize_t dstage_read(struct reader *r, void *p, size_t n, struct err *e)
{
	struct dstage *d = (struct dstage *)r;
	ssize_t got;
	int rc;

	if (d->failed) {
		if (e)
			*e = d->fail;
		return d->fail.code;
	}
	if (!d->sniffed && (rc = setup(d, e)) < 0)
		return rc;
	if (d->done || n == 0)
		return 0;
	/* Ask for at most one byte past the cap: enough to see it crossed. */
	if (d->max_out && n > d->max_out - d->n_out + 1)
		n = (size_t)(d->max_out - d->n_out + 1);
	if (n > UINT32_MAX)
		n = UINT32_MAX;   /* zlib counts in uInt */
	switch (d->kind) {
	case DECOMPRESS_GZIP: got = gz_read(d, p, n, e); break;
	case DECOMPRESS_ZSTD: got = zstd_read(d, p, n, e); break;
	default: got = id_read(d, p, n, e); break;
	}
	if (got <= 0)
		return got;
	d->n_out += (uint64_t)got;
	if (d->max_out && d->n_out > d->max_out)
		return fail(d, e, -EFBIG, "decompressed data exceeds the cap of %llu bytes",
			    (unsigned long long)d->max_out);
	return got;
}

static void dstage_close(struct reader *r)
{
	struct dstage *d = (struct dstage *)r;

	if (d->z_init)
		inflateEnd(&d->z);
	ZSTD_freeDCtx(d->zd);
	free(d->ibuf);
	free(d);
}

struct reader *decompress_open(struct reader *in, enum decompress_kind kind,
			       uint64_t max_out)
{
	struct dstage *d = xcalloc(1, sizeof(*d));

	d->r.read = dstage_read;
	d->r.close = dstage_close;
	d->in = in;
	d->kind = kind;
	d->max_out = max_out;
	d->ibuf = xmalloc(IBUF);
	return &d->r;
}

void decompress_counts(struct reader *r, uint64_t *in, uint64_t *out)
{
	struct dstage *d = (struct dstage *)r;

	if (in)
		*in = d->n_in - (d->ilen - d->ipos);
	if (out)
		*out = d->n_out;
}
