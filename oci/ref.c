/* Image reference parsing and normalization (see oci/ref.h).  A hand
 * written matcher for the distribution/reference grammar: no regex engine,
 * every byte of the input is looked at by exactly one rule below. */
#include <errno.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "oci/ref.h"

#define HUB_DOMAIN "docker.io"
#define HUB_LEGACY_DOMAIN "index.docker.io"
#define HUB_HOST "registry-1.docker.io"
#define HUB_OFFICIAL "library/"

static int is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static int is_alnum(char c)
{
	return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

static int is_word(char c)
{
	return is_alnum(c) || c == '_';
}

static int is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Copy of the input fit for an error message: bounded, and with control
 * and non-ASCII bytes replaced so a hostile reference cannot write escape
 * sequences to a terminal. */
static const char *quote(const char *s, char out[static 96])
{
	size_t i;

	for (i = 0; s[i] && i < 95; i++)
		out[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	out[i] = '\0';
	if (s[i] && i >= 3)
		memcpy(out + i - 3, "...", 3);
	return out;
}

/* path-component := [a-z0-9]+ ( ('.' | '_' | '__' | '-'+) [a-z0-9]+ )* */
static int valid_component(const char *p, size_t n)
{
	size_t i = 0;

	for (;;) {
		size_t start = i;
		while (i < n && is_lower_alnum(p[i]))
			i++;
		if (i == start)
			return 0;
		if (i == n)
			return 1;
		if (p[i] == '.') {
			i++;
		} else if (p[i] == '_') {
			i++;
			if (i < n && p[i] == '_')
				i++;
		} else if (p[i] == '-') {
			while (i < n && p[i] == '-')
				i++;
		} else {
			return 0;
		}
	}
}

static int valid_path(const char *p, size_t n)
{
	size_t start = 0;

	for (size_t i = 0; i <= n; i++) {
		if (i == n || p[i] == '/') {
			if (!valid_component(p + start, i - start))
				return 0;
			start = i + 1;
		}
	}
	return 1;
}

/* domain-component := [A-Za-z0-9] | [A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9] */
static int valid_host_label(const char *p, size_t n)
{
	if (n == 0 || !is_alnum(p[0]) || !is_alnum(p[n - 1]))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!is_alnum(p[i]) && p[i] != '-')
			return 0;
	return 1;
}

/* domain := host [':' port]; host := domain-name | '[' IPv6 ']' */
static int valid_domain(const char *p, size_t n)
{
	size_t hostlen = n, start = 0;
	const char *colon;

	if (n > 0 && p[0] == '[') {
		const char *close = memchr(p, ']', n);
		size_t i;
		if (!close || close == p + 1)
			return 0;
		for (i = 1; p + i < close; i++)
			if (!is_hex(p[i]) && p[i] != ':')
				return 0;
		hostlen = (size_t)(close - p) + 1;
	} else {
		colon = memchr(p, ':', n);
		if (colon)
			hostlen = (size_t)(colon - p);
		for (size_t i = 0; i <= hostlen; i++) {
			if (i == hostlen || p[i] == '.') {
				if (!valid_host_label(p + start, i - start))
					return 0;
				start = i + 1;
			}
		}
	}
	if (hostlen == n)
		return 1;
	if (p[hostlen] != ':' || hostlen + 1 == n)
		return 0;
	for (size_t i = hostlen + 1; i < n; i++)
		if (p[i] < '0' || p[i] > '9')
			return 0;
	return 1;
}

static int valid_tag(const char *t, size_t n)
{
	if (n == 0 || n > REF_TAG_MAX || !is_word(t[0]))
		return 0;
	for (size_t i = 1; i < n; i++)
		if (!is_word(t[i]) && t[i] != '.' && t[i] != '-')
			return 0;
	return 1;
}

/* digest := algorithm ':' hex, algorithm := [A-Za-z][A-Za-z0-9]* joined
 * by [+._-], hex := [0-9a-fA-F]{32,}.  Only sha256 is accepted after
 * that, by digest_parse, so that the message distinguishes "not a digest"
 * from "a digest we do not support". */
static int parse_digest(const char *s, const char *in, struct digest *out, struct err *e)
{
	const char *colon = strchr(s, ':');
	char q[96];
	size_t i, alen;
	int want_alpha = 1;

	if (!colon)
		return err_set(e, -EINVAL, "invalid reference \"%s\": digest has no algorithm",
			       quote(in, q));
	alen = (size_t)(colon - s);
	for (i = 0; i < alen; i++) {
		char c = s[i];
		if (want_alpha) {
			if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
				goto bad;
			want_alpha = 0;
		} else if (c == '+' || c == '.' || c == '_' || c == '-') {
			want_alpha = 1;
		} else if (!is_alnum(c)) {
			goto bad;
		}
	}
	if (want_alpha)
		goto bad;
	for (i = alen + 1; s[i]; i++)
		if (!is_hex(s[i]))
			goto bad;
	if (i - alen - 1 < 32)
		goto bad;
	if (alen != 6 || memcmp(s, "sha256", 6) != 0)
		return err_set(
		    e, -EINVAL,
		    "invalid reference \"%s\": unsupported digest algorithm (only sha256)",
		    quote(in, q));
	if (digest_parse(s, out, e) < 0)
		return err_wrap(e, "invalid reference \"%s\"", quote(in, q));
	return 0;
bad:
	return err_set(e, -EINVAL, "invalid reference \"%s\": malformed digest", quote(in, q));
}

/* memrchr is a GNU extension (absent on macOS). */
static const char *last_of(const char *p, char c, size_t n)
{
	while (n-- > 0)
		if (p[n] == c)
			return p + n;
	return NULL;
}

static int all_lower_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

static int has_upper(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] >= 'A' && s[i] <= 'Z')
			return 1;
	return 0;
}

