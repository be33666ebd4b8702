/* Tests of oci/images.c: tag/untag/resolve, atomic saves under concurrent
 * writers (fork), and quarantine of a damaged index. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "oci/images.h"
#include "oci/manifest.h"
#include "t/tap.h"

static char root[4096];

static void rm_rf(const char *dir)
{
	pid_t pid = fork();
	if (pid == 0) {
		execlp("rm", "rm", "-rf", dir, (char *)NULL);
		_exit(127);
	}
	waitpid(pid, NULL, 0);
}

static void dg(const char *hexchar, const char *tail, struct digest *d)
{
	_cleanup_buf_ struct buf b = BUF_INIT;
	buf_puts(&b, "sha256:");
	while (b.len < 7 + 64 - strlen(tail))
		buf_puts(&b, hexchar);
	buf_puts(&b, tail);
	if (digest_parse(buf_str(&b), d, NULL) < 0)
		abort();
}

static int count_corrupt(void)
{
	DIR *d = opendir(root);
	struct dirent *de;
	int n = 0;
	if (!d)
		return -1;
	while ((de = readdir(d)))
		n += strncmp(de->d_name, "images.json.corrupt-", 20) == 0;
	closedir(d);
	return n;
}

static void remove_corrupt(void)
{
	DIR *d = opendir(root);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		if (strncmp(de->d_name, "images.json.corrupt-", 20) == 0) {
			_cleanup_buf_ struct buf p = BUF_INIT;
			buf_printf(&p, "%s/%s", root, de->d_name);
			unlink(buf_str(&p));
		}
	}
	if (d)
		closedir(d);
}

static const char *index_path(void)
{
	static char p[4200];
	snprintf(p, sizeof(p), "%s/images.json", root);
	return p;
}

static void test_basic(void)
{
	struct err e = ERR_INIT;
	struct images *im = NULL;
	const struct images_entry *en = NULL;
	struct digest a, b, c;

	dg("a", "1", &a);
	dg("a", "2", &b);
	dg("c", "3", &c);
	is_int(images_open(root, IMAGES_WRITE, &im, &e), 0, "open for writing (no file yet)");
	is_int(images_count(im), 0, "empty");
	is_int(images_tag(im, "alpine", MT_OCI_INDEX, &a, 9218, 1700000000, &e), 0, "tag alpine");
	is_int(images_tag(im, "user/app:1", MT_DOCKER_MANIFEST, &b, 528, 0, &e), 0, "tag user/app:1");
	is_int(images_tag(im, "ghcr.io/o/r:t", MT_OCI_MANIFEST, &c, 100, 0, &e), 0, "tag ghcr.io/o/r:t");
	_cleanup_buf_ struct buf byd = BUF_INIT;
	buf_printf(&byd, "localhost:5000/x@%s", c.s);
	is_int(images_tag(im, buf_str(&byd), MT_OCI_MANIFEST, &c, 100, 0, &e), 0, "tag by digest");
	is_int(images_tag(im, "Bad/Name", MT_OCI_MANIFEST, &c, 100, 0, &e), -EINVAL, "invalid name refused");
	is_int(images_tag(im, "x", MT_OCI_CONFIG, &c, 100, 0, &e), -EINVAL, "config media type refused");
	is_int(images_tag(im, "x", MT_OCI_MANIFEST, &c, -1, 0, &e), -EINVAL, "negative size refused");
	is_int(images_tag(im, "docker.io/library/alpine:latest", MT_OCI_INDEX, &a, 9218, 1700000000, &e),
	       0, "retag same name");
	is_int(images_count(im), 4, "four names");
	is_str(images_at(im, 0)->name, "docker.io/library/alpine:latest", "sorted, normalized");
	ok(images_at(im, 4) == NULL, "images_at past the end is NULL");
	is_int(images_save(im, &e), 0, "save");
	images_close(im);

	_cleanup_buf_ struct buf f = BUF_INIT;
	fs_read_file(index_path(), &f, 1 << 20, &e);
	ok(strstr(buf_str(&f), "\"version\": 1") && strstr(buf_str(&f), a.s) &&
	   strstr(buf_str(&f), "2023-11-14T22:13:20Z"), "file holds version, digest, RFC 3339 time");

	is_int(images_open(root, 0, &im, &e), 0, "open read-only");
	is_int(images_count(im), 4, "four names read back");
	ok(images_at(im, 0)->created == 1700000000 && images_at(im, 0)->size == 9218 &&
	   !strcmp(images_at(im, 0)->media_type, MT_OCI_INDEX), "entry read back intact");
	is_int(images_tag(im, "x", MT_OCI_MANIFEST, &a, 1, 0, &e), -EPERM, "tag on read-only: -EPERM");
	is_int(images_save(im, &e), -EPERM, "save on read-only: -EPERM");

	ok(images_resolve(im, "alpine", &en, &e) == 0 && !strcmp(en->digest.s, a.s), "resolve alpine");
	ok(images_resolve(im, "docker.io/library/alpine", &en, &e) == 0, "resolve full name");
	ok(images_resolve(im, "user/app:1", &en, &e) == 0 && !strcmp(en->digest.s, b.s), "resolve user/app:1");
	is_int(images_resolve(im, "user/app", &en, &e), -ENOENT, "user/app (:latest) not there");
	ok(images_resolve(im, c.s, &en, &e) == 0 && !strcmp(en->digest.s, c.s), "resolve by full digest");
	ok(images_resolve(im, "ccccccccccccc", &en, &e) == 0 && !strcmp(en->digest.s, c.s), "resolve by short id");
	ok(images_resolve(im, "sha256:cccc", &en, &e) == 0, "resolve by sha256: prefix");
	ok(images_resolve(im, digest_hex(&c), &en, &e) == 0, "resolve by 64-hex id");
	is_int(images_resolve(im, "aaaa", &en, &e), -EINVAL, "ambiguous prefix: -EINVAL");
	ok(strstr(e.msg, "ambiguous") != NULL, "message: %s", e.msg);
	ok(images_resolve(im, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa2", &en, &e) == 0 &&
	   !strcmp(en->digest.s, b.s), "long prefix is unique");
	is_int(images_resolve(im, "nothere", &en, &e), -ENOENT, "unknown name: -ENOENT");
	ok(strstr(e.msg, "no such image") != NULL, "message: %s", e.msg);
	is_int(images_resolve(im, "Bad\x1b[1m", &en, &e), -ENOENT, "garbage query: -ENOENT");
	ok(!strchr(e.msg, '\x1b'), "no control characters in the message");
	_cleanup_buf_ struct buf q = BUF_INIT;
	buf_printf(&q, "alpine@%s", a.s);
	ok(images_resolve(im, buf_str(&q), &en, &e) == 0 && !strcmp(en->name, "docker.io/library/alpine:latest"),
	   "name@digest finds the tag pointing there");
	buf_reset(&q);
	buf_printf(&q, "busybox@%s", a.s);
	is_int(images_resolve(im, buf_str(&q), &en, &e), -ENOENT, "name@digest of another repository: -ENOENT");

	struct digest *roots = NULL;
	size_t n = 0;
	is_int(images_roots(im, &roots, &n, &e), 0, "roots");
	is_int(n, 3, "three distinct digests");
	free(roots);
	images_close(im);

	is_int(images_open(root, IMAGES_WRITE, &im, &e), 0, "open for writing");
	is_int(images_untag(im, "nothere", &e), -ENOENT, "untag absent: -ENOENT");
	is_int(images_untag(im, "user/app:1", &e), 0, "untag user/app:1");
	is_int(images_untag_digest(im, &c, &e), 2, "untag by digest removes two names");
	is_int(images_count(im), 1, "one left");
	images_close(im);
	is_int(images_open(root, 0, &im, &e), 0, "reopen");
	is_int(images_count(im), 4, "unsaved changes were dropped");
	images_close(im);
}

static void quarantine_case(const char *content, const char *what)
{
	struct err e = ERR_INIT;
	struct images *im = NULL;
	_cleanup_buf_ struct buf f = BUF_INIT;

	remove_corrupt();
	fs_write_atomic(index_path(), content, strlen(content), 0644, &e);
	int rc = images_open(root, 0, &im, &e);
	ok(rc == 0 && im && images_count(im) == 0 && images_quarantined(im),
	   "%s: quarantined, empty index", what);
	if (rc < 0)
		diag("  %s", e.msg);
	is_int(count_corrupt(), 1, "%s: one quarantined file", what);
	ok(im && images_quarantined(im) && fs_read_file(images_quarantined(im), &f, 1 << 20, &e) == 0 &&
	   !strcmp(buf_str(&f), content), "%s: quarantined file keeps the content", what);
	ok(access(index_path(), F_OK) < 0, "%s: images.json moved away", what);
	images_close(im);
}

static void test_quarantine(void)
{
	struct err e = ERR_INIT;
	struct images *im = NULL;
	struct digest *roots = NULL;
	size_t n = 0;

	/* warnings of this test are expected: keep them out of the TAP stream */
	struct log_config lc = { "test", LOG_ERROR, -1, 0 };
	log_init(&lc);
	quarantine_case("{ this is not json", "garbage");
	quarantine_case("[]", "not an object");
	quarantine_case("{\"version\": 2, \"images\": {}}", "unknown version");
	quarantine_case("{\"version\": 1, \"images\": {\"alpine\": {\"mediaType\": \""
			MT_OCI_MANIFEST "\", \"digest\": \"sha256:" "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
			"\", \"size\": 1, \"created\": \"2024-01-01T00:00:00Z\"}}}", "non-normalized name");
	quarantine_case("{\"version\": 1, \"images\": {\"docker.io/library/a:latest\": {\"mediaType\": \""
			MT_OCI_MANIFEST "\", \"digest\": \"sha256:../../x\", \"size\": 1, "
			"\"created\": \"2024-01-01T00:00:00Z\"}}}", "bad digest");
	quarantine_case("", "empty file");

	is_int(images_open(root, IMAGES_WRITE, &im, &e), 0, "open after quarantine");
	is_int(images_roots(im, &roots, &n, &e), -EIO, "roots refused while a quarantined file exists");
	ok(strstr(e.msg, "images.json.corrupt-") != NULL, "message names it: %.120s", e.msg);
	images_close(im);
	remove_corrupt();
	is_int(images_open(root, 0, &im, &e), 0, "open after the quarantined file is gone");
	is_int(images_roots(im, &roots, &n, &e), 0, "roots allowed again");
	free(roots);
	images_close(im);
}

