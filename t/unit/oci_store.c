/* Tests of oci/store.c: verified writes, resume, one writer per digest
 * across processes (fork), crash consistency (a child killed mid-write),
 * and garbage collection from a root set. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/mem.h"
#include "lib/stream.h"
#include "oci/manifest.h"
#include "oci/store.h"
#include "t/tap.h"

static char root[4096];

static void make_root(const char *name)
{
	const char *tmp = getenv("TMPDIR");
	snprintf(root, sizeof(root), "%s/oci_store_%s_XXXXXX", tmp && *tmp ? tmp : "/tmp", name);
	if (!mkdtemp(root)) {
		perror("mkdtemp");
		exit(1);
	}
}

static void rm_rf(const char *dir)
{
	pid_t pid = fork();
	if (pid == 0) {
		execlp("rm", "rm", "-rf", dir, (char *)NULL);
		_exit(127);
	}
	waitpid(pid, NULL, 0);
}

static long long file_size(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

static void ingest_path(const struct digest *d, struct buf *out)
{
	buf_reset(out);
	buf_printf(out, "%s/content/ingest/%s", root, digest_hex(d));
}

static void fill(unsigned char *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (unsigned char)(seed >> 16);
	}
}

/* A reader producing 'x' forever, counting what it handed out. */
struct endless {
	struct reader r;
	unsigned long long given;
};

static ssize_t endless_read(struct reader *r, void *p, size_t n, struct err *e)
{
	(void)e;
	memset(p, 'x', n);
	((struct endless *)r)->given += n;
	return (ssize_t)n;
}

static void test_basic(struct store *s)
{
	struct err e = ERR_INIT;
	struct digest d, bad;
	_cleanup_buf_ struct buf b = BUF_INIT, p = BUF_INIT;
	long long size = -1;
	struct stat st;
	int fd = -1;

	is_int(store_put(s, "hello", 5, NULL, &d, &e), 0, "put hello");
	is_int(store_has(s, &d, &size, &e), 1, "hello present");
	is_int(size, 5, "size 5");
	store_blob_path(s, &d, &p);
	ok(stat(buf_str(&p), &st) == 0 && (st.st_mode & 0777) == 0444, "blob is read-only");
	ok(strstr(buf_str(&p), "/content/blobs/sha256/") != NULL, "blob under content/blobs/sha256");
	is_int(store_read_blob(s, &d, 100, &b, &e), 0, "read hello");
	is_str(buf_str(&b), "hello", "content");
	buf_reset(&b);
	is_int(store_read_blob(s, &d, 4, &b, &e), -EFBIG, "read bounded by max");
	is_int(store_put(s, "hello", 5, &d, NULL, &e), 0, "put again: present");
	is_int(store_open_blob(s, &d, &fd, &size, &e), 0, "open blob");
	char tmp[8] = { 0 };
	ok(fd >= 0 && read(fd, tmp, sizeof(tmp)) == 5 && !memcmp(tmp, "hello", 5), "blob readable by fd");
	if (fd >= 0)
		close(fd);

	sha256_digest("other", 5, &bad);
	is_int(store_put(s, "hello!", 6, &bad, NULL, &e), -EBADMSG, "put with wrong digest refused");
	is_int(store_has(s, &bad, NULL, &e), 0, "nothing visible");
	is_int(store_open_blob(s, &bad, &fd, &size, &e), -ENOENT, "open absent blob: -ENOENT");
	buf_reset(&b);
	is_int(store_read_blob(s, &bad, 100, &b, &e), -ENOENT, "read absent blob: -ENOENT");

	/* corruption on disk is detected by read_blob */
	struct digest c;
	store_put(s, "corrupt-me", 10, NULL, &c, &e);
	buf_reset(&p);
	store_blob_path(s, &c, &p);
	chmod(buf_str(&p), 0644);
	fs_write_atomic(buf_str(&p), "corrupt-ME", 10, 0444, &e);
	buf_reset(&b);
	is_int(store_read_blob(s, &c, 100, &b, &e), -EBADMSG, "corrupt blob detected on read");
	ok(strstr(e.msg, "corrupt") != NULL, "message: %s", e.msg);

	/* the verifying reader: good blob reads through, corrupt one fails at the end */
	struct store_reader sr;
	char rb[64];
	ssize_t got, total = 0;
	is_int(store_reader_open(s, &d, &sr, &e), 0, "reader over hello");
	while ((got = reader_read(&sr.dr.r, rb, sizeof(rb), &e)) > 0)
		total += got;
	ok(got == 0 && total == 5, "hello read to the end, verified");
	store_reader_close(&sr);
	is_int(store_reader_open(s, &c, &sr, &e), 0, "reader over the corrupt blob");
	while ((got = reader_read(&sr.dr.r, rb, sizeof(rb), &e)) > 0)
		;
	is_int(got, -EBADMSG, "corrupt blob fails the verifying reader");
	store_reader_close(&sr);
	is_int(store_reader_open(s, &bad, &sr, &e), -ENOENT, "reader over an absent blob: -ENOENT");
	store_reader_close(&sr);
}

