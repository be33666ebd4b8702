/* Unit tests for initrd/agent.c: round trips of every message, and the
 * hostile inputs a guest can send (truncation, oversized lengths, unknown
 * types, bad versions, strings without terminator or over the cap, string
 * lists whose count lies, floods of data frames). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "initrd/agent.h"
#include "lib/buf.h"
#include "lib/err.h"
#include "lib/mem.h"
#include "t/tap.h"

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* A frame header by hand, then payload bytes appended by the caller. */
static void hdr(struct buf *b, unsigned type, uint32_t stream, uint32_t flags, uint32_t len)
{
	uint8_t h[16] = { 0xC7, 0xA6, AGENT_VERSION, (uint8_t)type };
	put32(h + 4, stream);
	put32(h + 8, flags);
	put32(h + 12, len);
	buf_append(b, h, 16);
}

static void field(struct buf *b, unsigned tag, const void *p, uint32_t n)
{
	uint8_t h[5] = { (uint8_t)tag };
	put32(h + 1, n);
	buf_append(b, h, 5);
	buf_append(b, p, n);
}

static void field_u64(struct buf *b, unsigned tag, uint64_t v)
{
	uint8_t x[8];
	put32(x, (uint32_t)(v >> 32));
	put32(x + 4, (uint32_t)v);
	field(b, tag, x, 8);
}

/* Wrap a hand-built payload into a frame and decode it. */
static int decode_payload(unsigned type, uint32_t stream, const struct buf *pl,
			  struct agent_frame *f, size_t *used, struct err *e)
{
	struct buf fr = BUF_INIT;
	hdr(&fr, type, stream, 0, (uint32_t)pl->len);
	buf_append(&fr, pl->data ? pl->data : "", pl->len);
	err_clear(e);
	int rc = agent_decode(fr.data, fr.len, f, used, e);
	/* the frame struct points into fr: callers only look at rc/e/used */
	buf_free(&fr);
	return rc;
}