/* Docker's splitDockerDomain: is the text before the first '/' a domain? */
static int looks_like_domain(const char *p, size_t n)
{
	return memchr(p, '.', n) || memchr(p, ':', n) ||
	       (n == 9 && memcmp(p, "localhost", 9) == 0) || has_upper(p, n);
}

static int split_name(const char *name, size_t n, const char *in, struct ref *out, struct err *e)
{
	const char *slash = memchr(name, '/', n);
	const char *rest = name;
	size_t dlen, rlen = n;
	char q[96];

	if (slash && looks_like_domain(name, (size_t)(slash - name))) {
		dlen = (size_t)(slash - name);
		if (!valid_domain(name, dlen))
			return err_set(e, -EINVAL,
				       "invalid reference \"%s\": invalid registry domain",
				       quote(in, q));
		if (dlen == strlen(HUB_LEGACY_DOMAIN) &&
		    memcmp(name, HUB_LEGACY_DOMAIN, dlen) == 0) {
			strcpy(out->domain, HUB_DOMAIN);
		} else {
			if (dlen > REF_NAME_MAX)
				goto toolong;
			memcpy(out->domain, name, dlen);
			out->domain[dlen] = '\0';
		}
		rest = slash + 1;
		rlen = n - dlen - 1;
	} else {
		strcpy(out->domain, HUB_DOMAIN);
	}
	if (has_upper(rest, rlen))
		return err_set(e, -EINVAL,
			       "invalid reference \"%s\": repository name must be lowercase",
			       quote(in, q));
	if (!valid_path(rest, rlen))
		return err_set(e, -EINVAL, "invalid reference \"%s\": invalid repository name",
			       quote(in, q));
	out->path[0] = '\0';
	if (strcmp(out->domain, HUB_DOMAIN) == 0 && !memchr(rest, '/', rlen))
		strcpy(out->path, HUB_OFFICIAL);
	if (strlen(out->domain) + 1 + strlen(out->path) + rlen > REF_NAME_MAX)
		goto toolong;
	strncat(out->path, rest, rlen);
	return 0;
toolong:
	return err_set(e, -EINVAL, "invalid reference \"%s\": name longer than %d characters",
		       quote(in, q), REF_NAME_MAX);
}