static void test_writer(struct store *s)
{
	struct err e = ERR_INIT;
	struct store_writer *w = NULL;
	unsigned char data[100000];
	struct digest d, wrong;
	_cleanup_buf_ struct buf ip = BUF_INIT;

	fill(data, sizeof(data), 1);
	sha256_digest(data, sizeof(data), &d);
	ingest_path(&d, &ip);

	is_int(store_writer_open(s, &d, -1, 0, &w, &e), -EINVAL, "negative size refused");
	is_int(store_writer_open(s, &d, sizeof(data), 0, &w, &e), 0, "open writer");
	if (!ok(w != NULL, "writer returned"))
		return;
	is_int(store_writer_offset(w), 0, "fresh: offset 0");
	is_int(store_writer_write(w, data, 40000, &e), 0, "write 40000");
	is_int(store_writer_write(w, data + 40000, 60001, &e), -EFBIG, "write past size refused");
	is_int(store_writer_offset(w), 40000, "nothing written by the refused write");
	is_int(store_writer_commit(w, &e), -EPROTO, "commit of a short blob: -EPROTO");
	is_int(store_has(s, &d, NULL, &e), 0, "short blob not visible");
	is_int(file_size(buf_str(&ip)), 40000, "partial data kept in ingest");

	is_int(store_writer_open(s, &d, sizeof(data), 0, &w, &e), 0, "reopen");
	is_int(w ? store_writer_offset(w) : -1, 40000, "resume offset 40000");
	is_int(store_writer_write(w, data + 40000, 60000, &e), 0, "write the rest");
	is_int(store_writer_commit(w, &e), 0, "commit after resume");
	is_int(store_has(s, &d, NULL, &e), 1, "resumed blob present");
	is_int(file_size(buf_str(&ip)), -1, "ingest file gone");
	_cleanup_buf_ struct buf b = BUF_INIT;
	ok(store_read_blob(s, &d, sizeof(data), &b, &e) == 0 && b.len == sizeof(data) &&
	   !memcmp(b.data, data, sizeof(data)), "resumed blob content intact");
	is_int(store_writer_open(s, &d, sizeof(data), 0, &w, &e), 0, "open a present blob");
	ok(w == NULL, "... gives no writer");

	/* digest mismatch: ingest deleted, nothing visible */
	sha256_digest("not this", 8, &wrong);
	ingest_path(&wrong, &ip);
	store_writer_open(s, &wrong, 1000, 0, &w, &e);
	store_writer_write(w, data, 1000, &e);
	is_int(store_writer_commit(w, &e), -EBADMSG, "digest mismatch at commit");
	ok(strstr(e.msg, "digest mismatch") && strstr(e.msg, wrong.s), "message: %.100s", e.msg);
	is_int(store_has(s, &wrong, NULL, &e), 0, "mismatched blob not visible");
	is_int(file_size(buf_str(&ip)), -1, "mismatched ingest deleted");

	/* an ingest file longer than the blob is discarded */
	fill(data, 5000, 2);
	sha256_digest(data, 5000, &d);
	ingest_path(&d, &ip);
	fs_write_atomic(buf_str(&ip), data, 5000, 0644, &e);
	store_writer_open(s, &d, 4000, 0, &w, &e);
	is_int(w ? store_writer_offset(w) : -1, 0, "over-long ingest restarted from 0");
	store_writer_close(w);

	/* partial ingest whose prefix is wrong: caught by the digest at commit */
	fs_write_atomic(buf_str(&ip), "garbage", 7, 0644, &e);
	store_writer_open(s, &d, 5000, 0, &w, &e);
	is_int(w ? store_writer_offset(w) : -1, 7, "garbage prefix resumed from");
	store_writer_write(w, data + 7, 4993, &e);
	is_int(store_writer_commit(w, &e), -EBADMSG, "... and refused at commit");
	store_writer_open(s, &d, 5000, 0, &w, &e);
	is_int(w ? store_writer_offset(w) : -1, 0, "next attempt starts clean");
	is_int(store_writer_reset(w, &e), 0, "reset");
	store_writer_write(w, data, 5000, &e);
	is_int(store_writer_commit(w, &e), 0, "clean write commits");
}

