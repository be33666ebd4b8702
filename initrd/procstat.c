/* Parsers of the guest's /proc files for STATS (see initrd/procstat.h).
 * Everything walks a (pointer, end) cursor: no NUL is needed, no byte past
 * the end is read, and every number saturates. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "initrd/procstat.h"

#define SAT ((uint64_t)INT64_MAX)

struct cur {
	const char *p, *end;
};

/* The next line (without its '\n') into *l; false at the end. */
static bool line(struct cur *c, struct cur *l)
{
	const char *nl;

	if (c->p >= c->end)
		return false;
	nl = memchr(c->p, '\n', (size_t)(c->end - c->p));
	l->p = c->p;
	l->end = nl ? nl : c->end;
	c->p = nl ? nl + 1 : c->end;
	return true;
}

static bool is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r';
}

/* The next blank-separated word of l into *w; false when none is left. */
static bool word(struct cur *l, struct cur *w)
{
	while (l->p < l->end && is_space(*l->p))
		l->p++;
	if (l->p >= l->end)
		return false;
	w->p = l->p;
	while (l->p < l->end && !is_space(*l->p))
		l->p++;
	w->end = l->p;
	return true;
}

static bool word_is(const struct cur *w, const char *s)
{
	size_t n = strlen(s);
	return (size_t)(w->end - w->p) == n && memcmp(w->p, s, n) == 0;
}

/* Leading decimal digits of w, saturating; 0 when none. */
static uint64_t num(const struct cur *w)
{
	uint64_t v = 0;

	for (const char *q = w->p; q < w->end && *q >= '0' && *q <= '9'; q++) {
		unsigned d = (unsigned)(*q - '0');
		v = v > (SAT - d) / 10 ? SAT : v * 10 + d;
	}
	return v;
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a > SAT - b ? SAT : a + b;
}

static uint64_t sat_mul(uint64_t a, uint64_t m)
{
	return m && a > SAT / m ? SAT : a * m;
}

/* The next word of l as a number (0 when missing). */
static uint64_t next_num(struct cur *l)
{
	struct cur w;
	return word(l, &w) ? num(&w) : 0;
}

void procstat_meminfo(const char *p, size_t n, struct agent_stats *st)
{
	struct cur c = { p, p + n }, l, w;

	for (unsigned i = 0; i < PROCSTAT_LINES_MAX && line(&c, &l); i++) {
		if (!word(&l, &w))
			continue;
		if (word_is(&w, "MemTotal:"))
			st->mem_total = sat_mul(next_num(&l), 1024);
		else if (word_is(&w, "MemAvailable:"))
			st->mem_available = sat_mul(next_num(&l), 1024);
	}
}

void procstat_stat(const char *p, size_t n, struct agent_stats *st)
{
	struct cur c = { p, p + n }, l, w;
	const uint64_t usec = 1000000 / 100;   /* USER_HZ is 100 */

	st->ncpus = 0;
	for (unsigned i = 0; i < PROCSTAT_LINES_MAX && line(&c, &l); i++) {
		if (!word(&l, &w) || (size_t)(w.end - w.p) < 3 || memcmp(w.p, "cpu", 3) != 0)
			continue;
		if (w.end - w.p > 3) {
			if (w.p[3] >= '0' && w.p[3] <= '9' && st->ncpus < 4096)
				st->ncpus++;
			continue;
		}
		/* user nice system idle iowait irq softirq steal (guest time is
		 * already inside user and nice) */
		uint64_t f[8] = { 0 }, total = 0;
		for (int k = 0; k < 8; k++) {
			f[k] = next_num(&l);
			total = sat_add(total, f[k]);
		}
		st->cpu_usec = sat_mul(sat_add(sat_add(f[0], f[1]), f[2]), usec);
		st->cpu_kernel_usec = sat_mul(sat_add(sat_add(f[2], f[5]), f[6]), usec);
		st->cpu_total_usec = sat_mul(total, usec);
	}
}

