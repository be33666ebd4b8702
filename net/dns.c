/* DNS packet parsing and building (net/dns.h).  Everything a guest sends
 * is read through dns_name_read's bounds: lengths against the packet,
 * labels <= 63, names <= 255, pointers strictly backwards and few. */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "lib/err.h"
#include "net/dns.h"

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

int dns_name_read(const uint8_t *p, size_t n, size_t *off, char *out, bool *plain,
		  struct err *e)
{
	size_t pos = *off, wire = 0, olen = 0, end = 0;
	size_t limit = *off;   /* a pointer must go below the start of what it leaves */
	unsigned hops = 0;
	bool jumped = false;

	*plain = true;
	out[0] = '\0';
	for (;;) {
		uint8_t len;
		if (pos >= n)
			return err_set(e, -EBADMSG, "name runs past the packet");
		len = p[pos];
		if ((len & 0xc0) == 0xc0) {
			size_t to;
			if (pos + 1 >= n)
				return err_set(e, -EBADMSG, "truncated compression pointer");
			to = (size_t)(len & 0x3f) << 8 | p[pos + 1];
			if (to >= limit)
				return err_set(e, -EBADMSG, "compression pointer does not point backwards");
			if (++hops > DNS_PTR_HOPS_MAX)
				return err_set(e, -EBADMSG, "too many compression pointers");
			if (!jumped)
				end = pos + 2;
			jumped = true;
			limit = to;
			pos = to;
			continue;
		}
		if (len & 0xc0)
			return err_set(e, -EBADMSG, "reserved label type 0x%02x", len & 0xc0);
		wire += 1u + len;
		if (wire > DNS_NAME_WIRE_MAX)
			return err_set(e, -EBADMSG, "name longer than 255 bytes");
		if (len == 0) {
			if (!jumped)
				end = pos + 1;
			break;
		}
		if (pos + 1 + len > n)
			return err_set(e, -EBADMSG, "label runs past the packet");
		if (olen)
			out[olen++] = '.';
		for (size_t i = 0; i < len; i++) {
			uint8_t c = p[pos + 1 + i];
			if (c >= 'A' && c <= 'Z')
				c = (uint8_t)(c - 'A' + 'a');
			if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_')) {
				*plain = false;
				c = '?';   /* text is for matching only; a non-plain name never matches */
			}
			out[olen++] = (char)c;
		}
		pos += 1u + len;
	}
	/* wire <= 255 bounds olen: each label adds len + 1 text bytes */
	out[olen] = '\0';
	*off = end;
	return 0;
}

int dns_parse_query(const uint8_t *p, size_t n, struct dns_query *q, struct err *e)
{
	size_t off = DNS_HDR;
	int rc;

	memset(q, 0, sizeof(*q));
	if (n < DNS_HDR)
		return err_set(e, -EBADMSG, "shorter than a header (%zu bytes)", n);
	q->id = get16(p);
	q->flags = get16(p + 2);
	if (q->flags & 0x8000)
		return err_set(e, -EBADMSG, "a response, not a query");
	if ((q->flags >> 11 & 15) != 0)
		return err_set(e, -ENOTSUP, "opcode %u", q->flags >> 11 & 15);
	if (get16(p + 4) != 1)
		return err_set(e, -EBADMSG, "%u questions (want 1)", get16(p + 4));
	if ((rc = dns_name_read(p, n, &off, q->name, &q->plain, e)) < 0)
		return rc;
	if (off + 4 > n)
		return err_set(e, -EBADMSG, "truncated question");
	q->qtype = get16(p + off);
	q->qclass = get16(p + off + 2);
	return 0;
}

/* The text name back to wire labels; only plain names are re-encoded. */
static int put_name(const char *name, uint8_t *out, size_t cap)
{
	size_t o = 0;
	const char *s = name;

	while (*s) {
		size_t l = strcspn(s, ".");
		if (l == 0 || l > DNS_LABEL_MAX || o + 1 + l >= cap)
			return -ENOSPC;
		out[o++] = (uint8_t)l;
		memcpy(out + o, s, l);
		o += l;
		s += l;
		if (*s == '.')
			s++;
	}
	if (o + 1 > cap)
		return -ENOSPC;
	out[o++] = 0;
	return (int)o;
}

