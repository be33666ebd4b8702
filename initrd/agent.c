/* The agent protocol codec (see initrd/agent.h for the wire format).
 *
 * Decoding is table-driven: each message type lists the fields it accepts
 * with their kind and whether they are required, so one field walker does
 * every bounds check and a new message cannot forget one.  The walker
 * records where each field is (a fixed array indexed by tag, on the stack)
 * and the per-type code only converts already-validated values. */
#include <errno.h>
#include <string.h>

#include "initrd/agent.h"
#include "lib/buf.h"
#include "lib/err.h"

enum kind { K_U64, K_I64, K_BOOL, K_STR, K_STRV };

struct field_spec {
	uint8_t tag;
	uint8_t kind;
	uint8_t required;
	int64_t min, max;            /* integer range (K_U64 uses max only) */
};

#define U(t, req, mx) { t, K_U64, req, 0, mx }
#define I(t, req, mn, mx) { t, K_I64, req, mn, mx }
#define B(t) { t, K_BOOL, 0, 0, 1 }
#define S(t, req) { t, K_STR, req, 0, 0 }
#define SV(t, req) { t, K_STRV, req, 0, 0 }
#define END { 0, 0, 0, 0, 0 }

static const struct field_spec f_hello[] = {
	U(AGENT_T_MIN_VERSION, 1, 0xffff), U(AGENT_T_MAX_VERSION, 1, 0xffff),
	S(AGENT_T_AGENT, 0), END,
};
static const struct field_spec f_error[] = {
	I(AGENT_T_CODE, 1, INT64_MIN, INT64_MAX), S(AGENT_T_MESSAGE, 1), END,
};
static const struct field_spec f_create[] = {
	SV(AGENT_T_ARGV, 1), SV(AGENT_T_ENV, 0), S(AGENT_T_CWD, 0), S(AGENT_T_USER, 0),
	B(AGENT_T_TTY), U(AGENT_T_ROWS, 0, 0xffff), U(AGENT_T_COLS, 0, 0xffff),
	B(AGENT_T_STDIN), END,
};
static const struct field_spec f_signal[] = { U(AGENT_T_SIGNO, 1, 64), END };
static const struct field_spec f_resize[] = {
	U(AGENT_T_ROWS, 1, 0xffff), U(AGENT_T_COLS, 1, 0xffff), END,
};
static const struct field_spec f_exit[] = {
	I(AGENT_T_STATUS, 1, 0, 255), I(AGENT_T_SIGNAL, 0, 0, 64), END,
};
static const struct field_spec f_stats[] = {
	U(AGENT_T_MEM_TOTAL, 0, INT64_MAX), U(AGENT_T_MEM_AVAILABLE, 0, INT64_MAX),
	U(AGENT_T_CPU_USEC, 0, INT64_MAX), U(AGENT_T_PROCS, 0, INT64_MAX),
	U(AGENT_T_UPTIME_MS, 0, INT64_MAX), U(AGENT_T_CPU_TOTAL_USEC, 0, INT64_MAX),
	U(AGENT_T_CPU_KERNEL_USEC, 0, INT64_MAX), U(AGENT_T_NCPUS, 0, 4096),
	U(AGENT_T_NET_RX_BYTES, 0, INT64_MAX), U(AGENT_T_NET_TX_BYTES, 0, INT64_MAX),
	U(AGENT_T_NET_RX_PACKETS, 0, INT64_MAX), U(AGENT_T_NET_TX_PACKETS, 0, INT64_MAX),
	U(AGENT_T_BLK_READ_BYTES, 0, INT64_MAX), U(AGENT_T_BLK_WRITE_BYTES, 0, INT64_MAX), END,
};
static const struct field_spec f_copy[] = {
	U(AGENT_T_OP, 1, AGENT_COPY_EXPORT), S(AGENT_T_PATH, 1), U(AGENT_T_FLAGS, 0, 15), END,
};
static const struct field_spec f_none[] = { END };

/* How each type's payload is shaped: fields (TLV), raw bytes, or nothing. */
enum shape { P_NONE, P_FIELDS, P_RAW };