static void test_copy(struct store *s)
{
	struct err e = ERR_INIT;
	struct store_writer *w = NULL;
	unsigned char data[70000 + 1];   /* one spare byte: "a body one byte too long" */
	struct digest d;
	struct mem_reader mr;
	struct endless en = { { endless_read, NULL }, 0 };

	const size_t n = sizeof(data) - 1;

	fill(data, sizeof(data), 3);
	sha256_digest(data, n, &d);

	store_writer_open(s, &d, n, 0, &w, &e);
	mem_reader_init(&mr, data, sizeof(data));
	is_int(store_writer_copy(w, &mr.r, &e), -EFBIG, "body one byte longer: -EFBIG");
	is_int(store_writer_commit(w, &e), 0, "the declared bytes still verify");

	fill(data, n, 4);
	sha256_digest(data, n, &d);
	store_writer_open(s, &d, n, 0, &w, &e);
	is_int(store_writer_copy(w, &en.r, &e), -EFBIG, "endless body: -EFBIG");
	ok(en.given <= n + 1, "endless body read only to size+1 (%llu)", en.given);
	store_writer_close(w);

	store_writer_open(s, &d, n, 0, &w, &e);
	ok(w && store_writer_offset(w) == n, "endless body: ingest holds the declared size");
	is_int(store_writer_commit(w, &e), -EBADMSG, "x-filled body fails the digest");

	store_writer_open(s, &d, n, 0, &w, &e);
	mem_reader_init(&mr, data, 1000);
	is_int(store_writer_copy(w, &mr.r, &e), 0, "short body copies");
	is_int(store_writer_commit(w, &e), -EPROTO, "short body: -EPROTO at commit");
	store_writer_open(s, &d, n, 0, &w, &e);
	mem_reader_init(&mr, data + 1000, n - 1000);
	ok(w && store_writer_offset(w) == 1000, "resume after short body at 1000");
	is_int(store_writer_copy(w, &mr.r, &e), 0, "copy the rest");
	is_int(store_writer_commit(w, &e), 0, "commit");

	store_writer_open(s, &d, 0, 0, &w, &e);
	ok(w == NULL, "present blob, even with another size: no writer");
	struct digest empty;
	sha256_digest("", 0, &empty);
	is_int(store_put(s, "", 0, NULL, NULL, &e), 0, "empty blob");
	is_int(store_has(s, &empty, NULL, &e), 1, "empty blob present");
}

static int wait_readable(int fd, int ms)
{
	struct pollfd p = { fd, POLLIN, 0 };
	return poll(&p, 1, ms) == 1;
}

