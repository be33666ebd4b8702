/* oci/fstree.c: OCI layer semantics and containment against hostile
 * layers.  Each case states its defined outcome: a clean error, or the
 * entry contained inside the image root.  A counting sink checks that file
 * data is released exactly when the last link goes, and never twice. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/err.h"
#include "lib/stream.h"
#include "oci/fstree.h"
#include "oci/tar.h"
#include "t/tap.h"

struct count_sink {
	struct fstree_sink s;
	int writes, releases, fail_next;
};

static int cs_write(struct fstree_sink *s, struct reader *rd, uint64_t size, void **out,
		    struct err *e)
{
	struct count_sink *c = (struct count_sink *)s;
	if (c->fail_next) {
		c->fail_next = 0;
		return err_set(e, -EIO, "sink failure");
	}
	char buf[256];
	while (size) {
		size_t k = size < sizeof(buf) ? (size_t)size : sizeof(buf);
		int rc = reader_read_full(rd, buf, k, "data", e);
		if (rc < 0)
			return rc;
		size -= k;
	}
	c->writes++;
	*out = malloc(1);
	return 0;
}

static void cs_release(struct fstree_sink *s, void *h)
{
	((struct count_sink *)s)->releases++;
	free(h);
}

static struct count_sink cs = { { cs_write, cs_release }, 0, 0, 0 };
static struct fstree *t;
static struct err e;

static int add(enum tar_type type, const char *path, const char *link)
{
	struct tar_entry te = { 0 };
	struct mem_reader mr;
	te.path = path;
	te.linkname = link ? link : "";
	te.type = type;
	te.mode = type == TAR_DIR ? 0755 : 0644;
	te.size = type == TAR_REG ? 3 : 0;
	mem_reader_init(&mr, "abc", 3);
	err_clear(&e);
	return fstree_apply(t, &te, type == TAR_REG ? &mr.r : NULL, &e);
}

static struct fstree_inode *get(const char *path)
{
	struct err e2 = ERR_INIT;
	return fstree_lookup(t, path, &e2);
}

static void fresh(void)
{
	fstree_free(t);
	t = fstree_new(&cs.s);
	fstree_begin_layer(t);
}

static void test_paths(void)
{
	fresh();
	is_int(add(TAR_REG, "../x", NULL), -EINVAL, "../x is refused");
	ok(strstr(e.msg, "leaves the image root") != NULL, "  with a clear message: %s", e.msg);
	is_int(add(TAR_REG, "a/../../x", NULL), -EINVAL, "a/../../x is refused");
	is_int(add(TAR_REG, "a/../b", NULL), 0, "a/../b is accepted");
	ok(get("/b") && get("/b")->type == FST_REG, "  and lands at /b");
	is_int(add(TAR_REG, "/abs/path", NULL), 0, "an absolute path is accepted");
	ok(get("abs/path") != NULL, "  and lands inside the root");
	is_int(add(TAR_REG, "./dot/./x", NULL), 0, "./dot/./x");
	ok(get("dot/x") != NULL, "  lands at /dot/x");
	char n256[257], n255[256];
	memset(n256, 'a', 256);
	n256[256] = 0;
	memset(n255, 'b', 255);
	n255[255] = 0;
	is_int(add(TAR_REG, n256, NULL), -ENAMETOOLONG, "a 256-byte component is refused");
	is_int(add(TAR_REG, n255, NULL), 0, "a 255-byte component is accepted");
	is_int(add(TAR_REG, "", NULL), -EINVAL, "an empty path is refused");
	is_int(add(TAR_REG, "./", NULL), -EINVAL, "the root as a regular file is refused");
	struct tar_entry te = { .path = "./", .linkname = "", .type = TAR_DIR, .mode = 0700, .uid = 5 };
	is_int(fstree_apply(t, &te, NULL, &e), 0, "a ./ entry updates the root");
	ok(t->root->mode == 0700 && t->root->uid == 5, "  mode and owner of / set");
	is_int(add(TAR_REG, "f", NULL), 0, "file f");
	is_int(add(TAR_REG, "f/x", NULL), -ENOTDIR, "f/x under a regular file is refused");
	te = (struct tar_entry){ .path = "modes", .linkname = "", .type = TAR_REG, .mode = 0107755 };
	is_int(fstree_apply(t, &te, NULL, &e), 0, "suid/sgid/sticky file");
	ok(get("modes") && get("modes")->mode == 07755, "  keeps 07755 and drops type bits");
	te = (struct tar_entry){ .path = "x", .linkname = "", .type = (enum tar_type)99 };
	is_int(fstree_apply(t, &te, NULL, &e), -EINVAL, "an unknown entry type is refused");
}

static void test_symlinks(void)
{
	fresh();
	is_int(add(TAR_SYMLINK, "lib", "/"), 0, "lib -> /");
	is_int(add(TAR_REG, "lib/etc/x", NULL), 0, "lib/etc/x");
	ok(get("etc/x") != NULL, "  lands at /etc/x inside the image");
	ok(get("lib")->type == FST_SYMLINK, "  and lib is still the symlink");
	is_int(add(TAR_SYMLINK, "up", "../../../.."), 0, "up -> ../../../..");
	is_int(add(TAR_REG, "up/y", NULL), 0, "up/y");
	ok(get("y") != NULL, "  is clamped at the root: /y");
	is_int(add(TAR_SYMLINK, "abs", "/usr/lib"), 0, "abs -> /usr/lib (dangling)");
	is_int(add(TAR_REG, "abs/z", NULL), 0, "abs/z");
	ok(get("usr/lib/z") != NULL, "  creates /usr/lib/z inside the image");
	is_int(add(TAR_SYMLINK, "a", "b"), 0, "a -> b");
	is_int(add(TAR_SYMLINK, "b", "a"), 0, "b -> a");
	is_int(add(TAR_REG, "a/x", NULL), -ELOOP, "a/x through a symlink loop is ELOOP");
	is_int(add(TAR_REG, "file", NULL), 0, "file");
	is_int(add(TAR_SYMLINK, "tofile", "file"), 0, "tofile -> file");
	is_int(add(TAR_REG, "tofile/x", NULL), -ENOTDIR, "tofile/x is ENOTDIR");
	is_int(add(TAR_SYMLINK, "empty", ""), -EINVAL, "an empty symlink target is refused");
	char big[4100];
	memset(big, 'c', 4096);
	big[4096] = 0;
	is_int(add(TAR_SYMLINK, "huge", big), -EINVAL, "a 4096-byte symlink target is refused");
	big[4095] = 0;
	is_int(add(TAR_SYMLINK, "max", big), 0, "a 4095-byte symlink target is accepted");
	/* 41 chained symlinks */
	char name[32], target[32];
	for (int i = 0; i < 41; i++) {
		snprintf(name, sizeof(name), "c%d", i);
		snprintf(target, sizeof(target), i == 40 ? "etc" : "c%d", i + 1);
		add(TAR_SYMLINK, name, target);
	}
	is_int(add(TAR_REG, "c0/x", NULL), -ELOOP, "41 chained symlinks: ELOOP");
	is_int(add(TAR_REG, "c2/x", NULL), 0, "39 chained symlinks are followed");
	ok(get("etc/x") != NULL, "  to /etc");
	is_int(add(TAR_REG, "lib", NULL), 0, "a file replaces the symlink lib itself");
	ok(get("lib")->type == FST_REG && get("etc/x") != NULL, "  without following it");
}