void procstat_netdev(const char *p, size_t n, struct agent_stats *st)
{
	struct cur c = { p, p + n }, l;

	st->net_rx_bytes = st->net_tx_bytes = st->net_rx_packets = st->net_tx_packets = 0;
	for (unsigned i = 0; i < PROCSTAT_LINES_MAX && line(&c, &l); i++) {
		/* "  eth0: rxbytes rxpackets errs drop fifo frame compressed
		 *  multicast txbytes txpackets ..."; the headers have no ':' */
		const char *colon = memchr(l.p, ':', (size_t)(l.end - l.p));
		struct cur name = { l.p, colon }, rest, w;
		uint64_t v[10];

		if (!colon)
			continue;
		if (word(&name, &w) && word_is(&w, "lo"))
			continue;
		rest = (struct cur){ colon + 1, l.end };
		for (int k = 0; k < 10; k++)
			v[k] = next_num(&rest);
		st->net_rx_bytes = sat_add(st->net_rx_bytes, v[0]);
		st->net_rx_packets = sat_add(st->net_rx_packets, v[1]);
		st->net_tx_bytes = sat_add(st->net_tx_bytes, v[8]);
		st->net_tx_packets = sat_add(st->net_tx_packets, v[9]);
	}
}

/* vdX, sdX, xvdX: a prefix then letters only (a digit means a partition). */
static bool whole_disk(const struct cur *w)
{
	static const char *const pre[] = { "vd", "sd", "xvd" };

	for (size_t k = 0; k < sizeof(pre) / sizeof(pre[0]); k++) {
		size_t m = strlen(pre[k]);
		const char *q = w->p + m;
		if ((size_t)(w->end - w->p) <= m || memcmp(w->p, pre[k], m) != 0)
			continue;
		for (; q < w->end; q++)
			if (*q < 'a' || *q > 'z')
				return false;
		return true;
	}
	return false;
}

void procstat_diskstats(const char *p, size_t n, struct agent_stats *st)
{
	struct cur c = { p, p + n }, l, w;

	st->blk_read_bytes = st->blk_write_bytes = 0;
	for (unsigned i = 0; i < PROCSTAT_LINES_MAX && line(&c, &l); i++) {
		uint64_t v[7];
		/* major minor name reads merged sectors ms writes merged sectors */
		next_num(&l);
		next_num(&l);
		if (!word(&l, &w) || !whole_disk(&w))
			continue;
		for (int k = 0; k < 7; k++)
			v[k] = next_num(&l);
		st->blk_read_bytes = sat_add(st->blk_read_bytes, sat_mul(v[2], 512));
		st->blk_write_bytes = sat_add(st->blk_write_bytes, sat_mul(v[6], 512));
	}
}

void procstat_uptime(const char *p, size_t n, struct agent_stats *st)
{
	struct cur c = { p, p + n }, w;
	const char *dot;
	uint64_t ms;

	if (!word(&c, &w))
		return;
	ms = sat_mul(num(&w), 1000);
	dot = memchr(w.p, '.', (size_t)(w.end - w.p));
	if (dot) {
		/* up to three digits of the fraction */
		uint64_t frac = 0, scale = 100;
		for (const char *q = dot + 1; q < w.end && scale && *q >= '0' && *q <= '9'; q++) {
			frac += (uint64_t)(*q - '0') * scale;
			scale /= 10;
		}
		ms = sat_add(ms, frac);
	}
	st->uptime_ms = ms;
}

long procstat_ppid(const char *p, size_t n)
{
	const char *q = NULL;
	struct cur c, w;

	/* "pid (comm) S ppid ...": comm may hold anything, even ") "; the
	 * last ')' ends it */
	for (size_t i = n; i > 0; i--)
		if (p[i - 1] == ')') {
			q = p + i;
			break;
		}
	if (!q)
		return -1;
	c = (struct cur){ q, p + n };
	if (!word(&c, &w) || !word(&c, &w) || w.p[0] < '0' || w.p[0] > '9')
		return -1;
	return (long)(num(&w) > INT32_MAX ? -1 : (int64_t)num(&w));
}
