/* A blocking client of a runtime's attach socket (protocol in
 * applets/runtime.h): bounded frame reading with a timeout.  Used by the
 * one-shot commands (`run -d` waiting for the start, `stop`, `kill`,
 * `rm -f`); the interactive relay is applets/attach.c. */
#ifndef APPLETS_RTCLIENT_H
#define APPLETS_RTCLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "initrd/agent.h"
#include "lib/buf.h"

struct err;

struct rtc {
	int fd;         /* owned; -1 = none */
	struct buf in;  /* bounded: one frame plus a read */
};

/* fd -1, an empty bounded buffer. */
void rtc_init(struct rtc *c);
/* The next frame within timeout_ms: 1 (f borrows c->in until the next
 * call, which first drops the *pending bytes of this one), 0 timed out,
 * -EPIPE the runtime closed, <0 other errors.  Frames the codec can skip
 * are skipped. */
int rtc_next(struct rtc *c, size_t *pending, struct agent_frame *f, int timeout_ms,
	     struct err *e);
void rtc_close(struct rtc *c);

uint64_t rtc_now_ms(void);

#endif
