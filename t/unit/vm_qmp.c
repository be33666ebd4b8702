/* The QMP client (vm/qmp.c) against a scripted fake QEMU on a socketpair:
 * the peer's lines are written before the client reads (socket buffers hold
 * them), so each case is deterministic.  Covers the handshake, answers,
 * errors, events, stale ids, deadlines, end of stream, oversized and
 * malformed messages, and a vanished peer (no SIGPIPE). */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/jsonx.h"
#include "lib/mem.h"
#include "t/tap.h"
#include "vm/qemu.h"

#define GREETING                                                                                   \
	"{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 2, \"major\": 7}}, "         \
	"\"capabilities\": []}}\r\n"
#define CAPS_OK "{\"return\": {}, \"id\": 1}\r\n"

static void pair(int sv[2])
{
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		perror("socketpair");
		exit(1);
	}
}

static void say(int fd, const char *s)
{
	size_t n = strlen(s);
	if (write(fd, s, n) != (ssize_t)n) {
		perror("write");
		exit(1);
	}
}

/* Everything the client sent so far (non-blocking read). */
static char *sent(int fd)
{
	struct buf b = BUF_INIT;
	char tmp[4096];
	ssize_t n;

	while ((n = recv(fd, tmp, sizeof(tmp), MSG_DONTWAIT)) > 0)
		buf_append(&b, tmp, (size_t)n);
	return buf_steal(&b);
}

static long long ms_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void test_session(void)
{
	int sv[2];
	struct qmp *q = NULL;
	struct err e = ERR_INIT;
	json_t *ret = NULL;

	pair(sv);
	say(sv[1], GREETING CAPS_OK
	    "{\"timestamp\": {\"seconds\": 1, \"microseconds\": 2}, \"event\": \"RTC_CHANGE\", "
	    "\"data\": {\"offset\": 0}}\r\n"
	    "{\"return\": {\"stale\": true}, \"id\": 99}\r\n"
	    "\r\n"
	    "{\"return\": {\"status\": \"running\", \"running\": true}, \"id\": 2}\r\n"
	    "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"The command nope has not "
	    "been found\"}, \"id\": 3}\r\n"
	    "{\"event\": \"SHUTDOWN\", \"data\": {\"guest\": true, \"reason\": "
	    "\"guest-shutdown\"}}\r\n");
	is_int(qmp_open(sv[0], 1000, &q, &e), 0, "handshake: greeting and qmp_capabilities");
	if (!q) {
		diag("%s", e.msg);
		return;
	}
	char *s = sent(sv[1]);
	is_str(s, "{\"execute\":\"qmp_capabilities\",\"id\":1}\n", "capabilities request as sent");
	free(s);

	is_int(qmp_execute(q, "query-status", NULL, 1000, &ret, &e), 0,
	       "command answered past an event, a stale id and a blank line");
	is_str(ret ? jsonx_str(ret, "status") : NULL, "running", "return value handed over");
	json_decref(ret);
	ok(qmp_shutdown_reason(q) == NULL, "no SHUTDOWN yet");

	json_t *args = json_pack("{s:s}", "x", "y,z");
	is_int(qmp_execute(q, "nope", args, 1000, NULL, &e), -EIO, "error answer is -EIO");
	json_decref(args);
	ok(strstr(e.msg, "CommandNotFound: The command nope has not been found") != NULL,
	   "error message carries QEMU's class and description");
	s = sent(sv[1]);
	is_str(s,
	       "{\"execute\":\"query-status\",\"id\":2}\n"
	       "{\"execute\":\"nope\",\"arguments\":{\"x\":\"y,z\"},\"id\":3}\n",
	       "requests as sent, with arguments");
	free(s);

	is_int(qmp_drain(q, 0, &e), 0, "drain with nothing more to read");
	is_str(qmp_shutdown_reason(q), "guest-shutdown", "SHUTDOWN reason recorded");
	close(sv[1]);
	is_int(qmp_drain(q, 1000, &e), -EPIPE, "drain at end of stream is -EPIPE");
	is_int(qmp_execute(q, "quit", NULL, 1000, NULL, &e), -EPIPE,
	       "command to a vanished peer is -EPIPE, not SIGPIPE");
	qmp_close(q);
}

