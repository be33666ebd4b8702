/* The host<->guest agent protocol: a versioned, framed, multiplexed byte
 * stream between container-runtime (host, libuv) and the guest init
 * (blocking I/O + poll).  This file is only the codec: no I/O, no event
 * loop, so both sides and the fuzz target share it.  Used by initrd/init.c
 * (guest) and the runtime role (host); fuzzed by t/fuzz/agent_decode.c.
 *
 * The guest is untrusted: agent_decode() validates every length against a
 * fixed cap before looking at the bytes it covers, never allocates, and
 * hands out pointers into the caller's buffer.
 *
 * Wire format (all integers big-endian):
 *
 *   frame   = header(16) payload(len)
 *   header  = magic u16 (0xC7A6) | version u8 | type u8 |
 *             stream u32 | flags u32 | len u32
 *
 *   stream  0 = the VM itself (hello, config, shutdown, stats);
 *           N >= 1 = process N.  The container's main process is stream 1;
 *           the host picks ids >= 2 for exec'd processes.
 *   flags   AGENT_FLAG_EOF on data frames; every other bit must be 0.
 *   len     <= AGENT_PAYLOAD_MAX.
 *
 * Control payloads are a sequence of fields, each: tag u8 | size u32 |
 * value.  Integers are 8 bytes (two's complement for signed), booleans one
 * byte 0/1, strings are their bytes plus a terminating NUL that is counted
 * in size (so a decoded string is a C string pointing into the frame) and
 * contain no other NUL, string lists are count u32 followed by count
 * NUL-terminated strings filling the value exactly.  A tag appears at most
 * once; unknown tags, missing required tags and trailing bytes are errors.
 * CONFIG's payload is a JSON document (see initrd/guest.h), opaque here.
 *
 *   type         dir   stream  payload
 *   HELLO        both  0       min_version, max_version, agent (string)
 *   CONFIG       h->g  0       JSON boot configuration
 *   OK           g->h  any     none: the request on this stream succeeded
 *   ERROR        both  any     code (i64, negative errno), message
 *   CREATE       h->g  N>=2    argv (>= 1), env, cwd, user, tty, rows, cols,
 *                              stdin (open stdin)
 *   START        h->g  N       none
 *   SIGNAL       h->g  N       signo (1..64)
 *   RESIZE       h->g  N       rows, cols
 *   CLOSE_STDIN  h->g  N       none
 *   WAIT         h->g  N       none: (re)send EXIT once N has exited
 *   EXIT         g->h  N       status (0..255; 128+N for signal N), signal
 *   STATS        h->g  0       none
 *   STATS_REPLY  g->h  0       mem_total, mem_available, cpu_usec, procs,
 *                              uptime_ms, cpu_total_usec, cpu_kernel_usec,
 *                              ncpus, net_{rx,tx}_{bytes,packets},
 *                              blk_{read,write}_bytes (all optional)
 *   SHUTDOWN     h->g  0       none: sync and power off now
 *   COPY         h->g  N>=2    op (1 stat, 2 archive, 3 extract, 4 export),
 *                              path, flags
 *                              (bit 0: refuse to replace a directory by a
 *                              non-directory or back; bit 1: unused;
 *                              bit 2: keep the archive's uid/gid, else
 *                              root's; bit 3: archive writes the stat's
 *                              line before the tar).  A CREATE whose process is
 *                              the guest init itself (docker cp, export):
 *                              answered with OK, run by START; stat writes
 *                              a JSON object and archive a tar on STDOUT,
 *                              export the whole root (one file system);
 *                              extract reads a tar on STDIN; EXIT status 0,
 *                              else AGENT_COPY_E_* with a line on STDERR.
 *   STDIN        h->g  N       data; empty with EOF flag = close stdin
 *   STDOUT       g->h  N       data; empty with EOF flag = stream ended
 *   STDERR       g->h  N       data; likewise
 *
 * OK answers CONFIG, CREATE, COPY and START; the other requests are answered
 * only when they fail (ERROR on the request's stream).  A frame the guest
 * cannot use is answered with ERROR on stream 0 and otherwise ignored.
 *
 * Conversation: the guest sends HELLO as soon as the channel is open; the
 * host answers HELLO, then CONFIG unless the kernel command line carried
 * it.  The guest answers CONFIG with OK once the main process runs, or with
 * ERROR and powers off.  Stdio of process 1 flows; the guest sends EXIT
 * for it, then waits (<= 2 s) for SHUTDOWN before powering off, so the
 * host has read everything.  Receivers check direction themselves
 * (agent_type_from_host()).
 *
 * Decoder results (agent_decode):
 *   1   one frame decoded, *consumed = its size;
 *   0   incomplete: read more (a frame never needs more than
 *       AGENT_FRAME_MAX bytes, checked from the header alone);
 *  <0   error, e filled.  If *consumed > 0 the framing is intact and the
 *       frame may be skipped (-ENOTSUP unknown type, -EBADMSG malformed
 *       payload); if *consumed == 0 the stream is lost (-EPROTO bad magic
 *       or version, -EMSGSIZE oversized length, -EINVAL reserved flags):
 *       close the channel.
 */
