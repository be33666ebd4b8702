/* The guest's own numbers for `container stats` (issue #6): pure parsers
 * of the Linux /proc files the guest init reads when the host asks STATS
 * (initrd/init_loop.c), filling struct agent_stats (initrd/agent.h).
 *
 * Platform-neutral and allocation-free so the host builds them for unit
 * tests and the fuzz target (t/fuzz/proc_stats.c).  Each parser takes
 * (text, length) with no NUL needed, reads at most PROCSTAT_LINES_MAX
 * lines, saturates numbers at INT64_MAX and ignores what it does not
 * recognise: a file in an unexpected shape gives zeros, never a failure.
 *
 *   meminfo    MemTotal, MemAvailable (kB -> bytes)
 *   stat       the "cpu" line: user+nice+system = cpu_usec, every field =
 *              cpu_total_usec, system+irq+softirq = cpu_kernel_usec
 *              (USER_HZ 100); "cpuN" lines counted into ncpus
 *   net/dev    every interface but lo: rx/tx bytes and packets summed
 *   diskstats  whole virtio/SCSI/Xen disks (vdX, sdX, xvdX; not their
 *              partitions): sectors read/written * 512
 *   uptime     seconds with a fraction -> uptime_ms
 *   <pid>/stat procstat_ppid: the parent's pid (the guest counts the
 *              processes that are not kernel threads: procs) */
#ifndef INITRD_PROCSTAT_H
#define INITRD_PROCSTAT_H

#include <stddef.h>

#include "initrd/agent.h"

#define PROCSTAT_LINES_MAX 4096

void procstat_meminfo(const char *p, size_t n, struct agent_stats *st);
void procstat_stat(const char *p, size_t n, struct agent_stats *st);
void procstat_netdev(const char *p, size_t n, struct agent_stats *st);
void procstat_diskstats(const char *p, size_t n, struct agent_stats *st);
void procstat_uptime(const char *p, size_t n, struct agent_stats *st);
/* The ppid field of a /proc/<pid>/stat line; -1 when there is none. */
long procstat_ppid(const char *p, size_t n);

#endif
