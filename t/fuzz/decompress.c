/* Fuzz target for oci/decompress.c: the first byte picks the kind (none,
 * gzip, zstd, auto), a cap, a read size and whether the output goes on
 * into the tar reader; the rest is the compressed stream.  Must never
 * crash, leak, read out of bounds, or produce more than the cap. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/err.h"
#include "lib/stream.h"
#include "oci/decompress.h"
#include "oci/tar.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* small caps keep each run fast: bombs stop at 128 KiB */
	static const uint64_t caps[4] = { 128u << 10, 1, 4096, 32u << 10 };
	static unsigned char buf[65536];
	struct mem_reader m;
	struct err e = ERR_INIT;
	ssize_t n;

	if (size < 1)
		return 0;
	unsigned sel = data[0];
	enum decompress_kind kind = (enum decompress_kind)(sel & 3);
	uint64_t cap = caps[(sel >> 2) & 3], total = 0;
	size_t chunk = (sel & 0x10) ? 1 + 100 * (sel >> 5) : sizeof(buf);
	bool tar = (sel & 0xe0) == 0xe0;

	mem_reader_init(&m, data + 1, size - 1);
	struct reader *r = decompress_open(&m.r, kind, cap);
	if (tar) {
		struct tar *t = tar_open(r, &e);
		struct tar_entry *te;
		int rc;
		while ((rc = tar_next(t, &te, &e)) > 0)
			while ((n = tar_read(t, buf, sizeof(buf), &e)) > 0)
				;
		if (rc < 0 && !e.msg[0])
			abort();
		tar_close(t);
	} else {
		while ((n = reader_read(r, buf, chunk, &e)) > 0)
			total += (uint64_t)n;
		if (n < 0 && (!e.msg[0] || e.code != n))
			abort();
		if (total > cap)
			abort();
		/* sticky: once failed or done, stays so */
		ssize_t again = reader_read(r, buf, 1, &e);
		if (again != n)
			abort();
	}
	r->close(r);
	return 0;
}
