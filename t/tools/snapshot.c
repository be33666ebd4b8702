/* Test driver for the snapshot cache (t/integ/snapshot_debian.sh,
 * t/bench/unpack.sh).  ROOT is a data directory (content store +
 * snapshots/).
 *
 *   snapshot put ROOT [--bad-diff-id N] LAYER...
 *                                   store layer files (tar, gzip or zstd,
 *                                   told by magic), a config with their
 *                                   diff_ids (layer N's replaced by a wrong
 *                                   one) and an OCI manifest; prints the
 *                                   manifest digest
 *   snapshot get ROOT DIGEST        the cached image's path (built if absent)
 *   snapshot build ROOT DIGEST OUT  build to OUT (no cache, no lock); prints
 *                                   layers, bytes, entries and the time taken
 *   snapshot rm ROOT DIGEST         snapshot_remove
 *   snapshot gc ROOT [DIGEST...]    snapshot_gc with these roots
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/mem.h"
#include "lib/stream.h"
#include "oci/decompress.h"
#include "oci/digest.h"
#include "oci/manifest.h"
#include "oci/snapshot.h"
#include "oci/store.h"

static void die(const char *what, const struct err *e)
{
	fprintf(stderr, "snapshot: %s%s%s\n", what, e ? ": " : "", e ? e->msg : "");
	exit(1);
}

/* sha256 of everything r yields. */
static void hash_all(struct reader *r, struct digest *out, const char *what)
{
	struct digest_reader dr;
	struct err e = ERR_INIT;
	unsigned char *b = xmalloc(1 << 20);
	ssize_t k;
	digest_reader_init(&dr, r, -1, NULL, what);
	while ((k = reader_read(&dr.r, b, 1 << 20, &e)) > 0)
		;
	if (k < 0)
		die(what, &e);
	digest_reader_result(&dr, out);
	free(b);
}

static const char *media_type(const char *path, enum decompress_kind *kind)
{
	unsigned char m[4] = { 0 };
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || read(fd, m, 4) < 0)
		die(path, NULL);
	close(fd);
	if (m[0] == 0x1f && m[1] == 0x8b) {
		*kind = DECOMPRESS_GZIP;
		return MT_OCI_LAYER_GZIP;
	}
	if (m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd) {
		*kind = DECOMPRESS_ZSTD;
		return MT_OCI_LAYER_ZSTD;
	}
	*kind = DECOMPRESS_NONE;
	return MT_OCI_LAYER;
}

static void put_file(struct store *s, const char *path, struct digest *blob, struct digest *diff,
		     long long *size, const char **mt)
{
	struct err e = ERR_INIT;
	struct fd_reader fr;
	struct store_writer *w;
	enum decompress_kind kind;
	struct stat sb;
	int fd;

	*mt = media_type(path, &kind);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &sb) < 0)
		die(path, NULL);
	*size = (long long)sb.st_size;
	fd_reader_init(&fr, fd);
	hash_all(&fr.r, blob, path);
	lseek(fd, 0, SEEK_SET);
	struct reader *dz = decompress_open(&fr.r, kind, 0);
	hash_all(dz, diff, path);
	dz->close(dz);
	lseek(fd, 0, SEEK_SET);
	if (store_writer_open(s, blob, *size, 0, &w, &e) < 0)
		die(path, &e);
	if (w && (store_writer_copy(w, &fr.r, &e) < 0 || store_writer_commit(w, &e) < 0))
		die(path, &e);
	close(fd);
}