static void test_roundtrip(void)
{
	struct buf b = BUF_INIT;
	struct err e = ERR_INIT;
	struct agent_frame f;
	size_t used, off = 0;

	struct agent_hello h = { 1, 3, "container-init test" };
	is_int(agent_put_hello(&b, &h, &e), 0, "encode HELLO");
	is_int(agent_decode(b.data, b.len, &f, &used, &e), 1, "decode HELLO");
	is_int(used, b.len, "HELLO consumed whole frame");
	ok(f.type == AGENT_HELLO && f.stream == 0 && f.u.hello.min_version == 1 &&
	   f.u.hello.max_version == 3, "HELLO fields");
	is_str(f.u.hello.agent, "container-init test", "HELLO agent string");

	const char *argv[] = { "sh", "-c", "echo hi", "", NULL };
	const char *env[] = { "PATH=/bin", "A=b c", NULL };
	struct agent_proc_spec s = { argv, env, "/tmp", "nobody", true, true, 24, 80 };
	buf_reset(&b);
	is_int(agent_put_create(&b, 7, &s, &e), 0, "encode CREATE");
	is_int(agent_decode(b.data, b.len, &f, &used, &e), 1, "decode CREATE: %s", e.msg);
	is_int(f.stream, 7, "CREATE stream");
	is_int(f.u.create.argv.count, 4, "CREATE argv count");
	is_str(agent_strv_next(&f.u.create.argv, &off), "sh", "argv[0]");
	is_str(agent_strv_next(&f.u.create.argv, &off), "-c", "argv[1]");
	is_str(agent_strv_next(&f.u.create.argv, &off), "echo hi", "argv[2]");
	is_str(agent_strv_next(&f.u.create.argv, &off), "", "argv[3] empty string kept");
	ok(agent_strv_next(&f.u.create.argv, &off) == NULL, "argv ends");
	is_int(f.u.create.env.count, 2, "CREATE env count");
	off = 0;
	agent_strv_next(&f.u.create.env, &off);
	is_str(agent_strv_next(&f.u.create.env, &off), "A=b c", "env[1]");
	is_str(f.u.create.cwd, "/tmp", "CREATE cwd");
	is_str(f.u.create.user, "nobody", "CREATE user");
	ok(f.u.create.tty && f.u.create.open_stdin && f.u.create.rows == 24 &&
	   f.u.create.cols == 80, "CREATE tty, stdin, size");

	buf_reset(&b);
	agent_put_signal(&b, 1, 15, &e);
	agent_put_resize(&b, 1, 50, 132, &e);
	agent_put_exit(&b, 1, 137, 9, &e);
	agent_put_error(&b, 0, -ENOENT, "no such thing", &e);
	struct agent_stats st = { 1 << 30, 1 << 29, 12345, 7, 999, 50000, 200, 9999, 11, 12, 13, 14, 15, 16 };
	agent_put_stats(&b, &st, &e);
	agent_put_raw(&b, AGENT_STDOUT, 1, 0, "hello\n", 6, &e);
	agent_put_raw(&b, AGENT_STDOUT, 1, AGENT_FLAG_EOF, NULL, 0, &e);
	agent_put_raw(&b, AGENT_SHUTDOWN, 0, 0, NULL, 0, &e);
	agent_put_raw(&b, AGENT_CONFIG, 0, 0, "{}", 2, &e);

	size_t pos = 0;
	int n = 0, good = 1;
	while (pos < b.len) {
		int rc = agent_decode(b.data + pos, b.len - pos, &f, &used, &e);
		if (rc != 1) {
			good = 0;
			break;
		}
		switch (n++) {
		case 0: good &= f.type == AGENT_SIGNAL && f.u.signo == 15; break;
		case 1: good &= f.u.resize.rows == 50 && f.u.resize.cols == 132; break;
		case 2: good &= f.u.exit.status == 137 && f.u.exit.signal == 9; break;
		case 3: good &= f.u.error.code == -ENOENT &&
				!strcmp(f.u.error.message, "no such thing"); break;
		case 4: good &= f.u.stats.mem_total == 1u << 30 && f.u.stats.procs == 7 &&
				f.u.stats.uptime_ms == 999 && f.u.stats.cpu_total_usec == 50000 &&
				f.u.stats.ncpus == 4096 && f.u.stats.net_rx_bytes == 11 &&
				f.u.stats.blk_write_bytes == 16; break;
		case 5: good &= f.len == 6 && !memcmp(f.payload, "hello\n", 6); break;
		case 6: good &= f.len == 0 && f.flags == AGENT_FLAG_EOF; break;
		case 7: good &= f.type == AGENT_SHUTDOWN; break;
		case 8: good &= f.type == AGENT_CONFIG && f.len == 2; break;
		}
		pos += used;
	}
	ok(good && n == 9, "nine frames in one buffer decode in order (%d)", n);
	buf_free(&b);
}

static void test_incremental(void)
{
	struct buf b = BUF_INIT;
	struct err e = ERR_INIT;
	struct agent_frame f;
	size_t used;
	int zeros = 0;

	agent_put_raw(&b, AGENT_STDERR, 3, 0, "abcdef", 6, &e);
	for (size_t n = 0; n < b.len; n++)
		zeros += agent_decode(b.data, n, &f, &used, &e) == 0 && used == 0;
	is_int(zeros, b.len, "every proper prefix is 'incomplete'");
	is_int(agent_decode(b.data, b.len, &f, &used, &e), 1, "whole frame decodes");
	buf_free(&b);
}

