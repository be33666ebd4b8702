/* An in-process fake HTTP(S) server on 127.0.0.1 for the client tests
 * (t/unit/oci_http.c, oci_auth.c, oci_registry.c).  A thread accepts; each
 * connection gets its own thread that reads requests (head + body by
 * Content-Length), records them, and hands each to the test's handler,
 * which writes whatever bytes the case needs straight to the socket.
 *
 * TLS: fake_tls_* makes a CA and leaf certificates with mbedTLS's x509write
 * at run time (CN only: mbedTLS checks the CN when there is no SAN). */
#ifndef T_UNIT_HTTP_FAKE_H
#define T_UNIT_HTTP_FAKE_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/entropy.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>

#include "lib/buf.h"
#include "lib/mem.h"

/* Each test uses a subset of these helpers. */
#define FAKE_FN static __attribute__((unused))

struct fake;
struct fconn {
	struct fake *f;
	int fd;
	mbedtls_ssl_context *ssl;
	int conn_no;
};

/* Return 1 to keep the connection for another request, 0 to close it.
 * req is the head and body as received (NUL-terminated); n counts requests
 * across all connections from 0. */
typedef int (*fake_fn)(struct fconn *fc, const char *req, size_t len, int n);

struct fake {
	int lfd, port, stop;
	pthread_t th;
	fake_fn fn;
	void *arg;                /* for handlers */
	pthread_mutex_t lock;
	struct buf log;           /* every request, separated by "\n----\n" */
	int nreq, nconn, active;
	mbedtls_ssl_config *tls;  /* server TLS config, or NULL */
};

FAKE_FN int fc_write(struct fconn *fc, const void *p, size_t n)
{
	const unsigned char *q = p;
	while (n > 0) {
		int w = fc->ssl ? mbedtls_ssl_write(fc->ssl, q, n) : (int)send(fc->fd, q, n, MSG_NOSIGNAL);
		if (w == MBEDTLS_ERR_SSL_WANT_WRITE || (w < 0 && errno == EINTR && !fc->ssl))
			continue;
		if (w <= 0)
			return -1;
		q += w;
		n -= (size_t)w;
	}
	return 0;
}

FAKE_FN int fc_puts(struct fconn *fc, const char *s)
{
	return fc_write(fc, s, strlen(s));
}

FAKE_FN __attribute__((format(printf, 2, 3))) int fc_printf(struct fconn *fc, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;
	int rc;
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	rc = fc_write(fc, b.data, b.len);
	buf_free(&b);
	return rc;
}

FAKE_FN ssize_t fc_read(struct fconn *fc, void *p, size_t n)
{
	for (;;) {
		ssize_t r = fc->ssl ? mbedtls_ssl_read(fc->ssl, p, n) : recv(fc->fd, p, n, 0);
		if (fc->ssl && (r == MBEDTLS_ERR_SSL_WANT_READ || r == MBEDTLS_ERR_SSL_WANT_WRITE))
			continue;
		if (!fc->ssl && r < 0 && errno == EINTR)
			continue;
		return r < 0 ? -1 : r;
	}
}

/* Read one request into b; 0 at clean EOF, -1 on error. */
FAKE_FN int fake_read_request(struct fconn *fc, struct buf *b)
{
	char tmp[4096];
	const char *end, *cl;
	size_t need;

	while (!(end = b->data ? strstr(b->data, "\r\n\r\n") : NULL)) {
		ssize_t r = fc_read(fc, tmp, sizeof(tmp) - 1);
		if (r <= 0)
			return b->len ? -1 : 0;
		buf_append(b, tmp, (size_t)r);
	}
	need = (size_t)(end - b->data) + 4;
	cl = strcasestr(b->data, "\r\ncontent-length:");
	if (cl && cl < end)
		need += (size_t)strtoul(cl + 17, NULL, 10);
	while (b->len < need) {
		ssize_t r = fc_read(fc, tmp, sizeof(tmp) - 1);
		if (r <= 0)
			return -1;
		buf_append(b, tmp, (size_t)r);
	}
	return 1;
}

FAKE_FN int fake_bio_send(void *ctx, const unsigned char *p, size_t n)
{
	ssize_t w = send(*(int *)ctx, p, n, MSG_NOSIGNAL);
	return w < 0 ? MBEDTLS_ERR_NET_SEND_FAILED : (int)w;
}

