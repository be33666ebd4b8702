/* lib/dispatch_darwin.h: the few libdispatch declarations the macOS code
 * needs (vm/vz.c, net/vmnet_darwin.c).  zig's macOS SDK has libSystem but
 * not these headers' block-based API; the functions link from libSystem. */
#ifndef LIB_DISPATCH_DARWIN_H
#define LIB_DISPATCH_DARWIN_H

#include <stdint.h>

typedef struct dispatch_queue_s *dispatch_queue_t;
typedef struct dispatch_semaphore_s *dispatch_semaphore_t;

#define DISPATCH_TIME_NOW 0ull
#define DISPATCH_TIME_FOREVER (~0ull)

extern dispatch_queue_t dispatch_queue_create(const char *label, void *attr);
extern void dispatch_sync_f(dispatch_queue_t q, void *ctx, void (*fn)(void *));
extern dispatch_semaphore_t dispatch_semaphore_create(long value);
extern long dispatch_semaphore_signal(dispatch_semaphore_t s);
extern long dispatch_semaphore_wait(dispatch_semaphore_t s, uint64_t timeout);
extern uint64_t dispatch_time(uint64_t when, int64_t delta_ns);
extern void dispatch_release(void *object);
/* the class of a global block (clang's Block ABI) */
extern void *_NSConcreteGlobalBlock[32];

#endif