static void test_header_hostile(void)
{
	struct buf b = BUF_INIT;
	struct err e = ERR_INIT;
	struct agent_frame f;
	size_t used;

	buf_append(&b, "\x00\x00", 2);
	is_int(agent_decode(b.data, b.len, &f, &used, &e), -EPROTO, "bad magic from 2 bytes");
	is_int(used, 0, "bad magic: stream lost (consumed 0)");

	buf_reset(&b);
	buf_append(&b, "\xC7\xA6\x02", 3);
	is_int(agent_decode(b.data, b.len, &f, &used, &e), -EPROTO, "bad version from 3 bytes");
	ok(strstr(e.msg, "version 2") != NULL, "message names the version: %s", e.msg);

	buf_reset(&b);
	hdr(&b, AGENT_STDOUT, 1, 0, AGENT_PAYLOAD_MAX + 1);
	is_int(agent_decode(b.data, b.len, &f, &used, &e), -EMSGSIZE,
	       "oversized length refused from the header alone");
	buf_reset(&b);
	hdr(&b, AGENT_STDOUT, 1, 0, 0xffffffffu);
	is_int(agent_decode(b.data, b.len, &f, &used, &e), -EMSGSIZE, "4 GiB length refused");

	buf_reset(&b);
	hdr(&b, AGENT_STDOUT, 1, 0, AGENT_PAYLOAD_MAX);
	is_int(agent_decode(b.data, b.len, &f, &used, &e), 0, "max-size frame: waits for payload");

	buf_reset(&b);
	hdr(&b, AGENT_STDOUT, 1, 0x80, 0);
	is_int(agent_decode(b.data, b.len, &f, &used, &e), -EINVAL, "reserved flag refused");
	buf_reset(&b);
	hdr(&b, AGENT_START, 1, AGENT_FLAG_EOF, 0);
	is_int(agent_decode(b.data, b.len, &f, &used, &e), -EINVAL, "EOF flag on a control frame");
	buf_reset(&b);
	hdr(&b, AGENT_STDOUT, 1, AGENT_FLAG_EOF, 1);
	buf_putc(&b, 'x');
	is_int(agent_decode(b.data, b.len, &f, &used, &e), -EBADMSG, "EOF frame with data");

	/* unknown type: reported, framing kept, next frame still decodes */
	buf_reset(&b);
	hdr(&b, 0x7f, 1, 0, 3);
	buf_append(&b, "xyz", 3);
	agent_put_raw(&b, AGENT_STDOUT, 1, 0, "ok", 2, &e);
	is_int(agent_decode(b.data, b.len, &f, &used, &e), -ENOTSUP, "unknown type is an error");
	is_int(used, 19, "unknown type: frame can be skipped");
	ok(strstr(e.msg, "0x7f") != NULL, "message names the type: %s", e.msg);
	is_int(agent_decode(b.data + used, b.len - used, &f, &used, &e), 1,
	       "frame after the unknown one decodes");

	/* stream rules and payload on payload-less types */
	buf_reset(&b);
	hdr(&b, AGENT_STDOUT, 0, 0, 0);
	is_int(agent_decode(b.data, b.len, &f, &used, &e), -EBADMSG, "data on stream 0");
	buf_reset(&b);
	hdr(&b, AGENT_SHUTDOWN, 4, 0, 0);
	is_int(agent_decode(b.data, b.len, &f, &used, &e), -EBADMSG, "SHUTDOWN on a process stream");
	buf_reset(&b);
	hdr(&b, AGENT_START, 2, 0, 1);
	buf_putc(&b, 0);
	is_int(agent_decode(b.data, b.len, &f, &used, &e), -EBADMSG, "START with a payload");
	buf_free(&b);
}