#ifndef INITRD_AGENT_H
#define INITRD_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buf;
struct err;

#define AGENT_MAGIC 0xC7A6u
#define AGENT_VERSION 1u             /* the only version spoken today */
#define AGENT_HDR_SIZE 16u
#define AGENT_PAYLOAD_MAX (1u << 20)  /* any frame's payload */
#define AGENT_FRAME_MAX (AGENT_HDR_SIZE + AGENT_PAYLOAD_MAX)
#define AGENT_STR_MAX (64u << 10)     /* one string, including its NUL */
#define AGENT_STRV_MAX 4096u          /* entries in argv or env */
#define AGENT_DATA_CHUNK (64u << 10)  /* what senders put in one data frame */

#define AGENT_FLAG_EOF 0x1u

enum agent_type {
	AGENT_HELLO = 0x01,
	AGENT_CONFIG = 0x02,
	AGENT_OK = 0x03,
	AGENT_ERROR = 0x04,
	AGENT_CREATE = 0x10,
	AGENT_START = 0x11,
	AGENT_SIGNAL = 0x12,
	AGENT_RESIZE = 0x13,
	AGENT_CLOSE_STDIN = 0x14,
	AGENT_WAIT = 0x15,
	AGENT_EXIT = 0x16,
	AGENT_STATS = 0x17,
	AGENT_STATS_REPLY = 0x18,
	AGENT_SHUTDOWN = 0x19,
	AGENT_COPY = 0x1A,
	AGENT_STDIN = 0x20,
	AGENT_STDOUT = 0x21,
	AGENT_STDERR = 0x22,
};

/* A validated list of strings inside a frame: count NUL-terminated strings
 * packed in data[0..size).  Walk it with agent_strv_next(). */
struct agent_strv {
	const char *data;
	size_t size;
	uint32_t count;
};

struct agent_hello {
	uint32_t min_version, max_version;
	const char *agent;           /* e.g. "container-init 0.1.0" */
};

struct agent_create {
	struct agent_strv argv;      /* count >= 1 */
	struct agent_strv env;       /* may be empty */
	const char *cwd;             /* "" = the container's working dir */
	const char *user;            /* "" = the container's user */
	bool tty, open_stdin;
	uint16_t rows, cols;
};

/* COPY: what the guest does with a path of the container (docker cp). */
enum agent_copy_op { AGENT_COPY_STAT = 1, AGENT_COPY_ARCHIVE = 2, AGENT_COPY_EXTRACT = 3,
		     AGENT_COPY_EXPORT = 4 };
#define AGENT_COPY_NO_OVERWRITE_DIR 0x1u
/* 0x2u was FOLLOW, never sent: -L is the client's (it asks for the target) */
#define AGENT_COPY_KEEP_IDS 0x4u     /* extract: the archive's uid/gid, else root's */
#define AGENT_COPY_STAT_FIRST 0x8u   /* archive: stat's line on stdout before the tar */
/* COPY's exit statuses (beside 0), what the API turns into 404/400/500. */
enum { AGENT_COPY_E_OTHER = 1, AGENT_COPY_E_NOENT = 2, AGENT_COPY_E_NOTDIR = 3,
       AGENT_COPY_E_BADTAR = 4 };

struct agent_copy {
	unsigned op;                 /* enum agent_copy_op */
	const char *path;            /* absolute, as the API got it */
	uint32_t flags;
};

struct agent_stats {
	uint64_t mem_total, mem_available;   /* bytes */
	uint64_t cpu_usec;                   /* user + system, all CPUs */
	uint64_t procs;                      /* processes in the VM */
	uint64_t uptime_ms;
	/* added for `stats` (#6); 0 when the guest did not send them */
	uint64_t cpu_total_usec;             /* every /proc/stat cpu field, idle too */
	uint64_t cpu_kernel_usec;            /* system + irq + softirq */
	uint64_t ncpus;
	uint64_t net_rx_bytes, net_tx_bytes, net_rx_packets, net_tx_packets;
	uint64_t blk_read_bytes, blk_write_bytes;
};