static int open_with(const char *script, int timeout_ms, struct err *e, int close_peer)
{
	int sv[2], r;
	struct qmp *q = NULL;

	pair(sv);
	if (script)
		say(sv[1], script);
	if (close_peer)
		close(sv[1]);
	r = qmp_open(sv[0], timeout_ms, &q, e);
	if (r == 0)
		qmp_close(q);
	else
		close(sv[0]);
	if (!close_peer)
		close(sv[1]);
	return r;
}

static void test_failures(void)
{
	struct err e = ERR_INIT;
	long long t0 = ms_now();

	is_int(open_with(NULL, 150, &e, 0), -ETIMEDOUT, "silent peer: deadline");
	ok(ms_now() - t0 < 2000, "deadline honoured");
	is_int(open_with(NULL, 1000, &e, 1), -EPIPE, "peer gone before the greeting");
	is_int(open_with("{\"return\": {}}\n", 1000, &e, 1), -EPROTO,
	       "first message not a greeting");
	is_int(open_with("{\"QMP\": \n", 1000, &e, 1), -EBADMSG, "truncated JSON");
	is_int(open_with("[1,2,3]\n", 1000, &e, 1), -EPROTO, "an array is not a message");
	is_int(open_with("{\"hello\": 1}\n", 1000, &e, 1), -EPROTO, "unknown shape");
	is_int(open_with(GREETING "{\"error\": {}, \"id\": 1}\n", 1000, &e, 0), -EIO,
	       "capabilities refused (error without class) is -EIO");
	ok(strstr(e.msg, "GenericError") != NULL, "missing class reported as GenericError");

	/* 70 KiB with no newline: refused at the bound, not buffered forever. */
	char *big = xmalloc(70 * 1024 + 1);
	memset(big, ' ', 70 * 1024);
	memcpy(big, "{\"QMP\": \"", 9);
	big[70 * 1024] = '\0';
	is_int(open_with(big, 1000, &e, 0), -EPROTO, "oversized message refused");
	ok(strstr(e.msg, "over 65536 bytes") != NULL, "message names the bound");
	free(big);

	/* A hostile SHUTDOWN reason is cut and made printable. */
	int sv[2];
	struct qmp *q = NULL;
	pair(sv);
	say(sv[1],
	    GREETING CAPS_OK "{\"event\": \"SHUTDOWN\", \"data\": {\"reason\": "
			     "\"a\\u001bb\\nc-0123456789012345678901234567890123456789\"}}\n");
	is_int(qmp_open(sv[0], 1000, &q, &e), 0, "handshake");
	close(sv[1]);
	if (q) {
		is_int(qmp_drain(q, 1000, &e), -EPIPE, "drain to the end");
		const char *r = qmp_shutdown_reason(q);
		is_int(r ? (long long)strlen(r) : -1, 39, "reason bounded");
		ok(r && strncmp(r, "a?b?c-", 6) == 0, "control characters replaced");
		qmp_close(q);
	}
}

static void test_parse(void)
{
	struct qmp_msg m;
	struct err e = ERR_INIT;
	const char *ev = "{\"event\":\"STOP\"}";

	is_int(qmp_parse(ev, strlen(ev), &m, &e), 0, "event without data parses");
	is_int(m.kind, QMP_MSG_EVENT, "kind event");
	ok(m.value == NULL, "no data");
	is_int(m.id, -1, "no id");
	qmp_msg_free(&m);
	const char *r = "{\"return\":[],\"id\":\"text\"}";
	is_int(qmp_parse(r, strlen(r), &m, &e), 0, "return with a non-integer id parses");
	is_int(m.id, -1, "foreign id ignored");
	qmp_msg_free(&m);
	const char *dup = "{\"return\":{},\"return\":1}";
	ok(qmp_parse(dup, strlen(dup), &m, &e) < 0, "duplicate keys refused");
}

int main(void)
{
	/* A regression must show as a failed test, not a dead process. */
	signal(SIGPIPE, SIG_DFL);
	test_session();
	test_failures();
	test_parse();
	return done_testing();
}
