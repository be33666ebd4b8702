/* Unit tests for the mount flags' grammar (applets/mounts.c: -v, --mount,
 * --tmpfs, sizes, ordering and duplicates), hostile input included, and
 * for the guest's "mounts" list (initrd/guest_mounts.c through
 * guest_config_parse). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "applets/mounts.h"
#include "initrd/guest.h"
#include "lib/buf.h"
#include "lib/err.h"
#include "t/tap.h"

static struct mount_list L;
static struct err E;

static int v(const char *s)
{
	mount_list_free(&L);
	err_clear(&E);
	return mounts_parse_volume_flag(s, &L, &E);
}

static int m(const char *s)
{
	mount_list_free(&L);
	err_clear(&E);
	return mounts_parse_mount_flag(s, &L, &E);
}

static int t(const char *s)
{
	mount_list_free(&L);
	err_clear(&E);
	return mounts_parse_tmpfs_flag(s, &L, &E);
}

static void test_volume_flag(void)
{
	is_int(v("/host/dir:/ctr"), 0, "-v /host/dir:/ctr");
	ok(L.n == 1 && L.v[0].type == MOUNT_BIND && !strcmp(L.v[0].source, "/host/dir") &&
		   !strcmp(L.v[0].target, "/ctr") && !L.v[0].readonly && L.v[0].create_src,
	   "... a bind, read-write, host dir created when missing");
	is_int(v("/h:/c:ro"), 0, "-v /h:/c:ro");
	ok(L.v[0].readonly, "... read-only");
	is_int(v("/h:/c:rw,z"), 0, "-v /h:/c:rw,z (SELinux word ignored)");
	ok(!L.v[0].readonly, "... read-write");
	is_int(v("data:/var/lib/db"), 0, "-v NAME:/path");
	ok(L.v[0].type == MOUNT_VOLUME && !strcmp(L.v[0].source, "data"), "... a named volume");
	is_int(v("data:/x:ro,nocopy"), 0, "-v NAME:/x:ro,nocopy");
	ok(L.v[0].readonly && L.v[0].nocopy, "... ro and nocopy");
	is_int(v("/anon"), 0, "-v /path");
	ok(L.v[0].type == MOUNT_VOLUME && !L.v[0].source, "... an anonymous volume");
	is_int(v("/anon:ro"), 0, "-v /path:ro");
	ok(L.v[0].type == MOUNT_VOLUME && L.v[0].readonly && !strcmp(L.v[0].target, "/anon"),
	   "... anonymous, read-only");
	is_int(v("/h:/c:cached"), 0, "-v /h:/c:cached");
	ok(L.v[0].cached, "... the bind may be cached");
	is_int(v("/h:/c:delegated,ro"), 0, "-v /h:/c:delegated,ro");
	ok(L.v[0].cached && L.v[0].readonly, "... cached and read-only");
	is_int(v("/h:/c:consistent"), 0, "-v /h:/c:consistent");
	ok(!L.v[0].cached, "... not cached");
	is_int(v("vol:/c:cached"), 0, "a volume with cached");
	ok(!L.v[0].cached, "... has nothing to cache differently");
	is_int(v("/h:/a/./b/../c//"), 0, "targets are cleaned");
	is_str(L.v[0].target, "/a/c", "... to /a/c");

	is_int(v("/h:/"), -EINVAL, "the root is not a target");
	is_int(v("/h:/a/.."), -EINVAL, "... nor is anything cleaning to it");
	is_int(v("/h:rel"), -EINVAL, "a relative target is refused");
	is_int(v("./h:/c"), -EINVAL, "a relative host path is refused");
	ok(strstr(E.msg, "absolute") != NULL, "... saying it must be absolute (%s)", E.msg);
	is_int(v("~/h:/c"), -EINVAL, "~ is not expanded");
	is_int(v("/h:/c:ro:extra"), -EINVAL, "too many colons");
	is_int(v("/h:/c:bogus"), -EINVAL, "an unknown mode");
	is_int(v("/h:/c:nocopy"), -EINVAL, "nocopy on a bind mount");
	is_int(v(":/c"), -EINVAL, "an empty source");
	is_int(v("a:/c"), -EINVAL, "a one-character volume name");
	is_int(v("-x:/c"), -EINVAL, "a volume name starting with '-'");
	is_int(v("na$me:/c"), -EINVAL, "a volume name with '$'");
	is_int(v(""), -EINVAL, "an empty flag");
	is_int(v(":"), -EINVAL, "a lone colon");
	is_int(v("::"), -EINVAL, "two colons");
	{
		struct buf b = BUF_INIT;
		buf_puts(&b, "/h:/");
		for (int i = 0; i < 5000; i++)
			buf_putc(&b, 'a');
		is_int(v(buf_str(&b)), -ENAMETOOLONG, "a 5000-byte target");
		buf_reset(&b);
		for (int i = 0; i < 20000; i++)
			buf_puts(&b, ":");
		ok(v(buf_str(&b)) < 0, "20000 colons");
		buf_free(&b);
	}
}

static void test_mount_flag(void)
{
	is_int(m("type=bind,source=/h,target=/c,readonly"), 0, "--mount type=bind,...,readonly");
	ok(L.v[0].type == MOUNT_BIND && L.v[0].readonly && !L.v[0].create_src,
	   "... a read-only bind whose missing source is NOT created");
	is_int(m("type=bind,src=/h,dst=/c,ro=false"), 0, "aliases src, dst, ro=false");
	ok(!L.v[0].readonly, "... read-write");
	is_int(m("type=volume,source=db,target=/d,volume-nocopy"), 0, "a named volume");
	ok(L.v[0].type == MOUNT_VOLUME && L.v[0].nocopy, "... nocopy");
	is_int(m("target=/d"), 0, "type defaults to volume; no source = anonymous");
	ok(L.v[0].type == MOUNT_VOLUME && !L.v[0].source, "... anonymous");
	is_int(m("type=tmpfs,destination=/t,tmpfs-size=64m,tmpfs-mode=1770"), 0, "a tmpfs");
	ok(L.v[0].type == MOUNT_TMPFS && L.v[0].size == 64u << 20 && L.v[0].mode == 01770,
	   "... 64 MiB, mode 1770");
	is_int(m("\"type=bind\",\"source=/a,b\",target=/c"), 0, "quoted CSV fields");
	is_str(L.v[0].source, "/a,b", "... keep their commas");
	is_int(m("type=bind,source=/h,target=/c,consistency=delegated"), 0, "consistency=delegated");
	ok(L.v[0].cached, "... cached");
	is_int(m("type=bind,source=/h,target=/c,consistency=bogus"), -EINVAL, "consistency=bogus");
	is_int(m("type=bind,source=/h,target=/c,bind-propagation=rslave"), 0,
	       "bind-propagation is accepted");

	is_int(m("type=bind,target=/c"), -EINVAL, "a bind without source");
	is_int(m("type=bind,source=rel,target=/c"), -EINVAL, "a bind with a relative source");
	is_int(m("type=nfs,target=/c"), -EINVAL, "an unknown type");
	is_int(m("type=tmpfs,source=x,target=/c"), -EINVAL, "a tmpfs with a source");
	is_int(m("type=volume,target=/c,tmpfs-size=1m"), -EINVAL, "tmpfs options on a volume");
	is_int(m("type=bind,source=/h,target=/c,volume-nocopy"), -EINVAL, "nocopy on a bind");
	is_int(m("type=bind,source=/h,target=/c,readonly=maybe"), -EINVAL, "readonly=maybe");
	is_int(m("type=bind,source=/h,target=/c,color=red"), -EINVAL, "an unknown key");
	is_int(m("type=bind,source=/h"), -EINVAL, "no target");
	is_int(m("\"type=bind"), -EINVAL, "an unterminated quote");
	is_int(m("\"type=bind\"x,target=/c"), -EINVAL, "text after a closing quote");
	is_int(m("ty\"pe=bind,target=/c"), -EINVAL, "a quote inside a field");
	is_int(m("type=tmpfs,target=/t,tmpfs-mode=999"), -EINVAL, "a mode that is not octal");
	is_int(m("type=tmpfs,target=/t,tmpfs-size=-1"), -EINVAL, "a negative size");
	is_int(m(",,,,,,,,,,,,,,,,,,,,,,,,,,"), -EINVAL, "too many empty fields");
}

static void test_tmpfs_flag(void)
{
	is_int(t("/run"), 0, "--tmpfs /run");
	ok(L.v[0].type == MOUNT_TMPFS && !L.v[0].size && !L.v[0].mode && !L.v[0].exec,
	   "... default size and mode, noexec");
	is_int(t("/run:size=1g,mode=700,exec"), 0, "--tmpfs /run:size=1g,mode=700,exec");
	ok(L.v[0].size == 1ull << 30 && L.v[0].mode == 0700 && L.v[0].exec, "... as given");
	is_int(t("/run:uid=5"), -EINVAL, "an unsupported option");
	is_int(t("run"), -EINVAL, "a relative target");
	is_int(t("/run:size=12q"), -EINVAL, "a bad size unit");
}

static void test_size(void)
{
	uint64_t s = 0;
	struct err e = ERR_INIT;

	ok(mounts_parse_size("10G", &s, &e) == 0 && s == 10ull << 30, "10G");
	ok(mounts_parse_size("512m", &s, &e) == 0 && s == 512ull << 20, "512m");
	ok(mounts_parse_size("2KiB", &s, &e) == 0 && s == 2048, "2KiB");
	ok(mounts_parse_size("4096", &s, &e) == 0 && s == 4096, "plain bytes");
	is_int(mounts_parse_size("99999999999999999999", &s, &e), -ERANGE, "overflowing digits");
	is_int(mounts_parse_size("20000000p", &s, &e), -ERANGE, "overflowing unit");
	is_int(mounts_parse_size("", &s, &e), -EINVAL, "empty");
	is_int(mounts_parse_size("1.5g", &s, &e), -EINVAL, "a fraction");
}

static void test_check(void)
{
	const char *vol[] = { "/h:/a/b/c", "/h:/a", NULL };
	const char *tmp[] = { "/a/b", NULL };
	const char *dup[] = { "/h:/x", "/y:/x/", NULL };
	struct mount_list l = { 0 };
	struct err e = ERR_INIT;

	is_int(mounts_parse_flags(vol, NULL, tmp, &l, &e), 0, "three mounts");
	ok(l.n == 3 && !strcmp(l.v[0].target, "/a") && !strcmp(l.v[1].target, "/a/b") &&
		   !strcmp(l.v[2].target, "/a/b/c"), "... sorted parents first");
	mount_list_free(&l);
	is_int(mounts_parse_flags(dup, NULL, NULL, &l, &e), -EINVAL, "two mounts on one target");
	ok(strstr(e.msg, "duplicate mount point: /x") != NULL, "... named (%s)", e.msg);
	mount_list_free(&l);
	err_clear(&e);
	for (int i = 0; i < MOUNTS_MAX + 1 && mounts_parse_tmpfs_flag("/t", &l, &e) == 0; i++)
		;
	is_int(e.code, -E2BIG, "at most MOUNTS_MAX mounts");
	mount_list_free(&l);
}

static int gparse(const char *json, struct guest_config *c, struct err *e)
{
	err_clear(e);
	return guest_config_parse(json, strlen(json), c, e);
}

static void test_guest(void)
{
	struct guest_config c;
	struct err e = ERR_INIT;

	is_int(gparse("{\"mounts\":[{\"type\":\"9p\",\"source\":\"bind0\",\"target\":\"/src\","
		      "\"file\":\"a.conf\",\"readonly\":true},{\"type\":\"volume\",\"source\":"
		      "\"vol0\",\"target\":\"/d\",\"copy\":true},{\"type\":\"tmpfs\",\"target\":"
		      "\"/t\",\"size\":1048576,\"mode\":448}]}", &c, &e), 0, "guest mounts parse");
	ok(c.n_mounts == 3 && c.mounts[0].type == GUEST_MOUNT_9P && c.mounts[0].readonly &&
		   !strcmp(c.mounts[0].file, "a.conf") && c.mounts[1].type == GUEST_MOUNT_VOLUME &&
		   c.mounts[1].copy && c.mounts[2].size == 1048576 && c.mounts[2].mode == 0700,
	   "... with every field");
	guest_config_free(&c);
	is_int(gparse("{\"mounts\":[{\"type\":\"virtiofs\",\"source\":\"bind0\",\"target\":"
		      "\"/src\",\"file\":\"a.conf\"}]}", &c, &e), 0, "a virtio-fs mount parses");
	ok(c.n_mounts == 1 && c.mounts[0].type == GUEST_MOUNT_VIRTIOFS &&
		   !strcmp(c.mounts[0].source, "bind0") && !strcmp(c.mounts[0].file, "a.conf"),
	   "... as a share of that tag, one file of it");
	guest_config_free(&c);
	is_int(gparse("{\"mounts\":[{\"type\":\"virtiofs\",\"source\":\"..\",\"target\":\"/x\"}]}",
		      &c, &e), -EINVAL, "a virtio-fs tag ..");
	is_int(gparse("{\"mounts\":[{\"type\":\"tmpfs\",\"target\":\"/a/../etc\"}]}", &c, &e),
	       -EINVAL, "a target with ..");
	is_int(gparse("{\"mounts\":[{\"type\":\"tmpfs\",\"target\":\"/\"}]}", &c, &e), -EINVAL,
	       "the root as a target");
	is_int(gparse("{\"mounts\":[{\"type\":\"9p\",\"source\":\"a/b\",\"target\":\"/x\"}]}", &c,
		      &e), -EINVAL, "a tag with a slash");
	is_int(gparse("{\"mounts\":[{\"type\":\"9p\",\"source\":\"t\",\"target\":\"/x\","
		      "\"file\":\"..\"}]}", &c, &e), -EINVAL, "a file named ..");
	is_int(gparse("{\"mounts\":[{\"type\":\"volume\",\"target\":\"/x\"}]}", &c, &e), -EINVAL,
	       "a volume without a source");
	is_int(gparse("{\"mounts\":[{\"type\":\"tmpfs\",\"target\":\"/x\",\"mode\":99999}]}", &c,
		      &e), -EINVAL, "a mode out of range");
	is_int(gparse("{\"mounts\":{}}", &c, &e), -EINVAL, "mounts not a list");
	is_int(gparse("{\"mounts\":[7]}", &c, &e), -EINVAL, "a mount that is not an object");
}

int main(void)
{
	test_volume_flag();
	test_mount_flag();
	test_tmpfs_flag();
	test_size();
	test_check();
	test_guest();
	mount_list_free(&L);
	return done_testing();
}
