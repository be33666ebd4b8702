/* Tests of oci/layout.c: the tar writer (read back by our reader, PAX for
 * long names), load of OCI layouts and docker-save archives built here,
 * save -> load round trip, and hostile archives: each must fail with a
 * clear error and leave the store, the images index and the staging area
 * exactly as they were. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/mem.h"
#include "lib/stream.h"
#include "oci/images.h"
#include "oci/layout.h"
#include "oci/manifest.h"
#include "oci/tar.h"
#include "t/tap.h"

static char base[4096];
static int counter;

static void rm_rf(const char *d)
{
	pid_t pid = fork();
	if (pid == 0) {
		execlp("rm", "rm", "-rf", d, (char *)NULL);
		_exit(127);
	}
	waitpid(pid, NULL, 0);
}

static int count_dir(const char *root, const char *sub)
{
	_cleanup_buf_ struct buf p = BUF_INIT;
	struct dirent *de;
	DIR *d;
	int n = 0;

	buf_printf(&p, "%s/%s", root, sub);
	if (!(d = opendir(buf_str(&p))))
		return 0;
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

/* ---- archive building ---- */

struct arc {
	struct buf b; /* the archive in memory */
	int fd;
	char path[4200];
	struct tarw t;
};

static void arc_open(struct arc *a)
{
	snprintf(a->path, sizeof(a->path), "%s/arc%d.tar", base, counter++);
	a->fd = open(a->path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	tarw_init(&a->t, a->fd, 0);
}

static void arc_file(struct arc *a, const char *name, const void *p, size_t n)
{
	tarw_mem(&a->t, name, p, n, NULL);
}

static void arc_text(struct arc *a, const char *name, const char *text)
{
	arc_file(a, name, text, strlen(text));
}

static void arc_blob(struct arc *a, const void *p, size_t n, struct digest *d)
{
	_cleanup_buf_ struct buf name = BUF_INIT;
	sha256_digest(p, n, d);
	buf_printf(&name, "blobs/sha256/%s", digest_hex(d));
	arc_file(a, buf_str(&name), p, n);
}

/* A raw ustar header, for entry kinds our writer does not make. */
static void arc_raw(struct arc *a, const char *name, char type, const char *link)
{
	unsigned char h[512] = { 0 };
	unsigned sum = 0;

	memcpy(h, name, strlen(name));
	memcpy(h + 100, "0000644", 7);
	memcpy(h + 108, "0000000", 7);
	memcpy(h + 116, "0000000", 7);
	memcpy(h + 124, "00000000000", 11);
	memcpy(h + 136, "00000000000", 11);
	memset(h + 148, ' ', 8);
	h[156] = (unsigned char)type;
	if (link)
		memcpy(h + 157, link, strlen(link));
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	for (int i = 0; i < 512; i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06o", sum);
	tarw_data(&a->t, h, 512, NULL);
}

static int arc_load(struct arc *a, int end, const char *root, struct layout_load_result *res,
		    struct err *e)
{
	struct fd_reader fr;
	int rc;

	if (end)
		tarw_end(&a->t, NULL);
	lseek(a->fd, 0, SEEK_SET);
	fd_reader_init(&fr, a->fd);
	memset(res, 0, sizeof(*res));
	rc = layout_load(root, &fr.r, res, e);
	close(a->fd);
	return rc;
}

/* A one-layer image: an uncompressed layer tar, its config, its manifest. */
struct img {
	struct buf layer, config, manifest;
	struct digest dl, dc, dm;
};

static void img_make(struct img *im, const char *content)
{
	struct tarw t;
	int fds[2];
	char tmp[8192];
	ssize_t n;

	memset(im, 0, sizeof(*im));
	/* the layer: a tar with one file, written through a pipe */
	if (pipe(fds) < 0)
		abort();
	tarw_init(&t, fds[1], 0);
	tarw_mem(&t, "hello.txt", content, strlen(content), NULL);
	tarw_end(&t, NULL);
	close(fds[1]);
	while ((n = read(fds[0], tmp, sizeof(tmp))) > 0)
		buf_append(&im->layer, tmp, (size_t)n);
	close(fds[0]);
	sha256_digest(im->layer.data, im->layer.len, &im->dl);
	buf_printf(&im->config, "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Cmd\":[\"/x\"]},"
		   "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"%s\"]}}", im->dl.s);
	sha256_digest(im->config.data, im->config.len, &im->dc);
	buf_printf(&im->manifest, "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":{\"mediaType\":"
		   "\"%s\",\"digest\":\"%s\",\"size\":%zu},\"layers\":[{\"mediaType\":\"%s\","
		   "\"digest\":\"%s\",\"size\":%zu}]}", MT_OCI_MANIFEST, MT_OCI_CONFIG, im->dc.s,
		   im->config.len, MT_OCI_LAYER, im->dl.s, im->layer.len);
	sha256_digest(im->manifest.data, im->manifest.len, &im->dm);
}

static void img_free(struct img *im)
{
	buf_free(&im->layer);
	buf_free(&im->config);
	buf_free(&im->manifest);
}

static void index_json(struct buf *b, const struct img *im, const char *name, long long size_delta)
{
	buf_printf(b, "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"%s\",\"digest\":\"%s\","
		   "\"size\":%lld,\"annotations\":{\"org.opencontainers.image.ref.name\":\"%s\"}}]}",
		   MT_OCI_MANIFEST, im->dm.s, (long long)im->manifest.len + size_delta, name);
}

/* The usual OCI archive, with hooks for breaking it. */
enum breakage { B_NONE, B_NO_LAYER, B_BAD_SIZE, B_WRONG_CONTENT, B_DUP, B_DOTDOT, B_SYMLINK_OUT,
		B_CHR, B_NO_INDEX, B_TRUNCATED, B_BAD_DIFFID };

static int load_oci(const char *root, enum breakage br, struct layout_load_result *res,
		    struct err *e)
{
	_cleanup_buf_ struct buf idx = BUF_INIT;
	struct img im;
	struct arc a;
	struct digest d;
	int rc;

	img_make(&im, br == B_BAD_DIFFID ? "x" : "hello\n");
	if (br == B_BAD_DIFFID) { /* a config naming another layer's diff_id */
		struct img other;
		img_make(&other, "hello\n");
		buf_free(&im.layer);
		im.layer = other.layer;
		other.layer = (struct buf)BUF_INIT;
		img_free(&other);
		/* the manifest still names the old layer: rebuild it for the new bytes */
		sha256_digest(im.layer.data, im.layer.len, &im.dl);
		buf_reset(&im.manifest);
		buf_printf(&im.manifest, "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":{\"mediaType\":"
			   "\"%s\",\"digest\":\"%s\",\"size\":%zu},\"layers\":[{\"mediaType\":\"%s\","
			   "\"digest\":\"%s\",\"size\":%zu},{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%zu}]}",
			   MT_OCI_MANIFEST, MT_OCI_CONFIG, im.dc.s, im.config.len, MT_OCI_LAYER, im.dl.s,
			   im.layer.len, MT_OCI_LAYER, im.dl.s, im.layer.len);
		sha256_digest(im.manifest.data, im.manifest.len, &im.dm);
	}
	arc_open(&a);
	arc_file(&a, "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}", 30);
	if (br == B_DOTDOT)
		arc_file(&a, "blobs/../../evil", "x", 1);
	if (br == B_SYMLINK_OUT)
		arc_raw(&a, "blobs/link", '2', "../../../etc/passwd");
	if (br == B_CHR)
		arc_raw(&a, "dev", '3', NULL);
	if (br != B_NO_LAYER) {
		if (br == B_WRONG_CONTENT) {
			_cleanup_buf_ struct buf name = BUF_INIT;
			buf_printf(&name, "blobs/sha256/%s", digest_hex(&im.dl));
			arc_file(&a, buf_str(&name), "tampered", 8);
		} else {
			arc_blob(&a, im.layer.data, im.layer.len, &d);
		}
	}
	if (br == B_DUP)
		arc_blob(&a, im.layer.data, im.layer.len, &d);
	arc_blob(&a, im.config.data, im.config.len, &d);
	arc_blob(&a, im.manifest.data, im.manifest.len, &d);
	index_json(&idx, &im, "example.com/t/app:1", br == B_BAD_SIZE ? 1 : 0);
	if (br != B_NO_INDEX)
		arc_file(&a, "index.json", idx.data, idx.len);
	if (br == B_TRUNCATED) {
		if (ftruncate(a.fd, (off_t)(a.t.written / 2)) < 0)
			abort();
		lseek(a.fd, 0, SEEK_END);
	}
	rc = arc_load(&a, br != B_TRUNCATED, root, res, e);
	img_free(&im);
	return rc;
}

static void test_tarw(void)
{
	struct arc a;
	struct fd_reader fr;
	struct tar *t;
	struct tar_entry *te;
	struct err e = ERR_INIT;
	char longname[300], data[5];

	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = 0;
	memcpy(longname, "dir/", 4);
	arc_open(&a);
	tarw_dir(&a.t, "dir/", NULL);
	arc_file(&a, longname, "abcde", 5);
	tarw_end(&a.t, NULL);
	ok(a.t.written % 512 == 0, "archive is whole blocks");
	lseek(a.fd, 0, SEEK_SET);
	fd_reader_init(&fr, a.fd);
	t = tar_open(&fr.r, &e);
	is_int(tar_next(t, &te, &e), 1, "our reader reads our writer: dir");
	ok(te->type == TAR_DIR, "a directory");
	is_int(tar_next(t, &te, &e), 1, "a file with a 299-byte name");
	is_str(te->path, longname, "long name through PAX");
	is_int(tar_read(t, data, 5, &e), 5, "its data");
	is_int(tar_next(t, &te, &e), 0, "clean end");
	tar_close(t);
	close(a.fd);
}

static void test_load_ok(void)
{
	_cleanup_buf_ struct buf root = BUF_INIT, root2 = BUF_INIT;
	struct layout_load_result res;
	struct err e = ERR_INIT;
	const char *refs[] = { "example.com/t/app:1" };
	struct images *im;
	char path[4200];
	struct fd_reader fr;
	int fd;

	buf_printf(&root, "%s/ok", base);
	is_int(load_oci(buf_str(&root), B_NONE, &res, &e), 0, "load an OCI layout: %s", e.msg);
	ok(res.n == 1 && res.v[0].name && strcmp(res.v[0].name, "example.com/t/app:1") == 0,
	   "named from org.opencontainers.image.ref.name");
	layout_load_result_free(&res);
	is_int(count_dir(buf_str(&root), "content/blobs/sha256"), 3, "three blobs stored");
	is_int(count_dir(buf_str(&root), "tmp"), 0, "staging area cleaned up");

	/* save it and load the result elsewhere */
	snprintf(path, sizeof(path), "%s/saved.tar", base);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	is_int(layout_save(buf_str(&root), refs, 1, NULL, fd, &e), 0, "save: %s", e.msg);
	lseek(fd, 0, SEEK_SET);
	fd_reader_init(&fr, fd);
	buf_printf(&root2, "%s/ok2", base);
	is_int(layout_load(buf_str(&root2), &fr.r, &res, &e), 0, "load what save wrote: %s", e.msg);
	ok(res.n == 1 && res.v[0].name && strcmp(res.v[0].name, "example.com/t/app:1") == 0,
	   "named from io.containerd.image.name");
	layout_load_result_free(&res);
	close(fd);
	if (images_open(buf_str(&root2), 0, &im, &e) == 0) {
		const struct images_entry *en;
		ok(images_resolve(im, "example.com/t/app:1", &en, &e) == 0, "tagged in images.json");
		images_close(im);
	}
	is_int(count_dir(buf_str(&root2), "content/blobs/sha256"), 3, "same three blobs");

	refs[0] = "nope:1";
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	ok(layout_save(buf_str(&root), refs, 1, NULL, fd, &e) == -ENOENT, "save of an unknown image");
	close(fd);
}

static void test_docker(void)
{
	_cleanup_buf_ struct buf root = BUF_INIT, mj = BUF_INIT;
	struct layout_load_result res;
	struct err e = ERR_INIT;
	struct img im;
	struct arc a;

	buf_printf(&root, "%s/docker", base);
	img_make(&im, "docker\n");
	arc_open(&a);
	arc_file(&a, "cfg.json", im.config.data, im.config.len);
	arc_file(&a, "abc/layer.tar", im.layer.data, im.layer.len);
	arc_raw(&a, "def/layer.tar", '2', "../abc/layer.tar");
	buf_printf(&mj, "[{\"Config\":\"cfg.json\",\"RepoTags\":[\"busy:1\",\"busy:2\"],"
		   "\"Layers\":[\"def/layer.tar\"]}]");
	arc_file(&a, "manifest.json", mj.data, mj.len);
	is_int(arc_load(&a, 1, buf_str(&root), &res, &e), 0, "docker save archive: %s", e.msg);
	ok(res.n == 2 && res.v[0].name && strcmp(res.v[0].name, "docker.io/library/busy:1") == 0,
	   "every RepoTag is tagged");
	layout_load_result_free(&res);
	is_int(count_dir(buf_str(&root), "content/blobs/sha256"), 3,
	       "config, layer (through a symlink) and a generated manifest");

	/* a layer that is not what the config says */
	arc_open(&a);
	arc_file(&a, "cfg.json", im.config.data, im.config.len);
	arc_file(&a, "abc/layer.tar", "tampered", 8);
	arc_text(&a, "manifest.json", "[{\"Config\":\"cfg.json\",\"Layers\":[\"abc/layer.tar\"]}]");
	buf_reset(&root);
	buf_printf(&root, "%s/docker-bad", base);
	is_int(arc_load(&a, 1, buf_str(&root), &res, &e), -EBADMSG, "layer digest != diff_id refused");
	ok(strstr(e.msg, "abc/layer.tar") != NULL, "naming the layer: %s", e.msg);
	is_int(count_dir(buf_str(&root), "content/blobs/sha256"), 0, "store unchanged");

	arc_open(&a);
	arc_text(&a, "manifest.json", "{\"Config\":1}");
	is_int(arc_load(&a, 1, buf_str(&root), &res, &e), -EBADMSG, "manifest.json not a list");
	arc_open(&a);
	arc_text(&a, "manifest.json", "[{\"Config\":\"../x\",\"Layers\":[]}]");
	is_int(arc_load(&a, 1, buf_str(&root), &res, &e), -EBADMSG, "Config path outside refused");
	arc_open(&a);
	arc_text(&a, "manifest.json", "[{\"Config\":\"gone.json\",\"Layers\":[]}]");
	is_int(arc_load(&a, 1, buf_str(&root), &res, &e), -ENOENT, "missing config named");
	ok(strstr(e.msg, "gone.json") != NULL, "%s", e.msg);
	img_free(&im);
}

static void test_hostile(void)
{
	static const struct { enum breakage b; int code; const char *name, *needle; } cases[] = {
		{ B_NO_LAYER, -ENOENT, "a blob the manifest needs is missing", "lacks blob" },
		{ B_BAD_SIZE, -EBADMSG, "an index size that lies", "bytes, its descriptor says" },
		{ B_WRONG_CONTENT, -EBADMSG, "a blob whose content does not hash to its name",
		  "content has digest" },
		{ B_DUP, -EBADMSG, "an entry twice", "appears twice" },
		{ B_DOTDOT, -EBADMSG, "a path with ..", "leaves the archive" },
		{ B_SYMLINK_OUT, -EBADMSG, "a symlink leaving the archive", "link target leaves" },
		{ B_CHR, -EBADMSG, "a device node", "not a file" },
		{ B_NO_INDEX, -EBADMSG, "neither index.json nor manifest.json", "neither index.json" },
		{ B_TRUNCATED, -EPROTO, "a truncated archive", "archive" },
		{ B_BAD_DIFFID, -EBADMSG, "a config whose diff_ids do not fit the layers", "config" },
	};
	_cleanup_buf_ struct buf root = BUF_INIT;
	struct layout_load_result res;

	buf_printf(&root, "%s/hostile", base);
	/* a root with an image already, which must survive every failure */
	is_int(load_oci(buf_str(&root), B_NONE, &res, NULL), 0, "the store starts with one image");
	layout_load_result_free(&res);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		_cleanup_buf_ struct buf idx = BUF_INIT, p = BUF_INIT;
		struct err e = ERR_INIT;
		int rc;

		buf_printf(&p, "%s/images.json", buf_str(&root));
		fs_read_file(buf_str(&p), &idx, 0, NULL);
		rc = load_oci(buf_str(&root), cases[i].b, &res, &e);
		is_int(rc, cases[i].code, "%s: refused", cases[i].name);
		ok(strstr(e.msg, cases[i].needle) != NULL && strncmp(e.msg, "load", 4) == 0,
		   "%s: says so: %s", cases[i].name, e.msg);
		is_int(count_dir(buf_str(&root), "content/blobs/sha256"), 3, "%s: no new blob",
		       cases[i].name);
		{
			_cleanup_buf_ struct buf now = BUF_INIT;
			fs_read_file(buf_str(&p), &now, 0, NULL);
			ok(now.len == idx.len && memcmp(buf_str(&now), buf_str(&idx), idx.len) == 0,
			   "%s: images.json unchanged", cases[i].name);
		}
		is_int(count_dir(buf_str(&root), "tmp"), 0, "%s: staging cleaned", cases[i].name);
	}
	{
		struct arc a;
		struct err e = ERR_INIT;
		arc_open(&a);
		tarw_data(&a.t, "this is not a tar archive at all", 32, NULL);
		ok(arc_load(&a, 0, buf_str(&root), &res, &e) < 0, "garbage is refused: %s", e.msg);
	}
}

int main(void)
{
	snprintf(base, sizeof(base), "%s/oci_layout.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(base))
		return 1;
	test_tarw();
	test_load_ok();
	test_docker();
	test_hostile();
	rm_rf(base);
	return done_testing();
}
