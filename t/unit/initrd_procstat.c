/* The guest's /proc parsers for STATS (initrd/procstat.c): real samples,
 * then hostile ones (no newline, huge numbers, missing fields, partitions
 * and lo that must not count). */
#include <stdint.h>
#include <string.h>

#include "initrd/procstat.h"
#include "t/tap.h"

#define P(f, s, st) f(s, strlen(s), st)

int main(void)
{
	struct agent_stats st;

	memset(&st, 0, sizeof(st));
	P(procstat_meminfo, "MemTotal:         234560 kB\nMemFree:  1000 kB\n"
			    "MemAvailable:     200000 kB\nBuffers: 1 kB\n", &st);
	ok(st.mem_total == 234560ull * 1024, "MemTotal in bytes");
	ok(st.mem_available == 200000ull * 1024, "MemAvailable in bytes");

	P(procstat_stat, "cpu  100 5 20 1000 3 1 2 0 0 0\ncpu0 50 2 10 500 1 1 1 0 0 0\n"
			 "cpu1 50 3 10 500 2 0 1 0 0 0\nintr 123\nctxt 5\n", &st);
	ok(st.cpu_usec == 125ull * 10000, "busy = user + nice + system");
	ok(st.cpu_kernel_usec == 23ull * 10000, "kernel = system + irq + softirq");
	ok(st.cpu_total_usec == 1131ull * 10000, "total = every field");
	ok(st.ncpus == 2, "cpuN lines counted");

	P(procstat_netdev,
	  "Inter-|   Receive                                                |  Transmit\n"
	  " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n"
	  "    lo:    999      9    0    0    0     0          0         0      999       9    0    0    0     0       0          0\n"
	  "  eth0:   1500     10    0    0    0     0          0         0      700       7    0    0    0     0       0          0\n"
	  "  eth1:100 1 0 0 0 0 0 0 50 2 0 0 0 0 0 0\n", &st);
	ok(st.net_rx_bytes == 1600 && st.net_tx_bytes == 750, "net bytes summed, lo left out");
	ok(st.net_rx_packets == 11 && st.net_tx_packets == 9, "net packets summed");

	P(procstat_diskstats,
	  " 254       0 vda 100 0 2048 10 5 0 16 3 0 20 13 0 0 0 0\n"
	  " 254       1 vda1 100 0 9999 10 5 0 9999 3 0 20 13 0 0 0 0\n"
	  " 254      16 vdb 1 0 8 0 2 0 64 0 0 0 0\n"
	  "   7       0 loop0 1 0 8888 0 0 0 8888 0 0 0 0\n", &st);
	ok(st.blk_read_bytes == (2048 + 8) * 512ull, "sectors read of whole disks");
	ok(st.blk_write_bytes == (16 + 64) * 512ull, "sectors written, partitions and loop left out");

	P(procstat_uptime, "12.345 20.00\n", &st);
	ok(st.uptime_ms == 12345, "uptime in ms");
	P(procstat_uptime, "7.5", &st);
	ok(st.uptime_ms == 7500, "one fraction digit, no newline");

	ok(procstat_ppid("42 (sh) S 7 42 42 0", 19) == 7, "ppid");
	ok(procstat_ppid("42 (a) b) c) R 2 1 1", 20) == 2, "a comm with ') ' in it");
	ok(procstat_ppid("42 (sh", 6) == -1 && procstat_ppid("1 (x) S", 7) == -1 &&
	   procstat_ppid("1 (x) S -3", 10) == -1, "truncated or negative: none");

	/* hostile; st poisoned before each parser that resets its fields, so
	 * a zero is the parser's answer, not what was there */
	memset(&st, 0, sizeof(st));
	P(procstat_meminfo, "MemTotal: 99999999999999999999999999 kB", &st);
	ok(st.mem_total == (uint64_t)INT64_MAX, "a huge number saturates");
	P(procstat_meminfo, "MemTotal:", &st);
	ok(st.mem_total == 0, "a missing number reads 0");
	P(procstat_stat, "cpu 18446744073709551615 18446744073709551615", &st);
	ok(st.cpu_usec == (uint64_t)INT64_MAX && st.cpu_total_usec == (uint64_t)INT64_MAX,
	   "sums saturate");
	st.ncpus = 77;
	P(procstat_stat, "cp", &st);
	ok(st.ncpus == 0 && st.cpu_usec == (uint64_t)INT64_MAX,
	   "a truncated line is ignored (no cpus, the sums untouched)");
	st.net_rx_bytes = st.net_tx_packets = 77;
	P(procstat_netdev, ":::::\n lo\n eth0:", &st);
	ok(st.net_rx_bytes == 0 && st.net_tx_packets == 0, "colons without numbers");
	st.blk_read_bytes = st.blk_write_bytes = 77;
	P(procstat_diskstats, "1 2 vd\n1 2 vd9 5 5 5 5 5 5 5\n1 2", &st);
	ok(st.blk_read_bytes == 0 && st.blk_write_bytes == 0,
	   "a bare prefix or a partition is not a disk");
	st.uptime_ms = 77;
	P(procstat_uptime, "", &st);
	ok(st.uptime_ms == 77, "an empty file changes nothing");
	P(procstat_uptime, "x.5 1", &st);
	ok(st.uptime_ms <= 1000, "no leading digits: a fraction at most");
	return done_testing();
}