static void test_fields_hostile(void)
{
	struct buf p = BUF_INIT;
	struct err e = ERR_INIT;
	struct agent_frame f;
	size_t used;
	uint8_t x[16];

	/* string without terminator */
	field_u64(&p, AGENT_T_CODE, 5);
	field(&p, AGENT_T_MESSAGE, "abc", 3);
	is_int(decode_payload(AGENT_ERROR, 0, &p, &f, &used, &e), -EBADMSG,
	       "string without NUL refused");
	ok(used > 0, "payload error keeps framing");
	/* inner NUL */
	buf_reset(&p);
	field_u64(&p, AGENT_T_CODE, 5);
	field(&p, AGENT_T_MESSAGE, "a\0b", 4);
	is_int(decode_payload(AGENT_ERROR, 0, &p, &f, &used, &e), -EBADMSG, "inner NUL refused");
	/* over the cap */
	{
		char *big = xmalloc(AGENT_STR_MAX + 1);
		memset(big, 'a', AGENT_STR_MAX);
		big[AGENT_STR_MAX] = 0;
		buf_reset(&p);
		field_u64(&p, AGENT_T_CODE, 5);
		field(&p, AGENT_T_MESSAGE, big, AGENT_STR_MAX + 1);
		is_int(decode_payload(AGENT_ERROR, 0, &p, &f, &used, &e), -EBADMSG,
		       "string over 64 KiB refused");
		struct buf o = BUF_INIT;
		const char *argv[] = { big, NULL };
		struct agent_proc_spec s = { .argv = argv };
		is_int(agent_put_create(&o, 2, &s, &e), -E2BIG, "encoder refuses it too");
		is_int(o.len, 0, "failed encode leaves out unchanged");
		is_int(agent_put_error(&o, 0, 1, big, &e), 0, "error message is cut, not refused");
		is_int(agent_decode(o.data, o.len, &f, &used, &e), 1, "cut error decodes");
		is_int(strlen(f.u.error.message), AGENT_STR_MAX - 1, "cut to the cap");
		buf_free(&o);
		free(big);
	}
	/* field length beyond the payload */
	buf_reset(&p);
	put32(x, 1000);
	buf_putc(&p, AGENT_T_SIGNO);
	buf_append(&p, x, 4);
	buf_append(&p, "\0\0\0\0\0\0\0\x09", 8);
	is_int(decode_payload(AGENT_SIGNAL, 1, &p, &f, &used, &e), -EBADMSG,
	       "field length past the payload");
	/* truncated field header */
	buf_reset(&p);
	buf_append(&p, "\x0e\x00\x00", 3);
	is_int(decode_payload(AGENT_SIGNAL, 1, &p, &f, &used, &e), -EBADMSG,
	       "truncated field header");
	/* signal range, repeated field, unknown tag, missing required, int size */
	buf_reset(&p);
	field_u64(&p, AGENT_T_SIGNO, 65);
	is_int(decode_payload(AGENT_SIGNAL, 1, &p, &f, &used, &e), -EBADMSG, "signal 65");
	buf_reset(&p);
	field_u64(&p, AGENT_T_SIGNO, 0);
	is_int(decode_payload(AGENT_SIGNAL, 1, &p, &f, &used, &e), -EBADMSG, "signal 0");
	buf_reset(&p);
	field_u64(&p, AGENT_T_SIGNO, 2);
	field_u64(&p, AGENT_T_SIGNO, 9);
	is_int(decode_payload(AGENT_SIGNAL, 1, &p, &f, &used, &e), -EBADMSG, "repeated field");
	buf_reset(&p);
	field_u64(&p, AGENT_T_SIGNO, 2);
	field_u64(&p, 200, 1);
	is_int(decode_payload(AGENT_SIGNAL, 1, &p, &f, &used, &e), -EBADMSG, "unknown tag 200");
	buf_reset(&p);
	field_u64(&p, AGENT_T_ROWS, 2);
	is_int(decode_payload(AGENT_RESIZE, 1, &p, &f, &used, &e), -EBADMSG,
	       "missing required field");
	buf_reset(&p);
	field(&p, AGENT_T_SIGNO, "\x09", 1);
	is_int(decode_payload(AGENT_SIGNAL, 1, &p, &f, &used, &e), -EBADMSG, "1-byte integer");
	buf_reset(&p);
	field_u64(&p, AGENT_T_STATUS, (uint64_t)-1);
	is_int(decode_payload(AGENT_EXIT, 1, &p, &f, &used, &e), -EBADMSG, "exit status -1");
	buf_reset(&p);
	field_u64(&p, AGENT_T_STATUS, 256);
	is_int(decode_payload(AGENT_EXIT, 1, &p, &f, &used, &e), -EBADMSG, "exit status 256");
	buf_reset(&p);
	field(&p, AGENT_T_ARGV, "\0\0\0\1a\0", 6);
	field(&p, AGENT_T_TTY, "\x02", 1);
	is_int(decode_payload(AGENT_CREATE, 2, &p, &f, &used, &e), -EBADMSG, "boolean 2");
	buf_free(&p);
}