static int child_status(pid_t pid)
{
	int st = 0;
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void test_concurrency(struct store *s)
{
	struct err e = ERR_INIT;
	struct store_writer *w = NULL;
	unsigned char data[256 * 1024];
	struct digest d;
	int pfd[2];
	pid_t pid;

	fill(data, sizeof(data), 5);
	sha256_digest(data, sizeof(data), &d);
	is_int(store_writer_open(s, &d, sizeof(data), 0, &w, &e), 0, "parent holds the writer");

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		struct store_writer *w2 = NULL;
		struct err e2 = ERR_INIT;
		int rc = store_writer_open(s, &d, sizeof(data), STORE_NOWAIT, &w2, &e2);
		_exit(rc == -EBUSY ? 0 : 1);
	}
	is_int(child_status(pid), 0, "second writer with STORE_NOWAIT: -EBUSY (other process)");
	struct store_writer *w3 = NULL;
	is_int(store_writer_open(s, &d, sizeof(data), STORE_NOWAIT, &w3, &e), -EBUSY,
	       "second writer in the same process: -EBUSY");

	/* The waiting writer is forked before the parent takes the lock: a
	 * child forked while a lock is held shares the locked open file. */
	store_writer_close(w);
	int go[2];
	if (pipe(pfd) < 0 || pipe(go) < 0)
		return;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		struct store_writer *w2 = NULL;
		struct err e2 = ERR_INIT;
		char g;
		close(go[1]);
		if (read(go[0], &g, 1) != 1)
			_exit(2);
		int rc = store_writer_open(s, &d, sizeof(data), 0, &w2, &e2);
		char c = (rc == 0 && w2 == NULL) ? 'y' : 'n';
		if (write(pfd[1], &c, 1) != 1)
			_exit(2);
		_exit(0);
	}
	close(go[0]);
	is_int(store_writer_open(s, &d, sizeof(data), 0, &w, &e), 0, "parent takes the writer again");
	if (write(go[1], "g", 1) != 1)
		diag("cannot start child");
	close(go[1]);
	close(pfd[1]);
	ok(!wait_readable(pfd[0], 300), "waiting writer blocks while the first one writes");
	store_writer_write(w, data, sizeof(data), &e);
	is_int(store_writer_commit(w, &e), 0, "first writer commits");
	char c = 0;
	ok(wait_readable(pfd[0], 10000) && read(pfd[0], &c, 1) == 1 && c == 'y',
	   "waiting writer wakes and finds the blob present");
	close(pfd[0]);
	is_int(child_status(pid), 0, "waiting writer exits cleanly");

	/* four processes race to put the same blob */
	fill(data, sizeof(data), 6);
	sha256_digest(data, sizeof(data), &d);
	pid_t kids[4];
	fflush(stdout);
	for (int i = 0; i < 4; i++) {
		kids[i] = fork();
		if (kids[i] == 0) {
			struct err e2 = ERR_INIT;
			struct store *s2 = NULL;
			if (store_open(root, &s2, &e2) < 0)
				_exit(3);
			int rc = store_put(s2, data, sizeof(data), &d, NULL, &e2);
			store_close(s2);
			_exit(rc == 0 ? 0 : 1);
		}
	}
	int all = 1;
	for (int i = 0; i < 4; i++)
		all &= child_status(kids[i]) == 0;
	ok(all, "four racing writers all succeed");
	_cleanup_buf_ struct buf b = BUF_INIT;
	ok(store_read_blob(s, &d, sizeof(data), &b, &e) == 0 && !memcmp(b.data, data, sizeof(data)),
	   "the raced blob is intact");
	_cleanup_buf_ struct buf lp = BUF_INIT;
	buf_printf(&lp, "%s/content/ingest/%s.lock", root, digest_hex(&d));
	is_int(file_size(buf_str(&lp)), -1, "no lock file left behind");
}

/* Kill a writer at a random moment, many times: the blob is either absent
 * or complete and correct, never partial. */
