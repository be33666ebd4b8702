/* pullfloor [-j N] [-d] BLOB...: the floor for t/bench/pull.sh.  Reads
 * each blob file once (page cache warm) through the same reader pipeline
 * as a pull, without network, TLS or writes:
 *   default  file -> sha256 -> gunzip/zstd (by magic) -> sha256
 *            (the work of `image pull --verify-diff-ids`)
 *   -d       file -> sha256 (the work of a default pull and of skopeo)
 * N worker threads (default 3, like --max-concurrent-downloads) take the
 * blobs in order.  Prints "<ms>" (wall time) on stdout; with -v also each
 * blob's digest(s) on stderr. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/err.h"
#include "lib/stream.h"
#include "oci/decompress.h"
#include "oci/digest.h"

struct floor {
	char **files;
	int n, next, digest_only, verbose, failed;
	pthread_mutex_t mu;
};

static long long now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int drain(struct reader *r, struct err *e)
{
	static __thread unsigned char tmp[65536];
	ssize_t n;

	while ((n = reader_read(r, tmp, sizeof(tmp), e)) > 0)
		;
	return (int)n;
}

static int one(struct floor *f, const char *path, struct err *e)
{
	struct fd_reader fr;
	struct digest_reader blob, diff;
	struct digest d1, d2;
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc;

	if (fd < 0)
		return err_sys(e, "open %s", path);
	fd_reader_init(&fr, fd);
	digest_reader_init(&blob, &fr.r, -1, NULL, "blob");
	if (f->digest_only) {
		rc = drain(&blob.r, e);
	} else {
		struct reader *dec = decompress_open(&blob.r, DECOMPRESS_AUTO, 0);
		digest_reader_init(&diff, dec, -1, NULL, "uncompressed");
		rc = drain(&diff.r, e);
		dec->close(dec);
	}
	close(fd);
	if (rc < 0 || !f->verbose)
		return rc;
	digest_reader_result(&blob, &d1);
	if (f->digest_only) {
		fprintf(stderr, "%s %s\n", path, d1.s);
	} else {
		digest_reader_result(&diff, &d2);
		fprintf(stderr, "%s %s %s\n", path, d1.s, d2.s);
	}
	return 0;
}

static void *worker(void *arg)
{
	struct floor *f = arg;

	for (;;) {
		struct err e = ERR_INIT;
		int i;

		pthread_mutex_lock(&f->mu);
		i = f->failed ? f->n : f->next++;
		pthread_mutex_unlock(&f->mu);
		if (i >= f->n)
			return NULL;
		if (one(f, f->files[i], &e) < 0) {
			fprintf(stderr, "pullfloor: %s\n", e.msg);
			pthread_mutex_lock(&f->mu);
			f->failed = 1;
			pthread_mutex_unlock(&f->mu);
		}
	}
}

int main(int argc, char **argv)
{
	struct floor f = { 0 };
	pthread_t th[64];
	int jobs = 3, n = 0, c;
	long long t0;

	while ((c = getopt(argc, argv, "j:dv")) != -1) {
		switch (c) {
		case 'j':
			jobs = atoi(optarg);
			break;
		case 'd':
			f.digest_only = 1;
			break;
		case 'v':
			f.verbose = 1;
			break;
		default:
			fprintf(stderr, "usage: pullfloor [-j N] [-d] [-v] BLOB...\n");
			return 2;
		}
	}
	if (jobs < 1 || jobs > 64 || optind >= argc) {
		fprintf(stderr, "usage: pullfloor [-j 1..64] [-d] [-v] BLOB...\n");
		return 2;
	}
	f.files = argv + optind;
	f.n = argc - optind;
	pthread_mutex_init(&f.mu, NULL);
	t0 = now_us();
	for (int i = 0; i < jobs && i < f.n; i++)
		if (pthread_create(&th[n], NULL, worker, &f) == 0)
			n++;
	if (n == 0) {
		fprintf(stderr, "pullfloor: cannot start threads\n");
		return 1;
	}
	for (int i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	if (f.failed)
		return 1;
	printf("%lld\n", (now_us() - t0 + 500) / 1000);
	return 0;
}