static const struct type_info {
	uint8_t type;
	uint8_t shape;
	uint8_t from_host;
	uint8_t stream;              /* 0: must be 0, 1: must be >= 1, 2: any */
	const char *name;
	const struct field_spec *fields;
} types[] = {
	{ AGENT_HELLO, P_FIELDS, 1, 0, "HELLO", f_hello },
	{ AGENT_CONFIG, P_RAW, 1, 0, "CONFIG", f_none },
	{ AGENT_OK, P_NONE, 0, 2, "OK", f_none },
	{ AGENT_ERROR, P_FIELDS, 1, 2, "ERROR", f_error },
	{ AGENT_CREATE, P_FIELDS, 1, 1, "CREATE", f_create },
	{ AGENT_START, P_NONE, 1, 1, "START", f_none },
	{ AGENT_SIGNAL, P_FIELDS, 1, 1, "SIGNAL", f_signal },
	{ AGENT_RESIZE, P_FIELDS, 1, 1, "RESIZE", f_resize },
	{ AGENT_CLOSE_STDIN, P_NONE, 1, 1, "CLOSE_STDIN", f_none },
	{ AGENT_WAIT, P_NONE, 1, 1, "WAIT", f_none },
	{ AGENT_EXIT, P_FIELDS, 0, 1, "EXIT", f_exit },
	{ AGENT_STATS, P_NONE, 1, 0, "STATS", f_none },
	{ AGENT_STATS_REPLY, P_FIELDS, 0, 0, "STATS_REPLY", f_stats },
	{ AGENT_SHUTDOWN, P_NONE, 1, 0, "SHUTDOWN", f_none },
	{ AGENT_COPY, P_FIELDS, 1, 1, "COPY", f_copy },
	{ AGENT_STDIN, P_RAW, 1, 1, "STDIN", f_none },
	{ AGENT_STDOUT, P_RAW, 0, 1, "STDOUT", f_none },
	{ AGENT_STDERR, P_RAW, 0, 1, "STDERR", f_none },
};

static const struct type_info *type_info(unsigned t)
{
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (types[i].type == t)
			return &types[i];
	return NULL;
}

const char *agent_type_name(unsigned type)
{
	const struct type_info *ti = type_info(type);
	return ti ? ti->name : "unknown";
}

bool agent_type_from_host(unsigned type)
{
	const struct type_info *ti = type_info(type);
	return ti && ti->from_host;
}

