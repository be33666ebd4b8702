/* TLS client on mbedTLS 2.28 (see oci/tls.h).  Sockets stay blocking; the
 * BIO callbacks wait with poll() so that every read and write is bounded by
 * the caller's timeout, during the handshake as well as after it. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>

#include "lib/err.h"
#include "lib/mem.h"
#include "oci/tls.h"

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0   /* macOS: the socket carries SO_NOSIGPIPE instead */
#endif

struct tls_config {
	mbedtls_ssl_config conf;
	mbedtls_x509_crt ca;
	mbedtls_entropy_context entropy;
	mbedtls_ctr_drbg_context drbg;
	pthread_mutex_t rng_lock;
	int ca_count;
};

struct tls_conn {
	mbedtls_ssl_context ssl;
	int fd;
	int timeout_ms;
	int timed_out;
	int sys_errno;          /* errno of a failed socket call, 0 if none */
	char *host;
};

static const char *const system_bundles[] = {
	"/etc/ssl/certs/ca-certificates.crt",
	"/etc/pki/tls/certs/ca-bundle.crt",
	"/etc/ssl/cert.pem",
};

/* ctr_drbg is not thread-safe without MBEDTLS_THREADING_C, which static
 * builds may lack: lock it ourselves. */
static int locked_rng(void *arg, unsigned char *out, size_t len)
{
	struct tls_config *c = arg;
	int rc;

	pthread_mutex_lock(&c->rng_lock);
	rc = mbedtls_ctr_drbg_random(&c->drbg, out, len);
	pthread_mutex_unlock(&c->rng_lock);
	return rc;
}

static int count_certs(const mbedtls_x509_crt *crt)
{
	int n = 0;

	for (; crt && crt->raw.len; crt = crt->next)
		n++;
	return n;
}

static int load_system_cas(struct tls_config *c)
{
	const char *env = getenv("SSL_CERT_FILE");
	size_t i;

	if (env && *env)
		return mbedtls_x509_crt_parse_file(&c->ca, env) >= 0 ? 0 : -ENOENT;
	for (i = 0; i < sizeof(system_bundles) / sizeof(system_bundles[0]); i++)
		if (access(system_bundles[i], R_OK) == 0 &&
		    mbedtls_x509_crt_parse_file(&c->ca, system_bundles[i]) >= 0)
			return 0;
	return -ENOENT;
}

struct tls_config *tls_config_new(const char *extra_ca_file, struct err *e)
{
	static const char *alpn[] = { "http/1.1", NULL };
	static const char pers[] = "container-tls";
	struct tls_config *c = xcalloc(1, sizeof(*c));
	char why[128];
	int rc;

	mbedtls_ssl_config_init(&c->conf);
	mbedtls_x509_crt_init(&c->ca);
	mbedtls_entropy_init(&c->entropy);
	mbedtls_ctr_drbg_init(&c->drbg);
	pthread_mutex_init(&c->rng_lock, NULL);

	rc = mbedtls_ctr_drbg_seed(&c->drbg, mbedtls_entropy_func, &c->entropy,
				   (const unsigned char *)pers, sizeof(pers) - 1);
	if (rc != 0) {
		err_set(e, -EIO, "TLS: cannot seed the random generator");
		goto fail;
	}
	load_system_cas(c);
	if (extra_ca_file) {
		rc = mbedtls_x509_crt_parse_file(&c->ca, extra_ca_file);
		if (rc < 0) {
			mbedtls_strerror(rc, why, sizeof(why));
			err_set(e, -EINVAL, "TLS: cannot load CA file %s: %s",
				extra_ca_file, why);
			goto fail;
		}
	}
	c->ca_count = count_certs(&c->ca);
	rc = mbedtls_ssl_config_defaults(&c->conf, MBEDTLS_SSL_IS_CLIENT,
					 MBEDTLS_SSL_TRANSPORT_STREAM,
					 MBEDTLS_SSL_PRESET_DEFAULT);
	if (rc != 0) {
		err_set(e, -EIO, "TLS: cannot set up the client configuration");
		goto fail;
	}
	mbedtls_ssl_conf_authmode(&c->conf, MBEDTLS_SSL_VERIFY_REQUIRED);
	mbedtls_ssl_conf_ca_chain(&c->conf, &c->ca, NULL);
	mbedtls_ssl_conf_rng(&c->conf, locked_rng, c);
	mbedtls_ssl_conf_min_version(&c->conf, MBEDTLS_SSL_MAJOR_VERSION_3,
				     MBEDTLS_SSL_MINOR_VERSION_3);
	mbedtls_ssl_conf_alpn_protocols(&c->conf, alpn);
	return c;
fail:
	tls_config_free(c);
	return NULL;
}