FAKE_FN int fake_bio_recv(void *ctx, unsigned char *p, size_t n)
{
	ssize_t r = recv(*(int *)ctx, p, n, 0);
	return r < 0 ? MBEDTLS_ERR_NET_RECV_FAILED : (int)r;
}

FAKE_FN void *fake_conn_thread(void *arg)
{
	struct fconn *fc = arg;
	struct fake *f = fc->f;
	mbedtls_ssl_context ssl;
	struct buf b = BUF_INIT;
	int keep = 1, rc;

	if (f->tls) {
		mbedtls_ssl_init(&ssl);
		mbedtls_ssl_setup(&ssl, f->tls);
		mbedtls_ssl_set_bio(&ssl, &fc->fd, fake_bio_send, fake_bio_recv, NULL);
		while ((rc = mbedtls_ssl_handshake(&ssl)) != 0)
			if (rc != MBEDTLS_ERR_SSL_WANT_READ && rc != MBEDTLS_ERR_SSL_WANT_WRITE)
				goto out;
		fc->ssl = &ssl;
	}
	while (keep && fake_read_request(fc, &b) > 0) {
		int n;
		pthread_mutex_lock(&f->lock);
		n = f->nreq++;
		buf_append(&f->log, b.data, b.len);
		buf_puts(&f->log, "\n----\n");
		pthread_mutex_unlock(&f->lock);
		keep = f->fn(fc, b.data, b.len, n);
		buf_reset(&b);
	}
out:
	if (f->tls) {
		if (fc->ssl)
			mbedtls_ssl_close_notify(&ssl);
		mbedtls_ssl_free(&ssl);
	}
	close(fc->fd);
	pthread_mutex_lock(&f->lock);
	f->active--;
	pthread_mutex_unlock(&f->lock);
	buf_free(&b);
	free(fc);
	return NULL;
}

FAKE_FN void *fake_accept_thread(void *arg)
{
	struct fake *f = arg;

	while (!f->stop) {
		struct pollfd p = { .fd = f->lfd, .events = POLLIN };
		struct fconn *fc;
		pthread_t th;
		int fd;

		if (poll(&p, 1, 50) <= 0)
			continue;
		fd = accept(f->lfd, NULL, NULL);
		if (fd < 0)
			continue;
		fc = xcalloc(1, sizeof(*fc));
		fc->f = f;
		fc->fd = fd;
		pthread_mutex_lock(&f->lock);
		fc->conn_no = f->nconn++;
		f->active++;
		pthread_mutex_unlock(&f->lock);
		pthread_create(&th, NULL, fake_conn_thread, fc);
		pthread_detach(th);
	}
	return NULL;
}

FAKE_FN void fake_start(struct fake *f, fake_fn fn, mbedtls_ssl_config *tls)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);
	int one = 1;

	signal(SIGPIPE, SIG_IGN);
	memset(f, 0, sizeof(*f));
	f->fn = fn;
	f->tls = tls;
	pthread_mutex_init(&f->lock, NULL);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	f->lfd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(f->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(f->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(f->lfd, 16) < 0) {
		perror("fake server");
		exit(99);
	}
	getsockname(f->lfd, (struct sockaddr *)&sa, &sl);
	f->port = ntohs(sa.sin_port);
	pthread_create(&f->th, NULL, fake_accept_thread, f);
}

/* Stops accepting; waits (bounded) for connection threads to end. */
FAKE_FN void fake_stop(struct fake *f)
{
	int i;

	f->stop = 1;
	pthread_join(f->th, NULL);
	close(f->lfd);
	for (i = 0; i < 200; i++) {
		int a;
		pthread_mutex_lock(&f->lock);
		a = f->active;
		pthread_mutex_unlock(&f->lock);
		if (!a)
			break;
		usleep(10000);
	}
	buf_free(&f->log);
}

/* The log of request n (0-based), copied into out. */
FAKE_FN const char *fake_request(struct fake *f, int n, struct buf *out)
{
	const char *p, *q;

	buf_reset(out);
	pthread_mutex_lock(&f->lock);
	p = buf_str(&f->log);
	while (n-- > 0 && p)
		if ((p = strstr(p, "\n----\n")))
			p += 6;
	if (p) {
		q = strstr(p, "\n----\n");
		buf_append(out, p, q ? (size_t)(q - p) : strlen(p));
	}
	pthread_mutex_unlock(&f->lock);
	return buf_str(out);
}

/* ---- TLS material ---- */