static int cmd_put(struct store *s, int n, char **files)
{
	int bad = 0;
	struct buf cfg = BUF_INIT, man = BUF_INIT, layers = BUF_INIT;
	struct err e = ERR_INIT;
	struct digest cd, md;
	struct platform p;

	if (n >= 2 && strcmp(files[0], "--bad-diff-id") == 0) {
		bad = atoi(files[1]);
		files += 2;
		n -= 2;
	}
	platform_host(&p);
	buf_printf(&cfg, "{\"architecture\":\"%s\",\"os\":\"linux\",\"config\":{\"Cmd\":[\"/bin/sh\"]},"
			 "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[", p.arch);
	for (int i = 0; i < n; i++) {
		struct digest blob, diff;
		long long size;
		const char *mt;
		put_file(s, files[i], &blob, &diff, &size, &mt);
		if (i + 1 == bad)
			sha256_digest("not this layer", 14, &diff);
		buf_printf(&cfg, "%s\"%s\"", i ? "," : "", diff.s);
		buf_printf(&layers, "%s{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%lld}",
			   i ? "," : "", mt, blob.s, size);
	}
	buf_puts(&cfg, "]}}");
	if (store_put(s, cfg.data, cfg.len, NULL, &cd, &e) < 0)
		die("config", &e);
	buf_printf(&man,
		   "{\"schemaVersion\":2,\"mediaType\":\"" MT_OCI_MANIFEST "\",\"config\":"
		   "{\"mediaType\":\"" MT_OCI_CONFIG "\",\"digest\":\"%s\",\"size\":%zu},"
		   "\"layers\":[%s]}",
		   cd.s, cfg.len, buf_str(&layers));
	if (store_put(s, man.data, man.len, NULL, &md, &e) < 0)
		die("manifest", &e);
	printf("%s\n", md.s);
	buf_free(&cfg);
	buf_free(&man);
	buf_free(&layers);
	return 0;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct err e = ERR_INIT;
	struct store *s;
	struct digest d;

	if (argc < 3) {
		fprintf(stderr, "usage: snapshot put|get|build|rm|gc ROOT ...\n");
		return 2;
	}
	const char *cmd = argv[1], *root = argv[2];
	if (store_open(root, &s, &e) < 0)
		die(root, &e);
	if (strcmp(cmd, "put") == 0)
		return cmd_put(s, argc - 3, argv + 3);
	if (strcmp(cmd, "gc") == 0) {
		struct digest *roots = xcalloc((size_t)argc, sizeof(*roots));
		struct snapshot_gc_result r;
		for (int i = 3; i < argc; i++)
			if (digest_parse(argv[i], &roots[i - 3], &e) < 0)
				die(argv[i], &e);
		if (snapshot_gc(s, root, roots, (size_t)argc - 3, &r, &e) < 0)
			die("gc", &e);
		printf("kept %zu removed %zu busy %zu temp %zu freed %llu\n", r.kept, r.removed,
		       r.busy, r.temp_removed, r.bytes_freed);
		free(roots);
		store_close(s);
		return 0;
	}
	if (argc < 4 || digest_parse(argv[3], &d, &e) < 0)
		die("a manifest digest is needed", argc < 4 ? NULL : &e);
	if (strcmp(cmd, "get") == 0) {
		struct buf out = BUF_INIT;
		int rc = snapshot_get(s, root, &d, NULL, &out, &e);
		if (rc < 0)
			die("get", &e);
		printf("%s\n", buf_str(&out));
		fprintf(stderr, "snapshot: %s\n", rc ? "built" : "cached");
		buf_free(&out);
	} else if (strcmp(cmd, "build") == 0 && argc == 5) {
		struct snapshot_stats st;
		double t0 = now();
		if (snapshot_build(s, &d, argv[4], NULL, &st, &e) < 0)
			die("build", &e);
		printf("layers %zu compressed %llu uncompressed %llu entries %llu inodes %llu "
		       "image %llu seconds %.3f\n",
		       st.layers, (unsigned long long)st.compressed_bytes,
		       (unsigned long long)st.uncompressed_bytes, (unsigned long long)st.entries,
		       (unsigned long long)st.inodes, (unsigned long long)st.image_bytes, now() - t0);
	} else if (strcmp(cmd, "rm") == 0) {
		int rc = snapshot_remove(root, &d, &e);
		if (rc < 0)
			die("rm", &e);
		printf("%s\n", rc ? "removed" : "absent");
	} else {
		die("unknown command or arguments", NULL);
	}
	store_close(s);
	return 0;
}