void tls_config_free(struct tls_config *c)
{
	if (!c)
		return;
	mbedtls_ssl_config_free(&c->conf);
	mbedtls_x509_crt_free(&c->ca);
	mbedtls_ctr_drbg_free(&c->drbg);
	mbedtls_entropy_free(&c->entropy);
	pthread_mutex_destroy(&c->rng_lock);
	free(c);
}

int tls_config_ca_count(const struct tls_config *c)
{
	return c->ca_count;
}

/* 0 when fd is ready, MBEDTLS_ERR_SSL_TIMEOUT otherwise. */
static int wait_fd(struct tls_conn *t, short events)
{
	struct pollfd pfd = { .fd = t->fd, .events = events };
	int rc;

	do
		rc = poll(&pfd, 1, t->timeout_ms);
	while (rc < 0 && errno == EINTR);
	if (rc == 0) {
		t->timed_out = 1;
		return MBEDTLS_ERR_SSL_TIMEOUT;
	}
	if (rc < 0) {
		t->sys_errno = errno;
		return MBEDTLS_ERR_NET_RECV_FAILED;
	}
	return 0;
}

static int bio_send(void *ctx, const unsigned char *p, size_t n)
{
	struct tls_conn *t = ctx;
	ssize_t w;
	int rc;

	if ((rc = wait_fd(t, POLLOUT)) != 0)
		return rc;
	do
		w = send(t->fd, p, n, MSG_NOSIGNAL);
	while (w < 0 && errno == EINTR);
	if (w < 0) {
		t->sys_errno = errno;
		return errno == EPIPE || errno == ECONNRESET ? MBEDTLS_ERR_NET_CONN_RESET
							     : MBEDTLS_ERR_NET_SEND_FAILED;
	}
	return (int)w;
}

static int bio_recv(void *ctx, unsigned char *p, size_t n)
{
	struct tls_conn *t = ctx;
	ssize_t r;
	int rc;

	if ((rc = wait_fd(t, POLLIN)) != 0)
		return rc;
	do
		r = recv(t->fd, p, n, 0);
	while (r < 0 && errno == EINTR);
	if (r < 0) {
		t->sys_errno = errno;
		return errno == ECONNRESET ? MBEDTLS_ERR_NET_CONN_RESET
					   : MBEDTLS_ERR_NET_RECV_FAILED;
	}
	return (int)r;
}

static int verify_error(struct tls_conn *t, struct err *e)
{
	uint32_t flags = mbedtls_ssl_get_verify_result(&t->ssl);
	char info[256];

	if (flags & MBEDTLS_X509_BADCERT_NOT_TRUSTED)
		return err_set(e, -EPROTO, "TLS: certificate for %s not trusted (unknown CA)%s",
			       t->host, flags & MBEDTLS_X509_BADCERT_CN_MISMATCH ?
			       " and issued for another name (hostname mismatch)" : "");
	if (flags & MBEDTLS_X509_BADCERT_CN_MISMATCH)
		return err_set(e, -EPROTO,
			       "TLS: certificate is not valid for %s (hostname mismatch)",
			       t->host);
	if (flags & MBEDTLS_X509_BADCERT_EXPIRED)
		return err_set(e, -EPROTO, "TLS: certificate for %s has expired", t->host);
	if (flags & MBEDTLS_X509_BADCERT_FUTURE)
		return err_set(e, -EPROTO, "TLS: certificate for %s is not valid yet", t->host);
	info[0] = '\0';
	mbedtls_x509_crt_verify_info(info, sizeof(info), "", flags);
	info[strcspn(info, "\n")] = '\0';
	return err_set(e, -EPROTO, "TLS: certificate for %s failed verification (%s)",
		       t->host, info);
}