struct fake_pki {
	mbedtls_entropy_context ent;
	mbedtls_ctr_drbg_context drbg;
};

FAKE_FN void fake_pki_init(struct fake_pki *p)
{
	mbedtls_entropy_init(&p->ent);
	mbedtls_ctr_drbg_init(&p->drbg);
	mbedtls_ctr_drbg_seed(&p->drbg, mbedtls_entropy_func, &p->ent,
			      (const unsigned char *)"fake", 4);
}

FAKE_FN void fake_key(struct fake_pki *p, mbedtls_pk_context *k)
{
	mbedtls_pk_init(k);
	mbedtls_pk_setup(k, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY));
	mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(*k),
			    mbedtls_ctr_drbg_random, &p->drbg);
}

/* PEM certificate for subject (CN=cn), signed by issuer_key with issuer
 * name issuer_cn (self-signed when equal), into pem. */
FAKE_FN void fake_cert(struct fake_pki *p, const char *cn, mbedtls_pk_context *key,
		      const char *issuer_cn, mbedtls_pk_context *issuer_key, int is_ca,
		      unsigned char *pem, size_t pem_size)
{
	mbedtls_x509write_cert w;
	mbedtls_mpi serial;
	char subj[128], iss[128];
	static int serial_no = 1;

	snprintf(subj, sizeof(subj), "CN=%s", cn);
	snprintf(iss, sizeof(iss), "CN=%s", issuer_cn);
	mbedtls_x509write_crt_init(&w);
	mbedtls_mpi_init(&serial);
	mbedtls_mpi_lset(&serial, serial_no++);
	mbedtls_x509write_crt_set_version(&w, MBEDTLS_X509_CRT_VERSION_3);
	mbedtls_x509write_crt_set_serial(&w, &serial);
	mbedtls_x509write_crt_set_validity(&w, "20200101000000", "20491231235959");
	mbedtls_x509write_crt_set_subject_name(&w, subj);
	mbedtls_x509write_crt_set_issuer_name(&w, iss);
	mbedtls_x509write_crt_set_subject_key(&w, key);
	mbedtls_x509write_crt_set_issuer_key(&w, issuer_key);
	mbedtls_x509write_crt_set_md_alg(&w, MBEDTLS_MD_SHA256);
	mbedtls_x509write_crt_set_basic_constraints(&w, is_ca, -1);
	if (mbedtls_x509write_crt_pem(&w, pem, pem_size, mbedtls_ctr_drbg_random, &p->drbg) != 0) {
		fprintf(stderr, "fake_cert failed\n");
		exit(99);
	}
	mbedtls_x509write_crt_free(&w);
	mbedtls_mpi_free(&serial);
}

FAKE_FN void fake_pki_free(struct fake_pki *p)
{
	mbedtls_ctr_drbg_free(&p->drbg);
	mbedtls_entropy_free(&p->ent);
}

/* A server config presenting leaf_pem with leaf_key (the config is the
 * first member, so fake_tls_free can find the certificate). */
struct fake_tls {
	mbedtls_ssl_config c;
	mbedtls_x509_crt crt;
};

FAKE_FN void fake_tls_free(mbedtls_ssl_config *c)
{
	struct fake_tls *t = (struct fake_tls *)c;
	mbedtls_ssl_config_free(&t->c);
	mbedtls_x509_crt_free(&t->crt);
	free(t);
}

FAKE_FN mbedtls_ssl_config *fake_tls_server(struct fake_pki *p, const unsigned char *leaf_pem,
					   mbedtls_pk_context *leaf_key)
{
	struct fake_tls *t = xcalloc(1, sizeof(*t));
	mbedtls_ssl_config *c = &t->c;
	mbedtls_x509_crt *crt = &t->crt;

	mbedtls_x509_crt_init(crt);
	mbedtls_x509_crt_parse(crt, leaf_pem, strlen((const char *)leaf_pem) + 1);
	mbedtls_ssl_config_init(c);
	mbedtls_ssl_config_defaults(c, MBEDTLS_SSL_IS_SERVER, MBEDTLS_SSL_TRANSPORT_STREAM,
				    MBEDTLS_SSL_PRESET_DEFAULT);
	mbedtls_ssl_conf_rng(c, mbedtls_ctr_drbg_random, &p->drbg);
	mbedtls_ssl_conf_own_cert(c, crt, leaf_key);
	return c;
}

#endif
