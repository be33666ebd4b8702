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
#include <mbedtls/ssl_ciphersuites.h>
#include <mbedtls/x509_crt.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/mem.h"
#include "oci/gcm.h"
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
	/* The last session established, for resumption by the next
	 * connection to the same host:port (a pull opens up to 16 in
	 * parallel: each resumed handshake skips the key exchange and the
	 * certificate chain check, which dominate a handshake's CPU time).
	 * A session is only ever made by a verified handshake with that
	 * host name, and resuming needs its master secret, so a server
	 * that resumes it is the one that was verified. */
	pthread_mutex_t sess_lock;
	mbedtls_ssl_session sess;
	char *sess_key;         /* "host:port" of sess, NULL when none */
	int *suites;            /* our cipher suite preference, 0-terminated */
};

/* Socket read-ahead: mbedTLS asks for a 5-byte record header, then the
 * record body (16 KiB of data at most), each with its own read; with a
 * poll() before each, that was 4 syscalls per record.  Reading up to
 * 128 KiB per recv(), polling only when nothing is there, makes it about
 * one per 8 records (pull benchmark, 203 MB: 26k recv + 26k poll became
 * 1.6k recv + 41 poll), and lets tls_read() hand out several records that
 * have already arrived in one call. */
#define TLS_RBUF 131072

struct tls_conn {
	mbedtls_ssl_context ssl;
	int fd;
	unsigned char *rbuf;    /* TLS_RBUF bytes; [roff, rlen) not yet given to mbedTLS */
	size_t roff, rlen;
	int timeout_ms;
	int timed_out;
	int sys_errno;          /* errno of a failed socket call, 0 if none */
	int pending;            /* an mbedTLS error to report at the next tls_read */
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

#if defined(MBEDTLS_GCM_ALT)
/* mbedTLS's GCM is oci/gcm.c here (x86_64, see oci/gcm_mbedtls.c): AES
 * only, and with AES-NI + PCLMULQDQ about 8x faster than mbedTLS's
 * ChaCha20-Poly1305, which mbedTLS offers first and Go servers (the
 * distribution registry) then pick because the client "prefers" it; that
 * cipher was 40 % of a pull's CPU time.  So: ECDHE with AES-128-GCM, then
 * AES-256-GCM, then mbedTLS's order; Camellia- and ARIA-GCM never. */
static int suite_rank(int id, int fast_gcm)
{
	const mbedtls_ssl_ciphersuite_t *cs = mbedtls_ssl_ciphersuite_from_id(id);
	int ecdhe;

	if (!cs)
		return -1;
	switch (cs->cipher) {
	case MBEDTLS_CIPHER_CAMELLIA_128_GCM:
	case MBEDTLS_CIPHER_CAMELLIA_192_GCM:
	case MBEDTLS_CIPHER_CAMELLIA_256_GCM:
	case MBEDTLS_CIPHER_ARIA_128_GCM:
	case MBEDTLS_CIPHER_ARIA_192_GCM:
	case MBEDTLS_CIPHER_ARIA_256_GCM:
		return -1;
	default:
		break;
	}
	ecdhe = cs->key_exchange == MBEDTLS_KEY_EXCHANGE_ECDHE_RSA ||
		cs->key_exchange == MBEDTLS_KEY_EXCHANGE_ECDHE_ECDSA;
	if (fast_gcm && ecdhe && cs->cipher == MBEDTLS_CIPHER_AES_128_GCM)
		return 0;
	if (fast_gcm && ecdhe && cs->cipher == MBEDTLS_CIPHER_AES_256_GCM)
		return 1;
	return 2;
}

static void prefer_suites(struct tls_config *c)
{
	const int *def = mbedtls_ssl_list_ciphersuites();
	int fast = gcm_accelerated(), r;
	size_t n = 0, k = 0, i;

	while (def[n])
		n++;
	c->suites = xcalloc(n + 1, sizeof(int));
	for (r = 0; r <= 2; r++)
		for (i = 0; i < n; i++)
			if (suite_rank(def[i], fast) == r)
				c->suites[k++] = def[i];
	mbedtls_ssl_conf_ciphersuites(&c->conf, c->suites);
}
#else
/* mbedTLS's own GCM (aarch64, macOS, the native test build): its order,
 * ChaCha20-Poly1305 first, is also the faster choice there. */
static void prefer_suites(struct tls_config *c)
{
	(void)c;
}
#endif

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
	pthread_mutex_init(&c->sess_lock, NULL);
	mbedtls_ssl_session_init(&c->sess);

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
	prefer_suites(c);
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
	mbedtls_ssl_session_free(&c->sess);
	pthread_mutex_destroy(&c->sess_lock);
	free(c->sess_key);
	free(c->suites);
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