static void test_strv_hostile(void)
{
	struct buf p = BUF_INIT;
	struct err e = ERR_INIT;
	struct agent_frame f;
	size_t used;
	uint8_t x[4];

	/* count says 3, two strings present */
	put32(x, 3);
	struct buf v = BUF_INIT;
	buf_append(&v, x, 4);
	buf_append(&v, "ls\0-l\0", 6);
	field(&p, AGENT_T_ARGV, v.data, (uint32_t)v.len);
	is_int(decode_payload(AGENT_CREATE, 2, &p, &f, &used, &e), -EBADMSG,
	       "argv count larger than its strings");
	ok(strstr(e.msg, "claims 3") != NULL, "message: %s", e.msg);
	/* count says 1, two strings present */
	buf_reset(&v);
	put32(x, 1);
	buf_append(&v, x, 4);
	buf_append(&v, "ls\0-l\0", 6);
	buf_reset(&p);
	field(&p, AGENT_T_ARGV, v.data, (uint32_t)v.len);
	is_int(decode_payload(AGENT_CREATE, 2, &p, &f, &used, &e), -EBADMSG,
	       "argv count smaller than its strings");
	/* last string not terminated */
	buf_reset(&v);
	put32(x, 2);
	buf_append(&v, x, 4);
	buf_append(&v, "ls\0-l", 5);
	buf_reset(&p);
	field(&p, AGENT_T_ARGV, v.data, (uint32_t)v.len);
	is_int(decode_payload(AGENT_CREATE, 2, &p, &f, &used, &e), -EBADMSG,
	       "argv entry without terminator");
	/* a huge count with no data behind it is refused by the cap, not looped on */
	buf_reset(&v);
	put32(x, 0xffffffffu);
	buf_append(&v, x, 4);
	buf_reset(&p);
	field(&p, AGENT_T_ARGV, v.data, (uint32_t)v.len);
	is_int(decode_payload(AGENT_CREATE, 2, &p, &f, &used, &e), -EBADMSG, "argv count 2^32-1");
	ok(strstr(e.msg, "4294967295 entries") != NULL, "message: %s", e.msg);
	/* 4097 entries (each empty): over the entry cap */
	buf_reset(&v);
	put32(x, AGENT_STRV_MAX + 1);
	buf_append(&v, x, 4);
	for (unsigned i = 0; i <= AGENT_STRV_MAX; i++)
		buf_putc(&v, 0);
	buf_reset(&p);
	field(&p, AGENT_T_ARGV, v.data, (uint32_t)v.len);
	is_int(decode_payload(AGENT_CREATE, 2, &p, &f, &used, &e), -EBADMSG, "4097 argv entries");
	/* exactly 4096 entries is fine */
	buf_reset(&v);
	put32(x, AGENT_STRV_MAX);
	buf_append(&v, x, 4);
	for (unsigned i = 0; i < AGENT_STRV_MAX; i++)
		buf_putc(&v, 0);
	buf_reset(&p);
	field(&p, AGENT_T_ARGV, v.data, (uint32_t)v.len);
	is_int(decode_payload(AGENT_CREATE, 2, &p, &f, &used, &e), 1, "4096 argv entries accepted");
	/* empty argv */
	buf_reset(&p);
	field(&p, AGENT_T_ARGV, "\0\0\0\0", 4);
	is_int(decode_payload(AGENT_CREATE, 2, &p, &f, &used, &e), -EBADMSG, "empty argv");

	/* the encoder will not produce what the decoder refuses */
	const char **many = xcalloc(AGENT_STRV_MAX + 2, sizeof(*many));
	for (unsigned i = 0; i <= AGENT_STRV_MAX; i++)
		many[i] = "x";
	struct agent_proc_spec s = { .argv = many };
	struct buf o = BUF_INIT;
	is_int(agent_put_create(&o, 2, &s, &e), -E2BIG, "encoder refuses 4097 entries");
	many[AGENT_STRV_MAX] = NULL;
	is_int(agent_put_create(&o, 2, &s, &e), 0, "encoder takes 4096 entries");
	free(many);
	buf_free(&o);
	buf_free(&v);
	buf_free(&p);
}

static void test_flood(void)
{
	struct buf b = BUF_INIT;
	struct err e = ERR_INIT;
	struct agent_frame f;
	size_t used, pos = 0, bytes = 0;
	unsigned n = 0, frames = 100000;
	char chunk[64];

	memset(chunk, 'z', sizeof(chunk));
	for (unsigned i = 0; i < frames; i++)
		agent_put_raw(&b, AGENT_STDOUT, 1, 0, chunk, sizeof(chunk), &e);
	while (pos < b.len && agent_decode(b.data + pos, b.len - pos, &f, &used, &e) == 1) {
		pos += used;
		bytes += f.len;
		n++;
	}
	is_int(n, frames, "flood: every data frame decoded");
	is_int(bytes, (size_t)frames * sizeof(chunk), "flood: payload bytes add up");

	/* a full-size frame and one byte too many for the encoder */
	char *big = xcalloc(1, AGENT_PAYLOAD_MAX + 1);
	buf_reset(&b);
	is_int(agent_put_raw(&b, AGENT_STDOUT, 1, 0, big, AGENT_PAYLOAD_MAX, &e), 0,
	       "1 MiB payload encodes");
	is_int(agent_decode(b.data, b.len, &f, &used, &e), 1, "1 MiB payload decodes");
	is_int(agent_put_raw(&b, AGENT_STDOUT, 1, 0, big, AGENT_PAYLOAD_MAX + 1, &e), -E2BIG,
	       "1 MiB + 1 refused by the encoder");
	free(big);
	buf_free(&b);
}

