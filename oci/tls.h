/* TLS client connections over mbedTLS, for oci/http.c.
 *
 * One tls_config per HTTP client holds the trust anchors and the random
 * generator; it is shared by all connections of that client (and threads:
 * the generator is locked).  Verification is always required, the server
 * name is always sent (SNI) and checked (mbedtls_ssl_set_hostname).  mbedTLS
 * error codes are mapped here, once, to a negative errno and one sentence:
 * "TLS: certificate for 127.0.0.1 not trusted (unknown CA)".
 *
 * Trust anchors: $SSL_CERT_FILE if set, else the first system bundle found
 * (Debian/Alpine /etc/ssl/certs/ca-certificates.crt, Fedora
 * /etc/pki/tls/certs/ca-bundle.crt, macOS and BSDs /etc/ssl/cert.pem), plus
 * an optional extra CA file (the per-registry or test CA).
 *
 * Note: mbedTLS 2.28 checks dNSName SANs and the CN only, not iPAddress
 * SANs; a registry addressed by IP needs that IP as a dNSName too. */
#ifndef OCI_TLS_H
#define OCI_TLS_H

#include <stddef.h>
#include <sys/types.h>

struct err;
struct tls_config;
struct tls_conn;

/* extra_ca_file may be NULL.  Fails if extra_ca_file cannot be loaded; a
 * missing system bundle is not an error here (handshakes will then fail
 * with "not trusted"). */
struct tls_config *tls_config_new(const char *extra_ca_file, struct err *e);
void tls_config_free(struct tls_config *c);
/* How many trust anchors were loaded (for diagnostics and tests). */
int tls_config_ca_count(const struct tls_config *c);

/* Handshake over a connected socket (borrowed: tls_close does not close
 * it), verifying the certificate against host.  timeout_ms bounds each
 * wait for the peer.  The config keeps the last session made and offers
 * it to the next handshake with the same host and port (resumption: the
 * parallel connections of a pull skip the key exchange). */
int tls_connect(struct tls_config *c, int fd, const char *host, int port, int timeout_ms,
		struct tls_conn **out, struct err *e);
/* Returns bytes read, 0 at end of stream (close_notify or TCP EOF: the
 * HTTP framing above detects truncation), or a negative errno.  Returns
 * as soon as one record is decrypted, plus any further records that have
 * already arrived whole (up to n). */
ssize_t tls_read(struct tls_conn *t, void *p, size_t n, int timeout_ms,
		 struct err *e);
/* Whether bytes were received but not yet returned by tls_read (an idle
 * pooled connection with such bytes is out of step and must not be
 * reused). */
int tls_buffered(const struct tls_conn *t);
int tls_write(struct tls_conn *t, const void *p, size_t n, int timeout_ms,
	      struct err *e);
/* Sends close_notify (best effort, no wait) and frees.  NULL is a no-op. */
void tls_close(struct tls_conn *t);

#endif