static bool is_data(unsigned t)
{
	return t == AGENT_STDIN || t == AGENT_STDOUT || t == AGENT_STDERR;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t get64(const uint8_t *p)
{
	return (uint64_t)get32(p) << 32 | get32(p + 4);
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* --- decoding ------------------------------------------------------------ */

struct field {
	const uint8_t *p;
	uint32_t size;
	bool seen;
};

static const struct field_spec *spec_for(const struct field_spec *fs, unsigned tag)
{
	for (; fs->tag; fs++)
		if (fs->tag == tag)
			return fs;
	return NULL;
}

/* A string value: NUL-terminated within size, no other NUL, bounded. */
static int check_str(const uint8_t *p, uint32_t size, const char *what, struct err *e)
{
	if (size == 0 || size > AGENT_STR_MAX)
		return err_set(e, -EBADMSG, "agent: %s: string of %u bytes (1..%u allowed)",
			       what, size, AGENT_STR_MAX);
	if (memchr(p, 0, size) != p + size - 1)
		return err_set(e, -EBADMSG, "agent: %s: string not terminated or with an inner NUL",
			       what);
	return 0;
}

static int check_strv(const uint8_t *p, uint32_t size, struct agent_strv *out, struct err *e)
{
	uint32_t count, off = 4;

	if (size < 4)
		return err_set(e, -EBADMSG, "agent: string list of %u bytes", size);
	count = get32(p);
	if (count > AGENT_STRV_MAX)
		return err_set(e, -EBADMSG, "agent: string list of %u entries (at most %u)",
			       count, AGENT_STRV_MAX);
	for (uint32_t i = 0; i < count; i++) {
		const uint8_t *nul = off < size ? memchr(p + off, 0, size - off) : NULL;
		if (!nul)
			return err_set(e, -EBADMSG, "agent: string list claims %u entries, has %u",
				       count, i);
		if ((size_t)(nul - (p + off)) + 1 > AGENT_STR_MAX)
			return err_set(e, -EBADMSG, "agent: string list entry %u over %u bytes",
				       i, AGENT_STR_MAX);
		off = (uint32_t)(nul - p) + 1;
	}
	if (off != size)
		return err_set(e, -EBADMSG, "agent: string list has %u bytes after its %u entries",
			       size - off, count);
	out->data = (const char *)p + 4;
	out->size = size - 4;
	out->count = count;
	return 0;
}

static int walk_fields(const uint8_t *p, uint32_t len, const struct field_spec *fs,
		       struct field *fv, struct err *e)
{
	uint32_t off = 0;

	while (off < len) {
		const struct field_spec *sp;
		unsigned tag;
		uint32_t size;

		if (len - off < 5)
			return err_set(e, -EBADMSG, "agent: truncated field header at offset %u", off);
		tag = p[off];
		size = get32(p + off + 1);
		off += 5;
		if (size > len - off)
			return err_set(e, -EBADMSG, "agent: field %u claims %u bytes, %u left",
				       tag, size, len - off);
		sp = spec_for(fs, tag);
		if (!sp)
			return err_set(e, -EBADMSG, "agent: unexpected field %u", tag);
		if (fv[tag].seen)
			return err_set(e, -EBADMSG, "agent: field %u repeated", tag);
		fv[tag] = (struct field){ p + off, size, true };
		off += size;
	}
	for (; fs->tag; fs++) {
		const struct field *f = &fv[fs->tag];
		if (!f->seen) {
			if (fs->required)
				return err_set(e, -EBADMSG, "agent: required field %u missing", fs->tag);
			continue;
		}
		switch (fs->kind) {
		case K_U64:
		case K_I64: {
			int64_t v;
			if (f->size != 8)
				return err_set(e, -EBADMSG, "agent: field %u: integer of %u bytes",
					       fs->tag, f->size);
			v = (int64_t)get64(f->p);
			if (fs->kind == K_U64 ? get64(f->p) > (uint64_t)fs->max
					      : (v < fs->min || v > fs->max))
				return err_set(e, -EBADMSG, "agent: field %u out of range", fs->tag);
			break;
		}
		case K_BOOL:
			if (f->size != 1 || f->p[0] > 1)
				return err_set(e, -EBADMSG, "agent: field %u: bad boolean", fs->tag);
			break;
		case K_STR: {
			int rc = check_str(f->p, f->size, "field", e);
			if (rc < 0)
				return rc;
			break;
		}
		case K_STRV: {
			struct agent_strv sv;
			int rc = check_strv(f->p, f->size, &sv, e);
			if (rc < 0)
				return rc;
			break;
		}
		}
	}
	return 0;
}

static uint64_t fu(const struct field *fv, unsigned tag, uint64_t dflt)
{
	return fv[tag].seen ? get64(fv[tag].p) : dflt;
}

static const char *fstr(const struct field *fv, unsigned tag)
{
	return fv[tag].seen ? (const char *)fv[tag].p : "";
}

static bool fb(const struct field *fv, unsigned tag)
{
	return fv[tag].seen && fv[tag].p[0];
}

static void fill(struct agent_frame *f, const struct field *fv, struct err *e)
{
	switch (f->type) {
	case AGENT_HELLO:
		f->u.hello.min_version = (uint32_t)fu(fv, AGENT_T_MIN_VERSION, 0);
		f->u.hello.max_version = (uint32_t)fu(fv, AGENT_T_MAX_VERSION, 0);
		f->u.hello.agent = fstr(fv, AGENT_T_AGENT);
		break;
	case AGENT_ERROR:
		f->u.error.code = (int64_t)fu(fv, AGENT_T_CODE, 0);
		f->u.error.message = fstr(fv, AGENT_T_MESSAGE);
		break;
	case AGENT_CREATE: {
		struct agent_create *c = &f->u.create;
		check_strv(fv[AGENT_T_ARGV].p, fv[AGENT_T_ARGV].size, &c->argv, e);
		if (fv[AGENT_T_ENV].seen)
			check_strv(fv[AGENT_T_ENV].p, fv[AGENT_T_ENV].size, &c->env, e);
		c->cwd = fstr(fv, AGENT_T_CWD);
		c->user = fstr(fv, AGENT_T_USER);
		c->tty = fb(fv, AGENT_T_TTY);
		c->open_stdin = fb(fv, AGENT_T_STDIN);
		c->rows = (uint16_t)fu(fv, AGENT_T_ROWS, 0);
		c->cols = (uint16_t)fu(fv, AGENT_T_COLS, 0);
		break;
	}
	case AGENT_SIGNAL:
		f->u.signo = (int)fu(fv, AGENT_T_SIGNO, 0);
		break;
	case AGENT_RESIZE:
		f->u.resize.rows = (uint16_t)fu(fv, AGENT_T_ROWS, 0);
		f->u.resize.cols = (uint16_t)fu(fv, AGENT_T_COLS, 0);
		break;
	case AGENT_EXIT:
		f->u.exit.status = (int)(int64_t)fu(fv, AGENT_T_STATUS, 0);
		f->u.exit.signal = (int)(int64_t)fu(fv, AGENT_T_SIGNAL, 0);
		break;
	case AGENT_STATS_REPLY:
		f->u.stats.mem_total = fu(fv, AGENT_T_MEM_TOTAL, 0);
		f->u.stats.mem_available = fu(fv, AGENT_T_MEM_AVAILABLE, 0);
		f->u.stats.cpu_usec = fu(fv, AGENT_T_CPU_USEC, 0);
		f->u.stats.procs = fu(fv, AGENT_T_PROCS, 0);
		f->u.stats.uptime_ms = fu(fv, AGENT_T_UPTIME_MS, 0);
		f->u.stats.cpu_total_usec = fu(fv, AGENT_T_CPU_TOTAL_USEC, 0);
		f->u.stats.cpu_kernel_usec = fu(fv, AGENT_T_CPU_KERNEL_USEC, 0);
		f->u.stats.ncpus = fu(fv, AGENT_T_NCPUS, 0);
		f->u.stats.net_rx_bytes = fu(fv, AGENT_T_NET_RX_BYTES, 0);
		f->u.stats.net_tx_bytes = fu(fv, AGENT_T_NET_TX_BYTES, 0);
		f->u.stats.net_rx_packets = fu(fv, AGENT_T_NET_RX_PACKETS, 0);
		f->u.stats.net_tx_packets = fu(fv, AGENT_T_NET_TX_PACKETS, 0);
		f->u.stats.blk_read_bytes = fu(fv, AGENT_T_BLK_READ_BYTES, 0);
		f->u.stats.blk_write_bytes = fu(fv, AGENT_T_BLK_WRITE_BYTES, 0);
		break;
	case AGENT_COPY:
		f->u.copy.op = (unsigned)fu(fv, AGENT_T_OP, 0);
		f->u.copy.path = fstr(fv, AGENT_T_PATH);
		f->u.copy.flags = (uint32_t)fu(fv, AGENT_T_FLAGS, 0);
		break;
	}
}

int agent_decode(const void *buf, size_t len, struct agent_frame *f, size_t *consumed,
		 struct err *e)
{
	const uint8_t *p = buf;
	const struct type_info *ti;
	struct field fv[AGENT_T__COUNT];
	uint32_t plen;
	unsigned magic;

	*consumed = 0;
	memset(f, 0, sizeof(*f));
	/* Check the header fields as soon as their bytes are here, so a bad
	 * stream is refused before we wait for (and buffer) its payload. */
	if (len >= 2 && (magic = (unsigned)p[0] << 8 | p[1]) != AGENT_MAGIC)
		return err_set(e, -EPROTO, "agent: bad frame magic 0x%04x", magic);
	if (len >= 3 && p[2] != AGENT_VERSION)
		return err_set(e, -EPROTO, "agent: protocol version %u (this side speaks %u)",
			       p[2], AGENT_VERSION);
	if (len < AGENT_HDR_SIZE)
		return 0;
	f->version = p[2];
	f->type = p[3];
	f->stream = get32(p + 4);
	f->flags = get32(p + 8);
	plen = get32(p + 12);
	if (plen > AGENT_PAYLOAD_MAX)
		return err_set(e, -EMSGSIZE, "agent: %s frame of %u bytes (at most %u)",
			       agent_type_name(f->type), plen, AGENT_PAYLOAD_MAX);
	if (f->flags & ~AGENT_FLAG_EOF || (f->flags && !is_data(f->type)))
		return err_set(e, -EINVAL, "agent: reserved flags 0x%x on %s frame",
			       f->flags, agent_type_name(f->type));
	if (len - AGENT_HDR_SIZE < plen)
		return 0;
	f->payload = p + AGENT_HDR_SIZE;
	f->len = plen;
	*consumed = AGENT_HDR_SIZE + plen;

	ti = type_info(f->type);
	if (!ti)
		return err_set(e, -ENOTSUP, "agent: unknown message type 0x%02x", f->type);
	if ((ti->stream == 0 && f->stream != 0) || (ti->stream == 1 && f->stream == 0))
		return err_set(e, -EBADMSG, "agent: %s on stream %u", ti->name, f->stream);
	if (ti->shape == P_NONE && plen != 0)
		return err_set(e, -EBADMSG, "agent: %s carries %u unexpected bytes", ti->name, plen);
	if (is_data(f->type) && (f->flags & AGENT_FLAG_EOF) && plen != 0)
		return err_set(e, -EBADMSG, "agent: %s end-of-file frame carries data", ti->name);
	if (ti->shape != P_FIELDS)
		return 1;
	memset(fv, 0, sizeof(fv));
	int rc = walk_fields(f->payload, plen, ti->fields, fv, e);
	if (rc < 0) {
		err_wrap(e, "%s", ti->name);
		return rc;
	}
	if (f->type == AGENT_COPY && fu(fv, AGENT_T_OP, 0) == 0)
		return err_set(e, -EBADMSG, "agent: COPY op 0");
	if (f->type == AGENT_CREATE && get32(fv[AGENT_T_ARGV].p) == 0)
		return err_set(e, -EBADMSG, "agent: CREATE with an empty argv");
	if (f->type == AGENT_SIGNAL && fu(fv, AGENT_T_SIGNO, 0) == 0)
		return err_set(e, -EBADMSG, "agent: SIGNAL 0");
	fill(f, fv, e);
	return 1;
}

const char *agent_strv_next(const struct agent_strv *l, size_t *off)
{
	const char *s;

	if (*off >= l->size)
		return NULL;
	s = l->data + *off;
	*off += strlen(s) + 1;   /* validated: a NUL ends every entry */
	return s;
}

/* --- encoding ------------------------------------------------------------ */

struct enc {
	struct buf *out;
	size_t start;                /* offset of the frame header in out */
	int rc;                      /* first failure, sticky */
};

static void enc_bytes(struct enc *w, const void *p, size_t n)
{
	if (w->rc == 0)
		w->rc = buf_append(w->out, p, n);
}

static void enc_begin(struct enc *w, struct buf *out, unsigned type, uint32_t stream,
		      uint32_t flags)
{
	uint8_t h[AGENT_HDR_SIZE] = { AGENT_MAGIC >> 8, AGENT_MAGIC & 0xff, AGENT_VERSION,
				      (uint8_t)type };
	w->out = out;
	w->start = out->len;
	w->rc = 0;
	put32(h + 4, stream);
	put32(h + 8, flags);
	enc_bytes(w, h, sizeof(h));
}

static void enc_tag(struct enc *w, unsigned tag, uint32_t size)
{
	uint8_t h[5] = { (uint8_t)tag };
	put32(h + 1, size);
	enc_bytes(w, h, sizeof(h));
}

static void enc_u64(struct enc *w, unsigned tag, uint64_t v)
{
	uint8_t b[8];
	put32(b, (uint32_t)(v >> 32));
	put32(b + 4, (uint32_t)v);
	enc_tag(w, tag, 8);
	enc_bytes(w, b, 8);
}

static void enc_bool(struct enc *w, unsigned tag, bool v)
{
	uint8_t b = v;
	enc_tag(w, tag, 1);
	enc_bytes(w, &b, 1);
}

static void enc_str(struct enc *w, unsigned tag, const char *s)
{
	size_t n = strlen(s ? s : "") + 1;
	if (n > AGENT_STR_MAX) {
		if (w->rc == 0)
			w->rc = -E2BIG;
		return;
	}
	enc_tag(w, tag, (uint32_t)n);
	enc_bytes(w, s ? s : "", n);
}

static void enc_strv(struct enc *w, unsigned tag, const char *const *v)
{
	size_t n = 0, size = 4;
	uint8_t cnt[4];

	for (; v && v[n]; n++) {
		size_t l = strlen(v[n]) + 1;
		if (l > AGENT_STR_MAX || n >= AGENT_STRV_MAX || size > AGENT_PAYLOAD_MAX) {
			if (w->rc == 0)
				w->rc = -E2BIG;
			return;
		}
		size += l;
	}
	if (size > AGENT_PAYLOAD_MAX) {
		if (w->rc == 0)
			w->rc = -E2BIG;
		return;
	}
	enc_tag(w, tag, (uint32_t)size);
	put32(cnt, (uint32_t)n);
	enc_bytes(w, cnt, 4);
	for (size_t i = 0; i < n; i++)
		enc_bytes(w, v[i], strlen(v[i]) + 1);
}

static int enc_end(struct enc *w, struct err *e)
{
	size_t plen = w->rc == 0 ? w->out->len - w->start - AGENT_HDR_SIZE : 0;

	if (w->rc == 0 && plen > AGENT_PAYLOAD_MAX)
		w->rc = -E2BIG;
	if (w->rc < 0) {
		buf_truncate(w->out, w->start);
		return err_set(e, w->rc, "agent: frame %s",
			       w->rc == -E2BIG ? "over its size limits" : "not encodable");
	}
	put32((uint8_t *)w->out->data + w->start + 12, (uint32_t)plen);
	return 0;
}

int agent_put_raw(struct buf *out, unsigned type, uint32_t stream, uint32_t flags,
		  const void *p, size_t n, struct err *e)
{
	struct enc w;

	if (n > AGENT_PAYLOAD_MAX)
		return err_set(e, -E2BIG, "agent: %s payload of %zu bytes (at most %u)",
			       agent_type_name(type), n, AGENT_PAYLOAD_MAX);
	enc_begin(&w, out, type, stream, flags);
	if (n)
		enc_bytes(&w, p, n);
	return enc_end(&w, e);
}

int agent_put_hello(struct buf *out, const struct agent_hello *h, struct err *e)
{
	struct enc w;

	enc_begin(&w, out, AGENT_HELLO, 0, 0);
	enc_u64(&w, AGENT_T_MIN_VERSION, h->min_version);
	enc_u64(&w, AGENT_T_MAX_VERSION, h->max_version);
	if (h->agent)
		enc_str(&w, AGENT_T_AGENT, h->agent);
	return enc_end(&w, e);
}

int agent_put_error(struct buf *out, uint32_t stream, int64_t code, const char *msg,
		    struct err *e)
{
	struct enc w;
	char cut[AGENT_STR_MAX];
	size_t n = strlen(msg ? msg : "");

	/* An error message is advice, not data: cut it rather than fail. */
	if (n >= sizeof(cut)) {
		memcpy(cut, msg, sizeof(cut) - 1);
		cut[sizeof(cut) - 1] = '\0';
		msg = cut;
	}
	enc_begin(&w, out, AGENT_ERROR, stream, 0);
	enc_u64(&w, AGENT_T_CODE, (uint64_t)code);
	enc_str(&w, AGENT_T_MESSAGE, msg);
	return enc_end(&w, e);
}

int agent_put_create(struct buf *out, uint32_t stream, const struct agent_proc_spec *s,
		     struct err *e)
{
	struct enc w;

	if (stream == 0 || !s->argv || !s->argv[0])
		return err_set(e, -EINVAL, "agent: CREATE needs a process stream and an argv");
	enc_begin(&w, out, AGENT_CREATE, stream, 0);
	enc_strv(&w, AGENT_T_ARGV, s->argv);
	if (s->env)
		enc_strv(&w, AGENT_T_ENV, s->env);
	if (s->cwd)
		enc_str(&w, AGENT_T_CWD, s->cwd);
	if (s->user)
		enc_str(&w, AGENT_T_USER, s->user);
	enc_bool(&w, AGENT_T_TTY, s->tty);
	enc_bool(&w, AGENT_T_STDIN, s->open_stdin);
	enc_u64(&w, AGENT_T_ROWS, s->rows);
	enc_u64(&w, AGENT_T_COLS, s->cols);
	return enc_end(&w, e);
}

int agent_put_signal(struct buf *out, uint32_t stream, int signo, struct err *e)
{
	struct enc w;

	if (stream == 0 || signo < 1 || signo > 64)
		return err_set(e, -EINVAL, "agent: SIGNAL %d to stream %u", signo, stream);
	enc_begin(&w, out, AGENT_SIGNAL, stream, 0);
	enc_u64(&w, AGENT_T_SIGNO, (uint64_t)signo);
	return enc_end(&w, e);
}

int agent_put_resize(struct buf *out, uint32_t stream, uint16_t rows, uint16_t cols,
		     struct err *e)
{
	struct enc w;

	if (stream == 0)
		return err_set(e, -EINVAL, "agent: RESIZE needs a process stream");
	enc_begin(&w, out, AGENT_RESIZE, stream, 0);
	enc_u64(&w, AGENT_T_ROWS, rows);
	enc_u64(&w, AGENT_T_COLS, cols);
	return enc_end(&w, e);
}

int agent_put_exit(struct buf *out, uint32_t stream, int status, int signal, struct err *e)
{
	struct enc w;

	if (stream == 0 || status < 0 || status > 255 || signal < 0 || signal > 64)
		return err_set(e, -EINVAL, "agent: EXIT %d (signal %d) on stream %u",
			       status, signal, stream);
	enc_begin(&w, out, AGENT_EXIT, stream, 0);
	enc_u64(&w, AGENT_T_STATUS, (uint64_t)status);
	if (signal)
		enc_u64(&w, AGENT_T_SIGNAL, (uint64_t)signal);
	return enc_end(&w, e);
}

int agent_put_stats(struct buf *out, const struct agent_stats *s, struct err *e)
{
	struct enc w;

	enc_begin(&w, out, AGENT_STATS_REPLY, 0, 0);
	enc_u64(&w, AGENT_T_MEM_TOTAL, s->mem_total & INT64_MAX);
	enc_u64(&w, AGENT_T_MEM_AVAILABLE, s->mem_available & INT64_MAX);
	enc_u64(&w, AGENT_T_CPU_USEC, s->cpu_usec & INT64_MAX);
	enc_u64(&w, AGENT_T_PROCS, s->procs & INT64_MAX);
	enc_u64(&w, AGENT_T_UPTIME_MS, s->uptime_ms & INT64_MAX);
	enc_u64(&w, AGENT_T_CPU_TOTAL_USEC, s->cpu_total_usec & INT64_MAX);
	enc_u64(&w, AGENT_T_CPU_KERNEL_USEC, s->cpu_kernel_usec & INT64_MAX);
	enc_u64(&w, AGENT_T_NCPUS, s->ncpus > 4096 ? 4096 : s->ncpus);
	enc_u64(&w, AGENT_T_NET_RX_BYTES, s->net_rx_bytes & INT64_MAX);
	enc_u64(&w, AGENT_T_NET_TX_BYTES, s->net_tx_bytes & INT64_MAX);
	enc_u64(&w, AGENT_T_NET_RX_PACKETS, s->net_rx_packets & INT64_MAX);
	enc_u64(&w, AGENT_T_NET_TX_PACKETS, s->net_tx_packets & INT64_MAX);
	enc_u64(&w, AGENT_T_BLK_READ_BYTES, s->blk_read_bytes & INT64_MAX);
	enc_u64(&w, AGENT_T_BLK_WRITE_BYTES, s->blk_write_bytes & INT64_MAX);
	return enc_end(&w, e);
}

int agent_put_copy(struct buf *out, uint32_t stream, const struct agent_copy *c, struct err *e)
{
	struct enc w;

	if (stream < 2 || c->op < AGENT_COPY_STAT || c->op > AGENT_COPY_EXPORT || !c->path ||
	    c->flags > 15)
		return err_set(e, -EINVAL, "agent: COPY op %u on stream %u", c->op, stream);
	enc_begin(&w, out, AGENT_COPY, stream, 0);
	enc_u64(&w, AGENT_T_OP, c->op);
	enc_str(&w, AGENT_T_PATH, c->path);
	enc_u64(&w, AGENT_T_FLAGS, c->flags);
	return enc_end(&w, e);
}
