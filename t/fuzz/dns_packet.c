/* Fuzz target for the DNS server's packet handling (net/dns.c): the input
 * is one UDP datagram from a (hostile) guest.  dns_respond must decide
 * without crashing, looping or reading past the input, a reply must fit
 * the buffer and echo the id, and every name read must be bounded text. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/err.h"
#include "net/dns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct dns_name_entry names[] = {
	{ "db", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", 0x0a000002u },
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dns_zone z = { names, 1, 0x0a000001u, "test", false };
	uint8_t out[DNS_UDP_MAX];
	struct dns_query q;
	struct err e = ERR_INIT;
	size_t len = 0;

	if (size > DNS_UDP_MAX)
		return 0;
	if (dns_parse_query(data, size, &q, &e) == 0) {
		if (strlen(q.name) > DNS_NAME_WIRE_MAX - 2 && q.name[0])
			abort();
	} else if (!e.msg[0]) {
		abort();
	}
	for (int internal = 0; internal < 2; internal++) {
		z.internal = internal;
		switch (dns_respond(&z, data, size, out, sizeof(out), &len)) {
		case DNS_REPLY:
			if (len < DNS_HDR || len > sizeof(out) || out[0] != data[0] || out[1] != data[1] ||
			    !(out[2] & 0x80))
				abort();
			break;
		case DNS_FORWARD:
			if (internal)
				abort();   /* an internal network never forwards */
			break;
		case DNS_DROP:
			break;
		}
	}
	/* every offset as the start of a name: bounded whatever the bytes */
	for (size_t off = 0; off < size && off < 64; off++) {
		char txt[DNS_NAME_WIRE_MAX + 1];
		bool plain;
		size_t o = off;
		if (dns_name_read(data, size, &o, txt, &plain, &e) == 0 &&
		    (o <= off || o > size || strlen(txt) > DNS_NAME_WIRE_MAX - 2))
			abort();
	}
	return 0;
}
