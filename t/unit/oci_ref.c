/* Table-driven tests of oci/ref.c: the distribution/reference grammar and
 * Docker's normalization rules, one row per case. */
#include <errno.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/mem.h"
#include "oci/ref.h"
#include "t/tap.h"

#define H64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define D64 "sha256:" H64

struct row {
	const char *in;
	int flags;
	const char *full;      /* NULL: must be refused */
	const char *familiar;  /* NULL: not checked */
};

static const struct row rows[] = {
	/* Docker Hub normalization */
	{ "alpine", 0, "docker.io/library/alpine:latest", "alpine:latest" },
	{ "alpine:3.19", 0, "docker.io/library/alpine:3.19", "alpine:3.19" },
	{ "library/alpine", 0, "docker.io/library/alpine:latest", "alpine:latest" },
	{ "docker.io/alpine", 0, "docker.io/library/alpine:latest", "alpine:latest" },
	{ "docker.io/library/alpine:edge", 0, "docker.io/library/alpine:edge", "alpine:edge" },
	{ "index.docker.io/library/alpine", 0, "docker.io/library/alpine:latest", "alpine:latest" },
	{ "index.docker.io/user/img", 0, "docker.io/user/img:latest", "user/img:latest" },
	{ "user/img", 0, "docker.io/user/img:latest", "user/img:latest" },
	{ "user/img:1.0", 0, "docker.io/user/img:1.0", "user/img:1.0" },
	{ "a/b/c/d", 0, "docker.io/a/b/c/d:latest", "a/b/c/d:latest" },
	{ "docker.io/library/a/b", 0, "docker.io/library/a/b:latest", "library/a/b:latest" },
	{ "alpine", REF_NO_DEFAULT_TAG, "docker.io/library/alpine", "alpine" },
	{ "docker.io/localhost/x", 0, "docker.io/localhost/x:latest", "docker.io/localhost/x:latest" },
	{ "docker.io/example.com/x", 0, "docker.io/example.com/x:latest", "docker.io/example.com/x:latest" },
	{ "localhost", 0, "docker.io/library/localhost:latest", "localhost:latest" },
	{ "localhost:5000", 0, "docker.io/library/localhost:5000", "localhost:5000" },
	{ "example.com:5000", 0, "docker.io/library/example.com:5000", NULL },
	{ "sha256:" H64, 0, "docker.io/library/sha256:" H64, NULL },
	{ "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde", 0,
	  "docker.io/library/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde:latest", NULL },
	/* other registries */
	{ "localhost/x", 0, "localhost/x:latest", "localhost/x:latest" },
	{ "localhost:5000/x/y:t", 0, "localhost:5000/x/y:t", "localhost:5000/x/y:t" },
	{ "example.com/foo", 0, "example.com/foo:latest", "example.com/foo:latest" },
	{ "example.com:8080/foo/bar:v1", 0, "example.com:8080/foo/bar:v1", NULL },
	{ "Example.com/foo", 0, "Example.com/foo:latest", NULL },
	{ "FOO/bar", 0, "FOO/bar:latest", NULL },
	{ "127.0.0.1:5000/a", 0, "127.0.0.1:5000/a:latest", NULL },
	{ "[::1]:5000/a", 0, "[::1]:5000/a:latest", NULL },
	{ "[2001:db8::1]/img", 0, "[2001:db8::1]/img:latest", NULL },
	{ "xn--bcher-kva.ch/img", 0, "xn--bcher-kva.ch/img:latest", NULL },
	{ "registry.example.com/a.b/c_d/e-f:v1.2-rc_3", 0,
	  "registry.example.com/a.b/c_d/e-f:v1.2-rc_3", NULL },
	{ "ghcr.io/o/r:t@" D64, 0, "ghcr.io/o/r:t@" D64, NULL },
	/* separators */
	{ "a-b/c", 0, "docker.io/a-b/c:latest", NULL },
	{ "a--b/c", 0, "docker.io/a--b/c:latest", NULL },
	{ "a__b/c", 0, "docker.io/a__b/c:latest", NULL },
	{ "a_b.c-d", 0, "docker.io/library/a_b.c-d:latest", NULL },
	/* tags */
	{ "x:_tag", 0, "docker.io/library/x:_tag", NULL },
	{ "x:TAG", 0, "docker.io/library/x:TAG", NULL },
	{ "x:" "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	  0, "docker.io/library/x:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", NULL },
	/* digests: no tag is added */
	{ "img@" D64, 0, "docker.io/library/img@" D64, "img@" D64 },
	{ "img:tag@" D64, 0, "docker.io/library/img:tag@" D64, "img:tag@" D64 },
	{ "a/b@" D64, 0, "docker.io/a/b@" D64, "a/b@" D64 },
	{ "localhost:5000/a@" D64, 0, "localhost:5000/a@" D64, NULL },

	/* refused */
	{ "", 0, NULL, NULL },
	{ ":tag", 0, NULL, NULL },
	{ "@" D64, 0, NULL, NULL },
	{ "x:", 0, NULL, NULL },
	{ "x:-tag", 0, NULL, NULL },
	{ "x:.tag", 0, NULL, NULL },
	{ "x:t!g", 0, NULL, NULL },
	{ "x:" "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	  0, NULL, NULL },
	{ "Alpine", 0, NULL, NULL },
	{ "user/Img", 0, NULL, NULL },
	{ "localhost/Foo", 0, NULL, NULL },
	{ "docker.io/Library/alpine", 0, NULL, NULL },
	{ H64, 0, NULL, NULL },
	{ "img@sha256:abc", 0, NULL, NULL },
	{ "img@sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef", 0, NULL, NULL },
	{ "img@sha512:" H64 H64, 0, NULL, NULL },
	{ "img@sha256:../../x", 0, NULL, NULL },
	{ "img@", 0, NULL, NULL },
	{ "img@@" D64, 0, NULL, NULL },
	{ "img@" D64 "@" D64, 0, NULL, NULL },
	{ "img@1sha:" H64, 0, NULL, NULL },
	{ "img@:" H64, 0, NULL, NULL },
	{ "foo_bar.com/x", 0, NULL, NULL },
	{ "a..b/c", 0, NULL, NULL },
	{ "a._b", 0, NULL, NULL },
	{ "a___b/c", 0, NULL, NULL },
	{ "a/b/", 0, NULL, NULL },
	{ "/a", 0, NULL, NULL },
	{ "a//b", 0, NULL, NULL },
	{ "-a/b", 0, NULL, NULL },
	{ "a-/b", 0, NULL, NULL },
	{ "a/b:t:t", 0, NULL, NULL },
	{ "host:abc/a", 0, NULL, NULL },
	{ "host:/a", 0, NULL, NULL },
	{ "-example.com/a", 0, NULL, NULL },
	{ "example-.com/a", 0, NULL, NULL },
	{ "[]/a", 0, NULL, NULL },
	{ "[::g]/a", 0, NULL, NULL },
	{ "[::1/a", 0, NULL, NULL },
	{ "[::1]", 0, NULL, NULL },
	{ "a b", 0, NULL, NULL },
	{ "a\tb", 0, NULL, NULL },
	{ "a/b\n", 0, NULL, NULL },
	{ "a/\x1b[31mred", 0, NULL, NULL },
	{ "-", 0, NULL, NULL },
	{ ".", 0, NULL, NULL },
	{ "a/.b", 0, NULL, NULL },
	{ "a/../b", 0, NULL, NULL },
	{ "example.com/", 0, NULL, NULL },
};

static void check_row(const struct row *w)
{
	struct err e = ERR_INIT;
	struct ref r;
	int rc = ref_parse(w->in, w->flags, &r, &e);
	char shown[64];
	size_t n = strlen(w->in);

	/* long inputs are shown by their start only */
	snprintf(shown, sizeof(shown), "%.40s%s", w->in, n > 40 ? "..." : "");
	for (char *p = shown; *p; p++)
		if (*p < 0x20)
			*p = '?';
	if (!w->full) {
		ok(rc == -EINVAL && e.code == -EINVAL && e.msg[0], "refuse \"%s\"", shown);
		if (rc == 0) {
			_cleanup_buf_ struct buf b = BUF_INIT;
			ref_format(&r, &b);
			diag("  parsed as %s", buf_str(&b));
		} else if (strchr(e.msg, '\x1b') || strchr(e.msg, '\n')) {
			ok(0, "error message for \"%s\" holds a control character", shown);
		}
		return;
	}
	if (rc < 0) {
		ok(0, "accept \"%s\"", shown);
		diag("  %s", e.msg);
		return;
	}
	_cleanup_buf_ struct buf full = BUF_INIT;
	ref_format(&r, &full);
	is_str(buf_str(&full), w->full, "normalize \"%s\"", shown);
	if (w->familiar) {
		_cleanup_buf_ struct buf fam = BUF_INIT;
		ref_format_familiar(&r, &fam);
		is_str(buf_str(&fam), w->familiar, "familiar \"%s\"", shown);
	}
	/* The normalized form is a fixed point. */
	struct ref r2;
	_cleanup_buf_ struct buf again = BUF_INIT;
	if (ref_parse(buf_str(&full), w->flags, &r2, &e) == 0)
		ref_format(&r2, &again);
	is_str(buf_str(&again), w->full, "reparse \"%s\"", shown);
}

static void test_lengths(void)
{
	struct err e = ERR_INIT;
	struct ref r;
	_cleanup_buf_ struct buf b = BUF_INIT;
	/* "docker.io/" + path: exactly 255 accepted, 256 refused */
	buf_puts(&b, "u/");
	while (b.len < REF_NAME_MAX - strlen("docker.io/"))
		buf_putc(&b, 'a');
	is_int(ref_parse(buf_str(&b), 0, &r, &e), 0, "name of exactly %d bytes accepted", REF_NAME_MAX);
	buf_putc(&b, 'a');
	is_int(ref_parse(buf_str(&b), 0, &r, &e), -EINVAL, "name of %d bytes refused", REF_NAME_MAX + 1);
	/* a one-component Hub name gets "library/": counted in the limit */
	buf_reset(&b);
	while (b.len < REF_NAME_MAX - strlen("docker.io/library/"))
		buf_putc(&b, 'a');
	is_int(ref_parse(buf_str(&b), 0, &r, &e), 0, "official name at the limit accepted");
	buf_putc(&b, 'a');
	is_int(ref_parse(buf_str(&b), 0, &r, &e), -EINVAL, "official name past the limit refused");
	buf_reset(&b);
	while (b.len < 100000)
		buf_puts(&b, "a/");
	is_int(ref_parse(buf_str(&b), 0, &r, &e), -EINVAL, "100 kB input refused");
	ok(strlen(e.msg) < ERR_MSG_MAX, "its message is bounded");
}

static void test_accessors(void)
{
	struct err e = ERR_INIT;
	struct ref r;

	ref_parse("alpine", 0, &r, &e);
	is_str(ref_registry_host(&r), "registry-1.docker.io", "Hub host");
	ok(r.tag_implied, "latest was implied");
	ok(!ref_is_loopback(&r), "Hub is not loopback");
	ref_parse("alpine:latest", 0, &r, &e);
	ok(!r.tag_implied, "explicit latest is not implied");
	ref_parse("ghcr.io/o/r", 0, &r, &e);
	is_str(ref_registry_host(&r), "ghcr.io", "ghcr host");
	is_str(r.path, "o/r", "ghcr path");
	ref_parse("localhost:5000/a", 0, &r, &e);
	is_str(ref_registry_host(&r), "localhost:5000", "host with port");
	ok(ref_is_loopback(&r), "localhost:5000 is loopback");
	ref_parse("127.0.0.1:5000/a", 0, &r, &e);
	ok(ref_is_loopback(&r), "127.0.0.1:5000 is loopback");
	ref_parse("[::1]:5000/a", 0, &r, &e);
	ok(ref_is_loopback(&r), "[::1]:5000 is loopback");
	ref_parse("127.example.com/a", 0, &r, &e);
	ok(!ref_is_loopback(&r), "127.example.com is not loopback");
	ref_parse("localhost.example.com/a", 0, &r, &e);
	ok(!ref_is_loopback(&r), "localhost.example.com is not loopback");
	ref_parse("img:t@" D64, 0, &r, &e);
	ok(r.has_digest && strcmp(r.digest.s, D64) == 0 && strcmp(r.tag, "t") == 0,
	   "tag and digest both kept");
	_cleanup_buf_ struct buf repo = BUF_INIT;
	ref_format_repo(&r, &repo);
	is_str(buf_str(&repo), "docker.io/library/img", "repository name");
	is_int(ref_check_tag("v1.0", &e), 0, "tag v1.0 valid");
	is_int(ref_check_tag(".x", &e), -EINVAL, "tag .x invalid");
	is_int(ref_check_tag("", &e), -EINVAL, "empty tag invalid");
	ref_parse("img@sha512:" H64 H64, 0, &r, &e);
	ok(strstr(e.msg, "sha256") != NULL, "unsupported algorithm says so: %s", e.msg);
}

int main(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++)
		check_row(&rows[i]);
	test_lengths();
	test_accessors();
	return done_testing();
}