static void test_concurrency(void)
{
	struct err e = ERR_INIT;
	struct images *im = NULL;
	pid_t kids[3];

	unlink(index_path());
	fflush(stdout);
	for (int k = 0; k < 3; k++) {
		kids[k] = fork();
		if (kids[k] == 0) {
			int bad = 0;
			for (int i = 0; i < 30; i++) {
				struct images *w = NULL;
				struct err e2 = ERR_INIT;
				if (k == 2) {   /* a reader: must never see a damaged file */
					if (images_open(root, 0, &w, &e2) < 0 || images_quarantined(w))
						bad++;
					images_close(w);
					continue;
				}
				char name[64];
				struct digest d;
				snprintf(name, sizeof(name), "w%d/img:%d", k, i);
				sha256_digest(name, strlen(name), &d);
				if (images_open(root, IMAGES_WRITE, &w, &e2) < 0 ||
				    images_tag(w, name, MT_OCI_MANIFEST, &d, 10, 0, &e2) < 0 ||
				    images_save(w, &e2) < 0)
					bad++;
				images_close(w);
			}
			_exit(bad ? 1 : 0);
		}
	}
	int all = 1;
	for (int k = 0; k < 3; k++) {
		int st = 0;
		waitpid(kids[k], &st, 0);
		all &= WIFEXITED(st) && WEXITSTATUS(st) == 0;
	}
	ok(all, "two writers and a reader, 30 rounds each, no errors");
	is_int(images_open(root, 0, &im, &e), 0, "open after the race");
	is_int(im ? images_count(im) : 0, 60, "no update lost: 60 names");
	images_close(im);
	is_int(count_corrupt(), 0, "nothing quarantined");
}

int main(void)
{
	const char *tmp = getenv("TMPDIR");
	snprintf(root, sizeof(root), "%s/oci_images_XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(root))
		return 1;
	test_basic();
	test_quarantine();
	test_concurrency();
	rm_rf(root);
	return done_testing();
}
