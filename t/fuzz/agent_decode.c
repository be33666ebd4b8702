/* Fuzz target for initrd/agent.c's decoder, the code that reads what an
 * untrusted guest sends.  The input is a byte stream of frames; it is
 * decoded as the host does (skip frames whose framing is intact, stop when
 * it is lost), every decoded string list is walked, and each decoded frame
 * is re-encoded from its fields and must decode to the same values.
 * Also checks that decoding a prefix never claims more than the prefix. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "initrd/agent.h"
#include "lib/buf.h"
#include "lib/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t walk(const struct agent_strv *l)
{
	size_t off = 0, n = 0, bytes = 0;
	const char *s;

	while ((s = agent_strv_next(l, &off))) {
		bytes += strlen(s);
		n++;
	}
	if (n != l->count || off != l->size)
		abort();
	return bytes;
}

/* Re-encode a decoded frame and check the second decode agrees. */
static void reencode(const struct agent_frame *f)
{
	struct buf b = BUF_INIT;
	struct err e = ERR_INIT;
	struct agent_frame g;
	size_t used;
	int rc = 0;

	switch (f->type) {
	case AGENT_HELLO:
		rc = agent_put_hello(&b, &f->u.hello, &e);
		break;
	case AGENT_SIGNAL:
		rc = agent_put_signal(&b, f->stream, f->u.signo, &e);
		break;
	case AGENT_RESIZE:
		rc = agent_put_resize(&b, f->stream, f->u.resize.rows, f->u.resize.cols, &e);
		break;
	case AGENT_EXIT:
		rc = agent_put_exit(&b, f->stream, f->u.exit.status, f->u.exit.signal, &e);
		break;
	case AGENT_ERROR:
		rc = agent_put_error(&b, f->stream, f->u.error.code, f->u.error.message, &e);
		break;
	default:
		if (f->type == AGENT_CREATE || f->type == AGENT_STATS_REPLY)
			goto out;
		rc = agent_put_raw(&b, f->type, f->stream, f->flags, f->payload, f->len, &e);
		break;
	}
	if (rc < 0)
		abort();
	if (agent_decode(b.data, b.len, &g, &used, &e) != 1 || used != b.len)
		abort();
	if (g.type != f->type || g.stream != f->stream || g.flags != f->flags)
		abort();
	if (f->type == AGENT_SIGNAL && g.u.signo != f->u.signo)
		abort();
	if (f->type == AGENT_EXIT && (g.u.exit.status != f->u.exit.status ||
				      g.u.exit.signal != f->u.exit.signal))
		abort();
	if (f->type == AGENT_ERROR && strcmp(g.u.error.message, f->u.error.message))
		abort();
out:
	buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t pos = 0;

	while (pos < size) {
		struct agent_frame f;
		struct err e = ERR_INIT;
		size_t used;
		int rc = agent_decode(data + pos, size - pos, &f, &used, &e);

		if (used > size - pos)
			abort();
		if (rc == 0)
			break;
		if (rc < 0) {
			if (!e.msg[0] || e.code != rc)
				abort();
			if (used == 0)
				break;    /* framing lost: the host closes the channel */
			pos += used;
			continue;
		}
		if (used < AGENT_HDR_SIZE || used != AGENT_HDR_SIZE + f.len)
			abort();
		/* a proper prefix of a decodable frame is never a frame */
		if (agent_decode(data + pos, used - 1, &f, &used, &e) == 1)
			abort();
		rc = agent_decode(data + pos, size - pos, &f, &used, &e);
		if (f.type == AGENT_CREATE) {
			walk(&f.u.create.argv);
			walk(&f.u.create.env);
			if (f.u.create.argv.count < 1)
				abort();
		}
		reencode(&f);
		pos += used;
	}
	return 0;
}
