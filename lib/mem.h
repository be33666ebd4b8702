/* Allocation that never returns NULL: on exhaustion it prints one line and
 * aborts (the policy of crun and git; see lib/err.h).  x_free(NULL) is a
 * no-op, like free().  Cleanup attributes make ownership visible:
 *
 *     _cleanup_free_ char *s = xstrdup(x);   // freed at scope exit
 *     *out = s; s = NULL;                     // ownership handed over
 */
#ifndef LIB_MEM_H
#define LIB_MEM_H

#include <stddef.h>
#include <stdlib.h>
#include <unistd.h>

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
/* reallocarray that aborts on overflow or exhaustion */
void *xreallocarray(void *p, size_t nmemb, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

static inline void freep(void *p) { free(*(void **)p); }
static inline void closep(int *fd) { if (*fd >= 0) close(*fd); }

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