static void test_hardlinks(void)
{
	fresh();
	add(TAR_DIR, "etc", NULL);
	add(TAR_REG, "etc/passwd", NULL);
	is_int(add(TAR_HARDLINK, "x", "../../etc/passwd"), -EINVAL, "hard link to ../../etc/passwd is refused");
	add(TAR_SYMLINK, "lib", "/");
	is_int(add(TAR_HARDLINK, "y", "lib/etc/passwd"), 0, "hard link through lib -> /");
	ok(get("y") == get("etc/passwd") && get("y")->nlink == 2, "  shares the image's /etc/passwd");
	is_int(add(TAR_HARDLINK, "z", "missing"), -ENOENT, "hard link to a missing entry is ENOENT");
	is_int(add(TAR_HARDLINK, "z", "etc"), -EPERM, "hard link to a directory is refused");
	is_int(add(TAR_HARDLINK, "z", "/"), -EPERM, "hard link to the root is refused");
	ok(get("z") == NULL, "  and nothing was created");
	is_int(add(TAR_HARDLINK, "y", "y"), 0, "y -> y (itself) is a no-op");
	is_int(get("y")->nlink, 2, "  link count unchanged");
	is_int(add(TAR_HARDLINK, "self", "self"), -ENOENT, "a missing self link is ENOENT");
	add(TAR_REG, "a", NULL);
	add(TAR_HARDLINK, "b", "a");
	is_int(add(TAR_HARDLINK, "a", "b"), 0, "a -> b after b -> a (a cycle)");
	ok(get("a") == get("b") && get("a")->nlink == 2, "  one inode, two links");
	add(TAR_DIR, "d", NULL);
	add(TAR_REG, "d/f", NULL);
	int rel = cs.releases;
	is_int(add(TAR_HARDLINK, "d", "d/f"), 0, "d -> d/f replaces the directory holding the target");
	ok(get("d") && get("d")->type == FST_REG && get("d")->nlink == 1, "  d is now that file");
	is_int(cs.releases, rel, "  and its data was not released");
	add(TAR_REG, "many", NULL);
	char name[32];
	int rc = 0, i;
	for (i = 1; i < FSTREE_LINK_MAX && rc == 0; i++) {
		snprintf(name, sizeof(name), "m%d", i);
		rc = add(TAR_HARDLINK, name, "many");
	}
	is_int(rc, 0, "%d links to one inode", FSTREE_LINK_MAX);
	is_int(add(TAR_HARDLINK, "one-more", "many"), -EMLINK, "one more is EMLINK");
}

