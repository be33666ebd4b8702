/* Time helpers shared by the front-ends and roles: a sleep that survives
 * signals, and the RFC 3339 times our state files hold (bundle_now's
 * "2026-11-23T22:27:42.123456789Z") back to seconds. */
#ifndef LIB_TIMEX_H
#define LIB_TIMEX_H

#include <time.h>

/* Sleep ms milliseconds, resumed after a signal's handler returns. */
void timex_sleep_ms(long ms);

/* "YYYY-MM-DDTHH:MM:SS" and whatever follows (fraction, zone: taken as
 * UTC) as seconds since the epoch; 0 for NULL or another shape. */
time_t timex_parse_rfc3339(const char *s);

#endif