int dns_build_reply(const struct dns_query *q, int rcode, bool authoritative,
		    const uint32_t *a, size_t na, uint8_t *out, size_t cap)
{
	size_t o = DNS_HDR;
	int k;
	/* QR, the request's opcode and RD, RA (we recurse through upstream) */
	unsigned flags = 0x8000 | (q->flags & 0x7900) | 0x0080 | (unsigned)(rcode & 15);

	if (authoritative)
		flags |= 0x0400;
	if (cap < DNS_HDR)
		return -ENOSPC;
	memset(out, 0, DNS_HDR);
	put16(out, q->id);
	put16(out + 2, flags);
	put16(out + 4, 1);
	if ((k = put_name(q->name, out + o, cap - o)) < 0)
		return k;
	o += (size_t)k;
	if (o + 4 > cap)
		return -ENOSPC;
	put16(out + o, q->qtype);
	put16(out + o + 2, q->qclass);
	o += 4;
	for (size_t i = 0; i < na; i++) {
		if (o + 16 > cap)
			return -ENOSPC;
		put16(out + o, 0xc000 | DNS_HDR);   /* the question's name */
		put16(out + o + 2, DNS_T_A);
		put16(out + o + 4, DNS_C_IN);
		put16(out + o + 6, 0);
		put16(out + o + 8, DNS_TTL);
		put16(out + o + 10, 4);
		out[o + 12] = (uint8_t)(a[i] >> 24);
		out[o + 13] = (uint8_t)(a[i] >> 16);
		out[o + 14] = (uint8_t)(a[i] >> 8);
		out[o + 15] = (uint8_t)a[i];
		o += 16;
	}
	put16(out + 6, (unsigned)na);
	return (int)o;
}

int dns_build_error(const uint8_t *req, size_t n, int rcode, uint8_t *out, size_t cap)
{
	if (n < DNS_HDR)
		return -EBADMSG;
	if (cap < DNS_HDR)
		return -ENOSPC;
	memset(out, 0, DNS_HDR);
	out[0] = req[0];
	out[1] = req[1];
	put16(out + 2, 0x8000 | (get16(req + 2) & 0x7900) | 0x0080 | (unsigned)(rcode & 15));
	return DNS_HDR;
}

/* name == base or name == base "." domain */
static bool name_is(const char *name, const char *base, const char *domain)
{
	size_t bl = strlen(base);

	if (strncasecmp(name, base, bl) != 0)
		return false;
	if (name[bl] == '\0')
		return true;
	return domain && name[bl] == '.' && strcasecmp(name + bl + 1, domain) == 0;
}

static bool lookup(const struct dns_zone *z, const char *name, uint32_t *ip)
{
	size_t nl = strlen(name);

	if (name_is(name, "host.container.internal", NULL) ||
	    name_is(name, "host.docker.internal", NULL)) {
		*ip = z->gateway;
		return true;
	}
	for (size_t i = 0; i < z->n; i++)
		if (name_is(name, z->v[i].name, z->domain)) {
			*ip = z->v[i].ip;
			return true;
		}
	/* a short (>= 12) or full id, bare or under the domain */
	if (z->domain && nl > strlen(z->domain) + 1 &&
	    strcasecmp(name + nl - strlen(z->domain), z->domain) == 0 &&
	    name[nl - strlen(z->domain) - 1] == '.')
		nl -= strlen(z->domain) + 1;
	if (nl < 12 || nl > 64 || strspn(name, "0123456789abcdef") < nl)
		return false;
	for (size_t i = 0; i < z->n; i++)
		if (z->v[i].id && strncmp(z->v[i].id, name, nl) == 0) {
			*ip = z->v[i].ip;
			return true;
		}
	return false;
}

static bool under_domain(const struct dns_zone *z, const char *name)
{
	size_t nl = strlen(name), dl = z->domain ? strlen(z->domain) : 0;

	return dl && (strcasecmp(name, z->domain) == 0 ||
		      (nl > dl && name[nl - dl - 1] == '.' && strcasecmp(name + nl - dl, z->domain) == 0));
}

enum dns_action dns_respond(const struct dns_zone *z, const uint8_t *p, size_t n, uint8_t *out,
			    size_t cap, size_t *len)
{
	struct dns_query q;
	struct err e = ERR_INIT;
	uint32_t ip;
	int rc = dns_parse_query(p, n, &q, &e), k;

	if (rc < 0) {
		/* a response (QR set) is never answered: no reflection loops */
		if (n < DNS_HDR || (p[2] & 0x80))
			return DNS_DROP;
		k = dns_build_error(p, n, rc == -ENOTSUP ? DNS_NOTIMP : DNS_FORMERR, out, cap);
		if (k < 0)
			return DNS_DROP;
		*len = (size_t)k;
		return DNS_REPLY;
	}
	if (q.plain && q.qclass == DNS_C_IN && lookup(z, q.name, &ip)) {
		bool a = q.qtype == DNS_T_A || q.qtype == DNS_T_ANY;
		/* NODATA for AAAA and the rest: the name exists, without that type */
		k = dns_build_reply(&q, DNS_NOERROR, true, &ip, a ? 1 : 0, out, cap);
	} else if (q.plain && under_domain(z, q.name)) {
		k = dns_build_reply(&q, DNS_NXDOMAIN, true, NULL, 0, out, cap);
	} else if (!z->internal) {
		return DNS_FORWARD;
	} else if (q.plain) {
		k = dns_build_reply(&q, DNS_REFUSED, false, NULL, 0, out, cap);
	} else {
		k = dns_build_error(p, n, DNS_REFUSED, out, cap);
	}
	if (k < 0)
		return DNS_DROP;
	*len = (size_t)k;
	return DNS_REPLY;
}