static void test_whiteouts(void)
{
	fresh();
	add(TAR_DIR, "d", NULL);
	add(TAR_REG, "d/old", NULL);
	add(TAR_DIR, "d/sub", NULL);
	add(TAR_REG, "d/sub/deep", NULL);
	add(TAR_REG, "keep", NULL);
	add(TAR_REG, "gone", NULL);
	add(TAR_HARDLINK, "gone-link", "gone");
	fstree_begin_layer(t);
	is_int(add(TAR_REG, ".wh..", NULL), -EINVAL, ".wh.. is refused");
	is_int(add(TAR_REG, "d/.wh.", NULL), -EINVAL, ".wh. alone is refused");
	is_int(add(TAR_REG, ".wh...", NULL), -EINVAL, ".wh... (whiteout of ..) is refused");
	is_int(add(TAR_REG, ".wh..wh.plnk", NULL), 0, ".wh..wh.plnk (aufs) is ignored");
	ok(get(".wh..wh.plnk") == NULL, "  and not created");
	is_int(add(TAR_REG, "nodir/.wh.x", NULL), 0, "a whiteout under a missing directory is a no-op");
	ok(get("nodir") == NULL, "  that creates nothing");
	int rel = cs.releases;
	is_int(add(TAR_REG, ".wh.gone", NULL), 0, "whiteout of a lower file with two links");
	ok(get("gone") == NULL && get("gone-link") && get("gone-link")->nlink == 1, "  one link left");
	is_int(cs.releases, rel, "  data kept");
	add(TAR_REG, ".wh.gone-link", NULL);
	is_int(cs.releases, rel + 1, "whiteout of the last link releases the data");
	add(TAR_REG, "new", NULL);
	is_int(add(TAR_REG, ".wh.new", NULL), 0, "whiteout of an entry of the same layer");
	ok(get("new") != NULL, "  keeps it (it only hides lower layers)");
	add(TAR_REG, "d/new", NULL);
	add(TAR_DIR, "d/sub", NULL);
	add(TAR_REG, "d/sub/new2", NULL);
	is_int(add(TAR_REG, "d/.wh..wh..opq", NULL), 0, "opaque marker after siblings of its layer");
	ok(get("d/new") && get("d/sub/new2"), "  keeps this layer's entries");
	ok(!get("d/old") && !get("d/sub/deep"), "  removes lower entries, also under a redeclared dir");
	ok(!get("d/.wh..wh..opq"), "  and is not itself an entry");
	ok(get("keep") != NULL, "  entries outside it stay");
}

static void test_replace(void)
{
	fresh();
	add(TAR_REG, "x", NULL);
	int w = cs.writes, rel = cs.releases;
	is_int(add(TAR_REG, "x", NULL), 0, "a duplicate regular file");
	ok(cs.writes == w + 1 && cs.releases == rel + 1, "  replaces the first (its data released)");
	is_int(add(TAR_DIR, "x", NULL), 0, "a directory replaces file x");
	ok(get("x")->type == FST_DIR, "  x is a directory");
	add(TAR_REG, "x/a", NULL);
	add(TAR_DIR, "x/b", NULL);
	add(TAR_REG, "x/b/c", NULL);
	rel = cs.releases;
	is_int(add(TAR_DIR, "x", NULL), 0, "a duplicate directory");
	ok(get("x/a") != NULL, "  merges (children kept)");
	is_int(add(TAR_REG, "x", NULL), 0, "a file replaces directory x");
	ok(get("x")->type == FST_REG && cs.releases == rel + 2, "  the subtree's data released");
	is_int(add(TAR_SYMLINK, "x", "y"), 0, "a symlink replaces file x");
	cs.fail_next = 1;
	is_int(add(TAR_REG, "x", NULL), -EIO, "a failing data write is an error");
	ok(get("x") && get("x")->type == FST_SYMLINK, "  and leaves the old entry");
	struct tar_xattr xa[2] = { { "user.a", (const unsigned char *)"1", 1 },
				   { "user.a", (const unsigned char *)"2", 1 } };
	struct tar_entry te = { .path = "xa", .linkname = "", .type = TAR_REG, .xattrs = xa, .nxattrs = 2 };
	is_int(fstree_apply(t, &te, NULL, &e), -EINVAL, "a duplicate xattr is refused");
	xa[1].name = "weird.ns";
	is_int(fstree_apply(t, &te, NULL, &e), -EOPNOTSUPP, "an unknown xattr namespace is refused");
	xa[1].name = "security.capability";
	is_int(fstree_apply(t, &te, NULL, &e), 0, "user. and security. xattrs");
	ok(get("xa") && get("xa")->nxattrs == 2, "  are kept");
}

int main(void)
{
	test_paths();
	test_symlinks();
	test_hardlinks();
	test_whiteouts();
	test_replace();
	fstree_free(t);
	t = NULL;
	is_int(cs.releases, cs.writes, "every data handle released exactly once (%d)", cs.writes);
	return done_testing();
}