int ref_parse(const char *s, int flags, struct ref *out, struct err *e)
{
	size_t len = strnlen(s, REF_INPUT_MAX + 1), name_len;
	const char *at, *slash, *colon;
	struct ref r;
	char q[96];
	int rc;

	memset(&r, 0, sizeof(r));
	if (len == 0)
		return err_set(e, -EINVAL, "invalid reference: empty");
	if (len > REF_INPUT_MAX)
		return err_set(e, -EINVAL, "invalid reference \"%s\": longer than %d characters",
			       quote(s, q), REF_INPUT_MAX);
	if (len == DIGEST_HEX_LEN && all_lower_hex(s, len))
		return err_set(e, -EINVAL,
			       "invalid reference \"%s\": a 64-character hex string is an image "
			       "id, not a name",
			       quote(s, q));

	at = strchr(s, '@');
	name_len = at ? (size_t)(at - s) : len;
	if (at) {
		rc = parse_digest(at + 1, s, &r.digest, e);
		if (rc < 0)
			return rc;
		r.has_digest = 1;
	}

	/* A tag is after the last ':' that follows the last '/'. */
	slash = last_of(s, '/', name_len);
	colon = last_of(slash ? slash : s, ':', name_len - (size_t)((slash ? slash : s) - s));
	if (colon) {
		size_t tlen = name_len - (size_t)(colon - s) - 1;
		if (!valid_tag(colon + 1, tlen))
			return err_set(e, -EINVAL, "invalid reference \"%s\": invalid tag",
				       quote(s, q));
		memcpy(r.tag, colon + 1, tlen);
		r.tag[tlen] = '\0';
		name_len = (size_t)(colon - s);
	}
	if (name_len == 0)
		return err_set(e, -EINVAL, "invalid reference \"%s\": empty repository name",
			       quote(s, q));
	rc = split_name(s, name_len, s, &r, e);
	if (rc < 0)
		return rc;
	if (!r.tag[0] && !r.has_digest && !(flags & REF_NO_DEFAULT_TAG)) {
		strcpy(r.tag, "latest");
		r.tag_implied = 1;
	}
	*out = r;
	return 0;
}

int ref_check_tag(const char *tag, struct err *e)
{
	char q[96];

	if (!valid_tag(tag, strnlen(tag, REF_TAG_MAX + 1)))
		return err_set(e, -EINVAL, "invalid tag \"%s\"", quote(tag, q));
	return 0;
}

static void put_tag_digest(const struct ref *r, struct buf *out)
{
	if (r->tag[0]) {
		buf_putc(out, ':');
		buf_puts(out, r->tag);
	}
	if (r->has_digest) {
		buf_putc(out, '@');
		buf_puts(out, r->digest.s);
	}
}

void ref_format_repo(const struct ref *r, struct buf *out)
{
	buf_puts(out, r->domain);
	buf_putc(out, '/');
	buf_puts(out, r->path);
}

void ref_format(const struct ref *r, struct buf *out)
{
	ref_format_repo(r, out);
	put_tag_digest(r, out);
}

void ref_format_familiar(const struct ref *r, struct buf *out)
{
	const char *p = r->path;
	size_t off = strlen(HUB_OFFICIAL);

	/* "docker.io/localhost/x" must not lose its domain: the short form
	 * would name another registry. */
	if (strcmp(r->domain, HUB_DOMAIN) != 0 || looks_like_domain(p, strcspn(p, "/"))) {
		ref_format(r, out);
		return;
	}
	if (strncmp(p, HUB_OFFICIAL, off) == 0 && !strchr(p + off, '/'))
		p += off;
	buf_puts(out, p);
	put_tag_digest(r, out);
}

const char *ref_registry_host(const struct ref *r)
{
	return strcmp(r->domain, HUB_DOMAIN) == 0 ? HUB_HOST : r->domain;
}

int ref_is_loopback(const struct ref *r)
{
	const char *d = r->domain;
	size_t hostlen = strcspn(d, ":");

	if (strncmp(d, "[::1]", 5) == 0)
		return d[5] == '\0' || d[5] == ':';
	if (hostlen == 9 && strncmp(d, "localhost", 9) == 0)
		return 1;
	/* 127.0.0.0/8: four numeric labels, the first one 127 */
	if (strncmp(d, "127.", 4) == 0) {
		int dots = 0;
		for (size_t i = 0; i < hostlen; i++) {
			if (d[i] == '.')
				dots++;
			else if (d[i] < '0' || d[i] > '9')
				return 0;
		}
		return dots == 3;
	}
	return 0;
}
