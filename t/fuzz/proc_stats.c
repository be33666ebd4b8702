/* Fuzz target for initrd/procstat.c: the guest's /proc parsers.  The
 * input is fed to every parser; each must stay inside it (ASan, exact-size
 * copies from replay.c) and keep every number within INT64_MAX, the most
 * the agent protocol carries. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "initrd/procstat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static void (*const parsers[])(const char *, size_t, struct agent_stats *) = {
		procstat_meminfo, procstat_stat, procstat_netdev,
		procstat_diskstats, procstat_uptime,
	};
	const char *p = (const char *)data;

	for (size_t i = 0; i < sizeof(parsers) / sizeof(parsers[0]); i++) {
		struct agent_stats st;
		const uint64_t *v = (const uint64_t *)&st;

		memset(&st, 0, sizeof(st));
		parsers[i](p, size, &st);
		for (size_t k = 0; k < sizeof(st) / sizeof(uint64_t); k++)
			if (v[k] > (uint64_t)INT64_MAX)
				abort();
		if (st.ncpus > 4096)
			abort();
	}
	if (procstat_ppid(p, size) < -1)
		abort();
	return 0;
}
