/* sha256bench [MiB]: throughput of sha256_update over an in-memory
 * buffer (default 256 MiB) with the accelerated block function (if this
 * CPU has one) and with the portable one; prints "impl MB/s" lines and the
 * digest, which must be the same for both.  Used by t/bench/sha256.sh. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "oci/digest.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void run(const unsigned char *p, size_t n, struct digest *d)
{
	struct sha256 h;
	double t0 = now();

	sha256_init(&h);
	/* 64 KiB chunks, like the reader pipeline. */
	for (size_t off = 0; off < n; off += 65536)
		sha256_update(&h, p + off, n - off < 65536 ? n - off : 65536);
	sha256_final(&h, d);
	double dt = now() - t0;
	printf("%-10s %8.0f MB/s  %s\n", sha256__impl_name(), (double)n / 1e6 / dt, d->s);
}

int main(int argc, char **argv)
{
	size_t mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 256;
	size_t n = mib << 20;
	unsigned char *p = malloc(n ? n : 1);
	struct digest fast, slow;

	if (!p) {
		fprintf(stderr, "sha256bench: cannot allocate %zu MiB\n", mib);
		return 1;
	}
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)(i * 2654435761u >> 13);
	run(p, n, &fast);
	sha256__force_portable(1);
	run(p, n, &slow);
	free(p);
	if (strcmp(fast.s, slow.s) != 0) {
		fprintf(stderr, "sha256bench: implementations disagree\n");
		return 1;
	}
	return 0;
}
