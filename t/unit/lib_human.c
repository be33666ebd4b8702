/* lib/human.h and lib/timex.h: sizes in both styles at the unit edges,
 * and RFC 3339 times back to seconds (with hostile shapes). */
#include <string.h>

#include "lib/buf.h"
#include "lib/human.h"
#include "lib/timex.h"
#include "t/tap.h"

static const char *h(struct buf *b, double v, enum human_style s)
{
	buf_reset(b);
	human_size(b, v, s);
	return buf_str(b);
}

int main(void)
{
	struct buf b = BUF_INIT;

	is_str(h(&b, 0, HUMAN_DOCKER), "0B", "docker: zero");
	is_str(h(&b, 999, HUMAN_DOCKER), "999B", "docker: bytes");
	is_str(h(&b, 1000, HUMAN_DOCKER), "1kB", "docker: 1000 is 1kB (decimal)");
	is_str(h(&b, 1234567, HUMAN_DOCKER), "1.235MB", "docker: 4 significant digits");
	is_str(h(&b, 5e18, HUMAN_DOCKER), "5000PB", "docker: past the last unit");
	is_str(h(&b, 512, HUMAN_DECIMAL1), "512 B", "decimal1: bytes without a fraction");
	is_str(h(&b, 7812345, HUMAN_DECIMAL1), "7.8 MB", "decimal1: one decimal");
	is_str(h(&b, -1, HUMAN_DECIMAL1), "-", "unknown: -");

	ok(timex_parse_rfc3339("1970-01-01T00:00:00Z") == 0, "the epoch");
	ok(timex_parse_rfc3339("2026-11-23T22:27:42.123456789Z") == 1795472862,
	   "a fraction and Z after the seconds");
	ok(timex_parse_rfc3339(NULL) == 0 && timex_parse_rfc3339("") == 0 &&
	   timex_parse_rfc3339("2026-11-23") == 0 && timex_parse_rfc3339("yesterday") == 0,
	   "NULL, empty, a date alone, words: 0");
	buf_free(&b);
	return done_testing();
}