/* A decoded frame.  Pointers borrow the buffer given to agent_decode. */
struct agent_frame {
	uint8_t version;
	uint8_t type;                /* enum agent_type */
	uint32_t stream;
	uint32_t flags;
	const uint8_t *payload;      /* raw payload (data frames, CONFIG) */
	uint32_t len;
	union {
		struct agent_hello hello;
		struct agent_create create;
		struct { int64_t code; const char *message; } error;
		int signo;                           /* SIGNAL */
		struct { uint16_t rows, cols; } resize;
		struct { int status; int signal; } exit; /* signal 0 = exited */
		struct agent_stats stats;
		struct agent_copy copy;
	} u;
};

int agent_decode(const void *buf, size_t len, struct agent_frame *f, size_t *consumed,
		 struct err *e);

/* Next string of l starting at *off (0 first); NULL after the last. */
const char *agent_strv_next(const struct agent_strv *l, size_t *off);

/* "HELLO", "STDOUT", ...; "unknown" for anything else. */
const char *agent_type_name(unsigned type);
/* Whether the host may send this type (the guest rejects the others). */
bool agent_type_from_host(unsigned type);

/* --- encoders: append one complete frame to out --------------------------
 * They apply the decoder's caps to what they send, so a frame built here is
 * never refused by the peer: -E2BIG / -EINVAL otherwise (out unchanged).
 * out may carry its own limit (buf max) and fail with -E2BIG. */

/* A frame whose payload is given verbatim: data frames, CONFIG, and the
 * no-payload types (OK, START, CLOSE_STDIN, WAIT, STATS, SHUTDOWN with
 * p == NULL, n == 0). */
int agent_put_raw(struct buf *out, unsigned type, uint32_t stream, uint32_t flags,
		  const void *p, size_t n, struct err *e);
int agent_put_hello(struct buf *out, const struct agent_hello *h, struct err *e);
int agent_put_error(struct buf *out, uint32_t stream, int64_t code, const char *msg,
		    struct err *e);

/* What the host asks the guest to run (CREATE).  argv and env are
 * NULL-terminated; env may be NULL. */
struct agent_proc_spec {
	const char *const *argv;
	const char *const *env;
	const char *cwd;             /* NULL = "" */
	const char *user;            /* NULL = "" */
	bool tty, open_stdin;
	uint16_t rows, cols;
};
int agent_put_create(struct buf *out, uint32_t stream, const struct agent_proc_spec *s,
		     struct err *e);
int agent_put_signal(struct buf *out, uint32_t stream, int signo, struct err *e);
int agent_put_resize(struct buf *out, uint32_t stream, uint16_t rows, uint16_t cols,
		     struct err *e);
int agent_put_exit(struct buf *out, uint32_t stream, int status, int signal, struct err *e);
int agent_put_stats(struct buf *out, const struct agent_stats *s, struct err *e);
int agent_put_copy(struct buf *out, uint32_t stream, const struct agent_copy *c, struct err *e);

/* Field tags, exposed for tests that build hostile payloads by hand. */
enum agent_tag {
	AGENT_T_MIN_VERSION = 1, AGENT_T_MAX_VERSION, AGENT_T_AGENT,
	AGENT_T_CODE, AGENT_T_MESSAGE,
	AGENT_T_ARGV, AGENT_T_ENV, AGENT_T_CWD, AGENT_T_USER, AGENT_T_TTY,
	AGENT_T_ROWS, AGENT_T_COLS, AGENT_T_STDIN,
	AGENT_T_SIGNO, AGENT_T_STATUS, AGENT_T_SIGNAL,
	AGENT_T_MEM_TOTAL, AGENT_T_MEM_AVAILABLE, AGENT_T_CPU_USEC, AGENT_T_PROCS,
	AGENT_T_UPTIME_MS,
	AGENT_T_OP, AGENT_T_PATH, AGENT_T_FLAGS,
	AGENT_T_CPU_TOTAL_USEC, AGENT_T_CPU_KERNEL_USEC, AGENT_T_NCPUS,
	AGENT_T_NET_RX_BYTES, AGENT_T_NET_TX_BYTES, AGENT_T_NET_RX_PACKETS,
	AGENT_T_NET_TX_PACKETS, AGENT_T_BLK_READ_BYTES, AGENT_T_BLK_WRITE_BYTES,
	AGENT_T__COUNT
};

#endif