/* Map an mbedTLS (or BIO) failure to errno + one sentence. */
static int tls_error(struct tls_conn *t, int rc, const char *during, struct err *e)
{
	char why[128];

	if (rc == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED)
		return verify_error(t, e);
	if (t->timed_out)
		return err_set(e, -ETIMEDOUT, "TLS: %s %s timed out after %d ms",
			       during, t->host, t->timeout_ms);
	if (t->sys_errno) {
		errno = t->sys_errno;
		return err_sys(e, "TLS: %s %s", during, t->host);
	}
	if (rc == MBEDTLS_ERR_SSL_CONN_EOF || rc == MBEDTLS_ERR_NET_CONN_RESET)
		return err_set(e, -ECONNRESET, "TLS: connection to %s closed during %s",
			       t->host, during);
	mbedtls_strerror(rc, why, sizeof(why));
	return err_set(e, -EPROTO, "TLS: %s %s failed: %s", during, t->host, why);
}

int tls_connect(struct tls_config *c, int fd, const char *host, int timeout_ms,
		struct tls_conn **out, struct err *e)
{
	struct tls_conn *t = xcalloc(1, sizeof(*t));
	int rc;

#ifdef SO_NOSIGPIPE
	{
		int one = 1;
		setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof(one));
	}
#endif
	t->fd = fd;
	t->timeout_ms = timeout_ms;
	t->host = xstrdup(host);
	mbedtls_ssl_init(&t->ssl);
	if ((rc = mbedtls_ssl_setup(&t->ssl, &c->conf)) != 0 ||
	    (rc = mbedtls_ssl_set_hostname(&t->ssl, host)) != 0) {
		rc = tls_error(t, rc, "setting up a session with", e);
		tls_close(t);
		return rc;
	}
	mbedtls_ssl_set_bio(&t->ssl, t, bio_send, bio_recv, NULL);
	while ((rc = mbedtls_ssl_handshake(&t->ssl)) != 0) {
		if (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE)
			continue;
		rc = tls_error(t, rc, "handshake with", e);
		tls_close(t);
		return rc;
	}
	*out = t;
	return 0;
}

ssize_t tls_read(struct tls_conn *t, void *p, size_t n, int timeout_ms,
		 struct err *e)
{
	int rc;

	t->timeout_ms = timeout_ms;
	t->timed_out = 0;
	t->sys_errno = 0;
	for (;;) {
		rc = mbedtls_ssl_read(&t->ssl, p, n);
		if (rc >= 0)
			return rc;
		if (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE)
			continue;
		if (rc == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY || rc == MBEDTLS_ERR_SSL_CONN_EOF)
			return 0;
		return tls_error(t, rc, "reading from", e);
	}
}

int tls_write(struct tls_conn *t, const void *p, size_t n, int timeout_ms,
	      struct err *e)
{
	const unsigned char *q = p;
	int rc;

	t->timeout_ms = timeout_ms;
	t->timed_out = 0;
	t->sys_errno = 0;
	while (n > 0) {
		rc = mbedtls_ssl_write(&t->ssl, q, n);
		if (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE)
			continue;
		if (rc < 0)
			return tls_error(t, rc, "writing to", e);
		q += rc;
		n -= (size_t)rc;
	}
	return 0;
}

void tls_close(struct tls_conn *t)
{
	if (!t)
		return;
	if (!t->timed_out && !t->sys_errno) {
		t->timeout_ms = 0;   /* never wait on a peer that is going away */
		mbedtls_ssl_close_notify(&t->ssl);
	}
	mbedtls_ssl_free(&t->ssl);
	free(t->host);
	free(t);
}