/* COPY (docker cp): round trip, and what the guest must never be sent. */
static void test_copy(void)
{
	struct buf b = BUF_INIT, pl = BUF_INIT;
	struct err e = ERR_INIT;
	struct agent_frame f;
	size_t used;
	struct agent_copy c = { AGENT_COPY_EXTRACT, "/srv/data/.", AGENT_COPY_NO_OVERWRITE_DIR };

	is_int(agent_put_copy(&b, 3, &c, &e), 0, "encode COPY");
	is_int(agent_decode(b.data, b.len, &f, &used, &e), 1, "decode COPY: %s", e.msg);
	ok(f.type == AGENT_COPY && f.stream == 3 && f.u.copy.op == AGENT_COPY_EXTRACT &&
	   f.u.copy.flags == AGENT_COPY_NO_OVERWRITE_DIR, "COPY fields");
	is_str(f.u.copy.path, "/srv/data/.", "COPY path");
	ok(agent_type_from_host(AGENT_COPY), "COPY goes host to guest");
	c.op = 0;
	is_int(agent_put_copy(&b, 3, &c, &e), -EINVAL, "COPY op 0 refused by the encoder");
	c.op = AGENT_COPY_STAT;
	is_int(agent_put_copy(&b, 1, &c, &e), -EINVAL, "COPY on the main stream refused");
	field_u64(&pl, AGENT_T_OP, 0);
	field(&pl, AGENT_T_PATH, "/\0", 2);
	is_int(decode_payload(AGENT_COPY, 2, &pl, &f, &used, &e), -EBADMSG, "COPY op 0 decoded");
	buf_reset(&pl);
	field_u64(&pl, AGENT_T_OP, 5);
	field(&pl, AGENT_T_PATH, "/\0", 2);
	is_int(decode_payload(AGENT_COPY, 2, &pl, &f, &used, &e), -EBADMSG, "COPY op 5");
	buf_reset(&pl);
	field_u64(&pl, AGENT_T_OP, 1);
	is_int(decode_payload(AGENT_COPY, 2, &pl, &f, &used, &e), -EBADMSG, "COPY without path");
	buf_reset(&pl);
	field_u64(&pl, AGENT_T_OP, 1);
	field(&pl, AGENT_T_PATH, "/\0", 2);
	field_u64(&pl, AGENT_T_FLAGS, 16);
	is_int(decode_payload(AGENT_COPY, 2, &pl, &f, &used, &e), -EBADMSG, "COPY flag bit 4");
	buf_reset(&pl);
	field_u64(&pl, AGENT_T_OP, 1);
	field(&pl, AGENT_T_PATH, "/\0", 2);
	is_int(decode_payload(AGENT_COPY, 0, &pl, &f, &used, &e), -EBADMSG, "COPY on stream 0");
	buf_free(&pl);
	buf_free(&b);
}

static void test_names(void)
{
	is_str(agent_type_name(AGENT_STDOUT), "STDOUT", "type name");
	is_str(agent_type_name(0x99), "unknown", "unknown type name");
	ok(agent_type_from_host(AGENT_STDIN) && !agent_type_from_host(AGENT_STDOUT) &&
	   !agent_type_from_host(AGENT_EXIT) && !agent_type_from_host(0x99),
	   "direction table");
}

int main(void)
{
	test_roundtrip();
	test_incremental();
	test_header_hostile();
	test_fields_hostile();
	test_strv_hostile();
	test_flood();
	test_copy();
	test_names();
	return done_testing();
}