static void test_crash(struct store *s)
{
	struct err e = ERR_INIT;
	static unsigned char data[1 << 20];
	struct digest d;
	_cleanup_buf_ struct buf ip = BUF_INIT;
	int pfd[2];
	pid_t pid;

	fill(data, sizeof(data), 7);
	sha256_digest(data, sizeof(data), &d);
	ingest_path(&d, &ip);

	/* killed after writing half: nothing visible, half resumable */
	if (pipe(pfd) < 0)
		return;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		struct store_writer *w = NULL;
		struct err e2 = ERR_INIT;
		store_writer_open(s, &d, sizeof(data), 0, &w, &e2);
		store_writer_write(w, data, sizeof(data) / 2, &e2);
		if (write(pfd[1], "h", 1) != 1)
			_exit(2);
		pause();
		_exit(0);
	}
	close(pfd[1]);
	char c;
	ok(read(pfd[0], &c, 1) == 1, "child wrote half");
	close(pfd[0]);
	kill(pid, SIGKILL);
	is_int(child_status(pid), 128 + SIGKILL, "child killed");
	is_int(store_has(s, &d, NULL, &e), 0, "killed write: blob not visible");
	is_int(file_size(buf_str(&ip)), (long long)sizeof(data) / 2, "half in ingest");
	struct store_writer *w = NULL;
	is_int(store_writer_open(s, &d, sizeof(data), STORE_NOWAIT, &w, &e), 0,
	       "dead writer's lock is free");
	is_int(w ? store_writer_offset(w) : -1, (long long)sizeof(data) / 2, "resume from the half");
	store_writer_write(w, data + sizeof(data) / 2, sizeof(data) / 2, &e);
	is_int(store_writer_commit(w, &e), 0, "resumed write commits");

	/* random kill points through write + commit */
	/* Time one whole write so the kills spread over write, fsync and
	 * rename, not only the start. */
	int bad = 0, visible = 0;
	long span_us;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	fill(data, sizeof(data), 99);
	store_put(s, data, sizeof(data), NULL, NULL, &e);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	span_us = (t1.tv_sec - t0.tv_sec) * 1000000L + (t1.tv_nsec - t0.tv_nsec) / 1000;
	span_us = span_us * 3 / 2 + 1000;
	srand((unsigned)time(NULL));
	for (int round = 0; round < 25; round++) {
		fill(data, sizeof(data), 100 + (unsigned)round);
		sha256_digest(data, sizeof(data), &d);
		fflush(stdout);
		pid = fork();
		if (pid == 0) {
			struct err e2 = ERR_INIT;
			struct store_writer *w2 = NULL;
			store_writer_open(s, &d, sizeof(data), 0, &w2, &e2);
			for (size_t off = 0; w2 && off < sizeof(data); off += 4096)
				store_writer_write(w2, data + off, 4096, &e2);
			store_writer_commit(w2, &e2);
			_exit(0);
		}
		long us = rand() % span_us;
		struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };
		nanosleep(&ts, NULL);
		kill(pid, SIGKILL);
		child_status(pid);
		int has = store_has(s, &d, NULL, &e);
		if (has == 1) {
			_cleanup_buf_ struct buf b = BUF_INIT;
			visible++;
			if (store_read_blob(s, &d, sizeof(data), &b, &e) < 0 || b.len != sizeof(data))
				bad++;
		} else if (has != 0) {
			bad++;
		}
		/* whatever was left is resumable into the right blob */
		w = NULL;
		store_writer_open(s, &d, sizeof(data), 0, &w, &e);
		if (w) {
			long long off = store_writer_offset(w);
			store_writer_write(w, data + off, sizeof(data) - (size_t)off, &e);
			if (store_writer_commit(w, &e) < 0)
				bad++;
		}
		if (store_has(s, &d, NULL, &e) != 1)
			bad++;
	}
	is_int(bad, 0, "25 random kills: never a partial or wrong blob (%d finished before the kill)",
	       visible);
}

/* ---- GC ---- */

static void put_str(struct store *s, const char *str, struct digest *d)
{
	store_put(s, str, strlen(str), NULL, d, NULL);
}