	if (t->roff == t->rlen) {
		/* Try first, wait only when nothing is there: a busy transfer
		 * then costs no poll() at all. */
		t->roff = t->rlen = 0;
		for (;;) {
			r = recv(t->fd, t->rbuf, TLS_RBUF, MSG_DONTWAIT);
			if (r >= 0)
				break;
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				t->sys_errno = errno;
				return errno == ECONNRESET ? MBEDTLS_ERR_NET_CONN_RESET
							   : MBEDTLS_ERR_NET_RECV_FAILED;
			}
			if ((rc = wait_fd(t, POLLIN)) != 0)
				return rc;
		}
		if (r == 0)
			return 0;
		t->rlen = (size_t)r;
	}
	if (n > t->rlen - t->roff)
		n = t->rlen - t->roff;
	memcpy(p, t->rbuf + t->roff, n);
	t->roff += n;
	return (int)n;
}

/* Whether a whole application-data record is already in the read-ahead
 * buffer, so that decrypting it cannot block. */
static int record_buffered(const struct tls_conn *t)
{
	const unsigned char *h = t->rbuf + t->roff;
	size_t have = t->rlen - t->roff;

	return have >= 5 && h[0] == 23 /* application_data */ &&
	       have - 5 >= ((size_t)h[3] << 8 | h[4]);
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

/* Offer the cached session for key, if there is one (best effort: a
 * refused or failed resumption is a full handshake). */
static void session_offer(struct tls_config *c, mbedtls_ssl_context *ssl, const char *key)
{
	pthread_mutex_lock(&c->sess_lock);
	if (c->sess_key && strcmp(c->sess_key, key) == 0)
		mbedtls_ssl_set_session(ssl, &c->sess);
	pthread_mutex_unlock(&c->sess_lock);
}

static void session_save(struct tls_config *c, const mbedtls_ssl_context *ssl, const char *key)
{
	mbedtls_ssl_session s;

	mbedtls_ssl_session_init(&s);
	if (mbedtls_ssl_get_session(ssl, &s) != 0) {
		mbedtls_ssl_session_free(&s);
		return;
	}
	pthread_mutex_lock(&c->sess_lock);
	mbedtls_ssl_session_free(&c->sess);
	c->sess = s;   /* ownership of its allocations moves with it */
	free(c->sess_key);
	c->sess_key = xstrdup(key);
	pthread_mutex_unlock(&c->sess_lock);
}

int tls_connect(struct tls_config *c, int fd, const char *host, int port, int timeout_ms,
		struct tls_conn **out, struct err *e)
{
	struct tls_conn *t = xcalloc(1, sizeof(*t));
	_cleanup_free_ char *key = NULL;
	int rc;

#ifdef SO_NOSIGPIPE
	{
		int one = 1;
		setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof(one));
	}
#endif
	t->fd = fd;
	t->rbuf = xmalloc(TLS_RBUF);
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
	{
		struct buf kb = BUF_INIT;
		buf_printf(&kb, "%s:%d", host, port);
		key = buf_steal(&kb);
	}
	session_offer(c, &t->ssl, key);
	while ((rc = mbedtls_ssl_handshake(&t->ssl)) != 0) {
		if (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE)
			continue;
		rc = tls_error(t, rc, "handshake with", e);
		tls_close(t);
		return rc;
	}
	session_save(c, &t->ssl, key);
	*out = t;
	return 0;
}

ssize_t tls_read(struct tls_conn *t, void *p, size_t n, int timeout_ms,
		 struct err *e)
{
	size_t got = 0;
	int rc;

	t->timeout_ms = timeout_ms;
	t->timed_out = 0;
	t->sys_errno = 0;
	for (;;) {
		if (t->pending) {
			rc = t->pending;
			t->pending = 0;
		} else {
			rc = mbedtls_ssl_read(&t->ssl, (unsigned char *)p + got, n - got);
		}
		if (rc > 0) {
			got += (size_t)rc;
			/* More records already here: take them too, without
			 * waiting (fewer, larger reads for the layers above). */
			if (got < n && (mbedtls_ssl_get_bytes_avail(&t->ssl) > 0 ||
					record_buffered(t)))
				continue;
			return (ssize_t)got;
		}
		if (rc == 0)
			return (ssize_t)got;
		if (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE)
			continue;
		if (got > 0) {
			/* Hand out what was decrypted; a bad record after it
			 * must not be skipped: report it next time. */
			t->pending = rc;
			return (ssize_t)got;
		}
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

int tls_buffered(const struct tls_conn *t)
{
	return t->roff < t->rlen || mbedtls_ssl_get_bytes_avail(&t->ssl) > 0 || t->pending;
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
	free(t->rbuf);
	free(t->host);
	free(t);
}
