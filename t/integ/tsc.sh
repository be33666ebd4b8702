# Sourced by VM tests: host_tsc_khz prints the host TSC rate in kHz.
# Under TCG, QEMU's microvm gives an x86 guest no clock to calibrate its TSC
# against, so without tsc_early_khz=<this> the kernel can hang before /init
# on a loaded host.  The caller sets $work to a scratch directory.
host_tsc_khz() {
	cat >"${work:?}/tsc.c" <<'EOF'
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <x86intrin.h>

static long long ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC_RAW, &t);
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
	unsigned long long x = *(const unsigned long long *)a, y = *(const unsigned long long *)b;
	return x < y ? -1 : x > y;
}

int main(void)
{
	unsigned long long khz[5];
	for (int i = 0; i < 5; i++) {
		long long t0 = ns(), t1;
		unsigned long long c0 = __rdtsc();
		while ((t1 = ns()) - t0 < 20000000)
			;
		khz[i] = (__rdtsc() - c0) * 1000000ULL / (unsigned long long)(t1 - t0);
	}
	/* Preemption skews a sample either way: take the median. */
	qsort(khz, 5, sizeof khz[0], cmp);
	printf("%llu\n", khz[2]);
	return 0;
}
EOF
	cc -O2 -o "${work:?}/tsc" "${work:?}/tsc.c" 2>/dev/null && "${work:?}/tsc"
}