static void make_manifest(struct store *s, const struct digest *cfg, const struct digest *layers,
			  size_t n, struct digest *out)
{
	_cleanup_buf_ struct buf b = BUF_INIT;
	buf_printf(&b, "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":{\"mediaType\":\"%s\","
		   "\"digest\":\"%s\",\"size\":10},\"layers\":[", MT_OCI_MANIFEST, MT_OCI_CONFIG, cfg->s);
	for (size_t i = 0; i < n; i++)
		buf_printf(&b, "%s{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":10}", i ? "," : "",
			   MT_OCI_LAYER_GZIP, layers[i].s);
	buf_puts(&b, "]}");
	put_str(s, buf_str(&b), out);
}

static void make_index(struct store *s, const struct digest *kids, size_t n, struct digest *out)
{
	_cleanup_buf_ struct buf b = BUF_INIT;
	buf_printf(&b, "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"manifests\":[", MT_OCI_INDEX);
	for (size_t i = 0; i < n; i++)
		buf_printf(&b, "%s{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":10,"
			   "\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}}",
			   i ? "," : "", MT_OCI_MANIFEST, kids[i].s);
	buf_puts(&b, "]}");
	put_str(s, buf_str(&b), out);
}

static int has(struct store *s, const struct digest *d)
{
	return store_has(s, d, NULL, NULL) == 1;
}

