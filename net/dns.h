/* DNS packets (RFC 1035) for the network helper's server: a bounded parser
 * of queries that never allocates and never follows a compression pointer
 * forwards or in a loop (RFC 9267), and a builder of answers into a
 * caller's buffer.  Also the server's decision as a pure function
 * (dns_respond), so the fuzz target (t/fuzz/dns_packet.c) exercises
 * exactly what a packet from a guest reaches.  No I/O here; the sockets
 * are applets/network_helper.c's.  Tested by t/unit/net_dns.c. */
#ifndef NET_DNS_H
#define NET_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct err;

#define DNS_HDR 12
#define DNS_NAME_WIRE_MAX 255   /* RFC 1035 2.3.4, wire form incl. length bytes */
#define DNS_LABEL_MAX 63
#define DNS_PTR_HOPS_MAX 32     /* a name of 255 bytes has at most 127 labels;
				 * pointers only go backwards, so this bounds work */
#define DNS_UDP_MAX 4096        /* what we read and answer over UDP */
#define DNS_TTL 10              /* our answers: containers come and go */

enum { DNS_T_A = 1, DNS_T_AAAA = 28, DNS_T_ANY = 255 };
enum { DNS_C_IN = 1 };
enum { DNS_NOERROR = 0, DNS_FORMERR = 1, DNS_SERVFAIL = 2, DNS_NXDOMAIN = 3, DNS_NOTIMP = 4,
       DNS_REFUSED = 5 };

struct dns_query {
	uint16_t id;
	uint16_t flags;          /* as received */
	/* the question's name as text, lower-cased, without the final dot;
	 * "" is the root.  plain: every label is [a-z0-9_-] (a name we
	 * could own); otherwise the text is not meaningful (forward only). */
	char name[DNS_NAME_WIRE_MAX + 1];
	bool plain;
	uint16_t qtype, qclass;
};

/* Read a (possibly compressed) name at *off of p[0..n) into out (text,
 * lower-cased, at most DNS_NAME_WIRE_MAX bytes + NUL), advancing *off past
 * it in the original position.  -EBADMSG: truncated, a label over 63, a
 * name over 255, a pointer that does not point strictly backwards, too
 * many pointers, reserved label types. */
int dns_name_read(const uint8_t *p, size_t n, size_t *off, char *out, bool *plain,
		  struct err *e);

/* Parse a query: header, exactly one question (QDCOUNT must be 1), QR
 * clear, opcode QUERY.  -EBADMSG with a reason otherwise; -ENOTSUP for
 * opcodes other than QUERY (answer NOTIMP).  Trailing records (EDNS OPT)
 * are ignored. */
int dns_parse_query(const uint8_t *p, size_t n, struct dns_query *q, struct err *e);

/* Build a response to q into out[0..cap): the question re-encoded from its
 * text (so nothing of the request's compression is echoed), then na A
 * records (addresses host order) with TTL DNS_TTL.  Returns the length, or
 * -ENOSPC. */
int dns_build_reply(const struct dns_query *q, int rcode, bool authoritative,
		    const uint32_t *a, size_t na, uint8_t *out, size_t cap);

/* A bare error reply when the question could not be parsed: the header's
 * id, QR set, rcode, no sections.  -EBADMSG for fewer than 12 bytes (no
 * id to answer: drop). */
int dns_build_error(const uint8_t *req, size_t n, int rcode, uint8_t *out, size_t cap);

/* What the server knows: the names of one network. */
struct dns_name_entry {
	const char *name;       /* container name */
	const char *id;         /* full 64-hex id */
	uint32_t ip;
};

struct dns_zone {
	const struct dns_name_entry *v;
	size_t n;
	uint32_t gateway;       /* host.container.internal, host.docker.internal */
	const char *domain;     /* "test": <name>.test */
	bool internal;          /* never forward */
};

enum dns_action { DNS_DROP, DNS_REPLY, DNS_FORWARD };

/* Decide about one packet from a client: a reply written to out (*len),
 * forward the packet unchanged to an upstream resolver, or drop it.
 * Names we own (container names, <name>.<domain>, id prefixes of >= 12,
 * the host aliases) get A answers, and NODATA (NOERROR, no answer) for
 * other types; other names under <domain> get NXDOMAIN; the rest is
 * forwarded, or NXDOMAIN... REFUSED on an internal network. */
enum dns_action dns_respond(const struct dns_zone *z, const uint8_t *p, size_t n, uint8_t *out,
			    size_t cap, size_t *len);

#endif
