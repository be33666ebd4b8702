/* net/dns.c: query parsing under RFC 9267's malformed-packet cases,
 * answers, and the server's decisions (dns_respond). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/err.h"
#include "net/dns.h"
#include "t/tap.h"

static size_t pkt;
static uint8_t P[1024];

static void hdr(unsigned qd, unsigned flags)
{
	memset(P, 0, sizeof(P));
	P[0] = 0xab;
	P[1] = 0xcd;
	P[2] = (uint8_t)(flags >> 8);
	P[3] = (uint8_t)flags;
	P[5] = (uint8_t)qd;
	pkt = 12;
}

static void raw(const void *p, size_t n)
{
	memcpy(P + pkt, p, n);
	pkt += n;
}

static void name(const char *s)
{
	while (*s) {
		size_t l = strcspn(s, ".");
		P[pkt++] = (uint8_t)l;
		raw(s, l);
		s += l;
		if (*s)
			s++;
	}
	P[pkt++] = 0;
}

static void qtail(unsigned type)
{
	uint8_t t[4] = { (uint8_t)(type >> 8), (uint8_t)type, 0, 1 };
	raw(t, 4);
}

static void query(const char *n, unsigned type)
{
	hdr(1, 0x0100);
	name(n);
	qtail(type);
}

static int parse(struct dns_query *q)
{
	struct err e = ERR_INIT;
	return dns_parse_query(P, pkt, q, &e);
}

static const struct dns_name_entry names[] = {
	{ "db", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", 0x0a000002u },
	{ "web-1", "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210", 0x0a000003u },
};

static enum dns_action respond(bool internal, uint8_t *out, size_t *len)
{
	struct dns_zone z = { names, 2, 0x0a000001u, "test", internal };
	return dns_respond(&z, P, pkt, out, 512, len);
}

int main(void)
{
	struct dns_query q;
	uint8_t out[512];
	size_t len;

	query("Db.Test", 1);
	is_int(parse(&q), 0, "a query parses");
	is_str(q.name, "db.test", "... name lower-cased, no final dot");
	ok(q.plain && q.qtype == 1 && q.qclass == 1 && q.id == 0xabcd, "... type, class, id");

	/* RFC 9267 and friends */
	hdr(1, 0x0100);
	raw("\xc0\x0c", 2);
	qtail(1);
	is_int(parse(&q), -EBADMSG, "a pointer to itself is refused");
	hdr(1, 0x0100);
	raw("\x01" "a\xc0\x0c", 4);
	qtail(1);
	is_int(parse(&q), -EBADMSG, "a loop through an earlier label of the same name is refused");
	hdr(1, 0x0100);
	raw("\xc0\x20", 2);
	qtail(1);
	pkt = 64;
	is_int(parse(&q), -EBADMSG, "a forward pointer is refused");
	hdr(1, 0x0100);
	raw("\xc0\x02", 2);   /* into the header, backwards: allowed, bounded */
	qtail(1);
	ok(parse(&q) <= 0, "a pointer into the header is read within bounds");
	hdr(1, 0x0100);
	raw("\x40", 1);
	for (int i = 0; i < 64; i++)
		raw("a", 1);
	raw("\0", 1);
	qtail(1);
	is_int(parse(&q), -EBADMSG, "a label type 0x40 (length 64) is refused");
	hdr(1, 0x0100);
	raw("\x80\x01", 2);
	qtail(1);
	is_int(parse(&q), -EBADMSG, "the reserved label type 0x80 is refused");
	hdr(1, 0x0100);
	for (int k = 0; k < 5; k++) {
		raw("\x3f", 1);
		for (int i = 0; i < 63; i++)
			raw("a", 1);
	}
	raw("\0", 1);
	qtail(1);
	is_int(parse(&q), -EBADMSG, "a name over 255 bytes is refused");
	hdr(1, 0x0100);
	for (int k = 0; k < 3; k++) {
		raw("\x3f", 1);
		for (int i = 0; i < 63; i++)
			raw("b", 1);
	}
	raw("\x3d", 1);
	for (int i = 0; i < 61; i++)
		raw("c", 1);
	raw("\0", 1);
	qtail(1);
	is_int(parse(&q), 0, "a name of exactly 255 bytes is accepted");
	is_int(strlen(q.name), 253, "... 253 characters of text");
	hdr(1, 0x0100);
	raw("\x05" "ab", 3);
	is_int(parse(&q), -EBADMSG, "a label running past the packet is refused");
	query("a", 1);
	pkt -= 2;
	is_int(parse(&q), -EBADMSG, "a truncated question is refused");
	pkt = 11;
	is_int(parse(&q), -EBADMSG, "a truncated header is refused");
	query("a", 1);
	P[5] = 2;
	is_int(parse(&q), -EBADMSG, "qdcount 2 is refused");
	P[5] = 0;
	is_int(parse(&q), -EBADMSG, "qdcount 0 is refused");
	P[4] = 0xff;
	P[5] = 0xff;
	is_int(parse(&q), -EBADMSG, "qdcount 65535 (a lie) is refused without reading on");
	query("a", 1);
	P[2] |= 0x80;
	is_int(parse(&q), -EBADMSG, "a response is not a query");
	query("a", 1);
	P[2] = 0x28;   /* opcode 5, UPDATE */
	is_int(parse(&q), -ENOTSUP, "other opcodes: not supported");
	/* a chain of backward pointers longer than DNS_PTR_HOPS_MAX */
	hdr(1, 0x0100);
	pkt = 12 + 4;
	{
		size_t at = pkt;
		P[at] = 0;   /* the root, at the far end */
		for (int i = 1; i <= 40; i++) {
			size_t here = at + 2 * (size_t)i - 1;
			size_t prev = i == 1 ? at : here - 2;
			P[here] = (uint8_t)(0xc0 | prev >> 8);
			P[here + 1] = (uint8_t)prev;
		}
		/* the question's name at 12: a pointer to the last link */
		P[12] = 0xc0;
		P[13] = (uint8_t)(at + 79);
		pkt = at + 81;
		P[14] = 0;
		P[15] = 1;
	}
	{
		struct err e = ERR_INIT;
		size_t off = 16 + 79;   /* the last link: every pointer goes backwards */
		char txt[256];
		bool plain;
		is_int(dns_name_read(P, pkt, &off, txt, &plain, &e), -EBADMSG,
		       "a name through 40 backward pointers is refused (at most %d)", DNS_PTR_HOPS_MAX);
		ok(strstr(e.msg, "too many") != NULL, "... for the number of pointers (%s)", e.msg);
		off = 16 + 2 * 20 - 1;
		is_int(dns_name_read(P, pkt, &off, txt, &plain, &e), 0, "a chain of 20 is followed");
		ok(off == 16 + 2 * 20 + 1 && txt[0] == '\0', "... to the root, resuming after the first pointer");
	}
	query("a\x01" "b", 1);
	P[12] = 3;   /* one label "a\x01b" */
	parse(&q);
	ok(!q.plain, "a label with a control byte is not plain (never ours, forward only)");

	/* answers */
	query("db", 1);
	is_int(respond(false, out, &len), DNS_REPLY, "db: answered");
	ok(len == pkt + 16 && out[0] == 0xab && out[1] == 0xcd && (out[2] & 0x84) == 0x84 &&
	   (out[3] & 15) == 0 && out[7] == 1, "... id kept, QR AA, NOERROR, one answer");
	ok(memcmp(out + len - 4, "\x0a\x00\x00\x02", 4) == 0, "... 10.0.0.2");
	query("WEB-1.test", 1);
	respond(false, out, &len);
	ok(out[7] == 1 && memcmp(out + len - 4, "\x0a\x00\x00\x03", 4) == 0, "<name>.test: answered");
	query("fedcba987654", 1);
	respond(false, out, &len);
	ok(out[7] == 1 && out[len - 1] == 3, "a short id (12 hex): answered");
	query("fedcba98765", 1);
	is_int(respond(false, out, &len), DNS_FORWARD, "11 hex digits is not an id: forwarded");
	query("host.docker.internal", 1);
	respond(false, out, &len);
	ok(out[7] == 1 && out[len - 1] == 1, "host.docker.internal: the gateway");
	query("db", 28);
	respond(false, out, &len);
	ok((out[3] & 15) == 0 && out[7] == 0, "AAAA db: NODATA (NOERROR, no answer)");
	query("nosuch.test", 1);
	respond(false, out, &len);
	ok((out[3] & 15) == 3, "an unknown name under .test: NXDOMAIN");
	query("example.com", 1);
	is_int(respond(false, out, &len), DNS_FORWARD, "example.com: forwarded");
	is_int(respond(true, out, &len), DNS_REPLY, "... but not on an internal network");
	ok((out[3] & 15) == 5, "... REFUSED there");
	hdr(1, 0x0100);
	raw("\xc0\x0c", 2);
	qtail(1);
	is_int(respond(false, out, &len), DNS_REPLY, "a malformed query is answered");
	ok(len == 12 && (out[3] & 15) == 1 && out[5] == 0, "... FORMERR, no sections");
	pkt = 5;
	is_int(respond(false, out, &len), DNS_DROP, "a packet without a header is dropped");
	query("db", 1);
	P[2] |= 0x80;
	is_int(respond(false, out, &len), DNS_DROP, "a response sent to us is dropped (no loops)");
	return done_testing();
}