static void test_gc(void)
{
	struct err e = ERR_INIT;
	struct store *s = NULL;
	struct store_gc_result r;
	struct digest c1, c2, l[4], m1, m2, m3_absent, idx, loose, notman, roots[3];

	make_root("gc");
	store_open(root, &s, &e);
	put_str(s, "config one", &c1);
	put_str(s, "config two", &c2);
	put_str(s, "layer 0", &l[0]);
	put_str(s, "layer 1 shared", &l[1]);
	put_str(s, "layer 2", &l[2]);
	put_str(s, "loose blob", &loose);
	put_str(s, "{\"not\":\"a manifest\"}", &notman);
	make_manifest(s, &c1, l, 2, &m1);                 /* c1, l0, l1 */
	struct digest l12[2] = { l[1], l[2] };
	make_manifest(s, &c2, l12, 2, &m2);               /* c2, l1, l2 */
	sha256_digest("absent manifest", 15, &m3_absent);
	struct digest kids[3] = { m2, m3_absent, m2 };
	make_index(s, kids, 3, &idx);

	roots[0] = m1;
	roots[1] = idx;
	roots[2] = notman;
	is_int(store_gc(s, roots, 3, -1, &r, &e), 0, "gc with both images as roots");
	is_int(r.removed, 1, "only the loose blob removed");
	ok(!has(s, &loose) && has(s, &m1) && has(s, &c1) && has(s, &l[0]) && has(s, &idx) &&
	   has(s, &m2) && has(s, &c2) && has(s, &l[1]) && has(s, &l[2]) && has(s, &notman),
	   "everything referenced kept (index children, configs, layers, non-manifest root)");
	ok(r.bytes_freed == strlen("loose blob"), "bytes freed counted");

	is_int(store_gc(s, roots, 1, -1, &r, &e), 0, "gc with only the first image");
	ok(has(s, &m1) && has(s, &c1) && has(s, &l[0]) && has(s, &l[1]), "first image intact");
	ok(!has(s, &idx) && !has(s, &m2) && !has(s, &c2) && !has(s, &l[2]) && !has(s, &notman),
	   "second image's own blobs removed, shared layer kept");

	/* GC refuses while a writer or a lease is active */
	struct store_writer *w = NULL;
	struct digest x;
	sha256_digest("pending", 7, &x);
	store_writer_open(s, &x, 7, 0, &w, &e);
	is_int(store_gc(s, roots, 1, -1, &r, &e), -EBUSY, "gc while a writer is active: -EBUSY");
	store_writer_close(w);
	is_int(store_lease(s, &e), 0, "take a lease");
	is_int(store_gc(s, roots, 1, -1, &r, &e), -EBUSY, "gc while holding a lease: -EBUSY");
	store_unlease(s);
	int pfd[2];
	if (pipe(pfd) == 0) {
		fflush(stdout);
		pid_t pid = fork();
		if (pid == 0) {
			struct store *s2 = NULL;
			store_open(root, &s2, NULL);
			store_lease(s2, NULL);
			if (write(pfd[1], "l", 1) != 1)
				_exit(2);
			pause();
			_exit(0);
		}
		char c;
		if (read(pfd[0], &c, 1) != 1)
			diag("child did not report");
		is_int(store_gc(s, roots, 1, -1, &r, &e), -EBUSY, "gc while another process leases: -EBUSY");
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		close(pfd[0]);
		close(pfd[1]);
	}
	is_int(store_gc(s, roots, 1, -1, &r, &e), 0, "gc works after the lease ends");

	/* ingest sweep: old abandoned partials go, fresh ones stay */
	_cleanup_buf_ struct buf ip = BUF_INIT, ip2 = BUF_INIT;
	struct digest y;
	sha256_digest("old partial", 11, &y);
	ingest_path(&x, &ip);
	ingest_path(&y, &ip2);
	fs_write_atomic(buf_str(&ip2), "old", 3, 0644, &e);
	struct timeval old[2] = { { time(NULL) - 7200, 0 }, { time(NULL) - 7200, 0 } };
	utimes(buf_str(&ip2), old);
	ok(file_size(buf_str(&ip)) == 0 && file_size(buf_str(&ip2)) == 3, "two ingest files");
	is_int(store_gc(s, roots, 1, -1, &r, &e), 0, "gc keeping ingest");
	ok(file_size(buf_str(&ip2)) == 3, "ingest kept with max age -1");
	is_int(store_gc(s, roots, 1, 3600, &r, &e), 0, "gc with ingest max age 1h");
	is_int(r.ingest_removed, 1, "one old ingest removed");
	ok(file_size(buf_str(&ip2)) == -1 && file_size(buf_str(&ip)) == 0, "old gone, fresh kept");

	/* a corrupt root is kept (never delete what cannot be read) and
	 * its references are not trusted */
	_cleanup_buf_ struct buf p = BUF_INIT;
	store_blob_path(s, &m1, &p);
	chmod(buf_str(&p), 0644);
	fs_write_atomic(buf_str(&p), "{}", 2, 0444, &e);
	is_int(store_gc(s, roots, 1, -1, &r, &e), 0, "gc with a corrupt root");
	ok(has(s, &m1) && !has(s, &c1), "corrupt root kept, its old references not");

	/* index -> index -> manifest, and an artifact child of another kind */
	struct digest c3, l3, m4, inner, outer, art;
	put_str(s, "config three", &c3);
	put_str(s, "layer three", &l3);
	put_str(s, "an artifact", &art);
	make_manifest(s, &c3, &l3, 1, &m4);
	make_index(s, &m4, 1, &inner);
	{
		_cleanup_buf_ struct buf ib = BUF_INIT;
		buf_printf(&ib, "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"%s\","
			   "\"digest\":\"%s\",\"size\":10},{\"mediaType\":\"application/vnd.example+json\","
			   "\"digest\":\"%s\",\"size\":11}]}", MT_OCI_INDEX, inner.s, art.s);
		put_str(s, buf_str(&ib), &outer);
	}
	is_int(store_gc(s, &outer, 1, -1, &r, &e), 0, "gc from a nested index");
	ok(has(s, &outer) && has(s, &inner) && has(s, &m4) && has(s, &c3) && has(s, &l3) && has(s, &art),
	   "nested index keeps its grandchildren and its artifact child");
	ok(!has(s, &m1), "the rest removed");

	is_int(store_gc(s, NULL, 0, -1, &r, &e), 0, "gc with no roots");
	is_int(r.kept, 0, "store empty");
	store_close(s);
	rm_rf(root);
}

int main(void)
{
	struct err e = ERR_INIT;
	struct store *s = NULL;

	make_root("main");
	if (!ok(store_open(root, &s, &e) == 0, "open store under %s", root)) {
		diag("%s", e.msg);
		return done_testing();
	}
	test_basic(s);
	test_writer(s);
	test_copy(s);
	test_concurrency(s);
	test_crash(s);
	store_close(s);
	rm_rf(root);
	test_gc();
	return done_testing();
}
