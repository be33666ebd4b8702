/* The one growable buffer for all string and byte building (STYLE.md 7).
 *
 * Contents are always NUL-terminated (the NUL is not counted in len), so a
 * buffer of text can be used as a C string at any time with buf_str().
 *
 * A buffer may carry a limit (max, in bytes, 0 = none).  Growing past it
 * fails with -E2BIG and leaves the buffer unchanged: this is how parsers of
 * outside data bound what a peer can make us hold.  Formatting never
 * truncates: it grows or fails.
 *
 * The buf_* primitives have a single failure (-E2BIG, only when a limit is
 * set) and so return it without a struct err; callers put it in context.
 * Unlimited buffers cannot fail (out of memory aborts, see lib/mem.h).
 */
#ifndef LIB_BUF_H
#define LIB_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char *data;   /* owned; NULL until the first growth */
	size_t len;   /* bytes used, excluding the trailing NUL */
	size_t cap;   /* bytes allocated */
	size_t max;   /* limit on len, 0 = unlimited */
};

#define BUF_INIT { NULL, 0, 0, 0 }

void buf_init(struct buf *b, size_t max);
void buf_free(struct buf *b);
/* len = 0, keeps the allocation */
void buf_reset(struct buf *b);

/* Make room for n more bytes (plus the NUL). */
int buf_reserve(struct buf *b, size_t n);
int buf_append(struct buf *b, const void *p, size_t n);
int buf_puts(struct buf *b, const char *s);
int buf_putc(struct buf *b, char c);
int buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

/* Drop the first n bytes (n > len is clamped). */
void buf_consume(struct buf *b, size_t n);
/* Shorten to n bytes (no-op when n >= len). */
void buf_truncate(struct buf *b, size_t n);

/* Always a valid C string ("" for an empty, never-grown buffer). */
const char *buf_str(const struct buf *b);
/* Hand the data over (caller frees); the buffer becomes empty.  Never NULL. */
char *buf_steal(struct buf *b);

static inline void buf_freep(struct buf *b) { buf_free(b); }
#define _cleanup_buf_ __attribute__((cleanup(buf_freep)))

#endif
