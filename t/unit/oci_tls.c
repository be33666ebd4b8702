/* oci/tls.c as the pull uses it, against the in-process fake server
 * (t/unit/http_fake.h): a second connection to the same server resumes the
 * first one's session; records that have already arrived are handed out
 * together (one read larger than a record); a forged record right after
 * good ones is reported, never skipped. */
#include <mbedtls/ssl_cache.h>
#include <stdio.h>
#include <time.h>

#include "lib/err.h"
#include "oci/http.h"
#include "t/tap.h"
#include "t/unit/http_fake.h"

#define BIG (1 << 20)

static struct fake srv;
static struct http_client *cl;
static char url[256];
static mbedtls_ssl_cache_context cache;
static int cache_hits;
static pthread_mutex_t hits_lock = PTHREAD_MUTEX_INITIALIZER;

/* The server's session cache lookup, counting resumptions. */
static int counting_get(void *data, mbedtls_ssl_session *s)
{
	int rc = mbedtls_ssl_cache_get(data, s);

	if (rc == 0) {
		pthread_mutex_lock(&hits_lock);
		cache_hits++;
		pthread_mutex_unlock(&hits_lock);
	}
	return rc;
}

static unsigned char pattern(size_t i)
{
	return (unsigned char)(i * 7 + (i >> 12));
}

static int h_close(struct fconn *fc, const char *req, size_t len, int n)
{
	(void)req, (void)len, (void)n;
	fc_puts(fc, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello");
	return 0;
}

static int h_big(struct fconn *fc, const char *req, size_t len, int n)
{
	unsigned char *b = xmalloc(BIG);

	(void)req, (void)len, (void)n;
	for (size_t i = 0; i < BIG; i++)
		b[i] = pattern(i);
	fc_printf(fc, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n", BIG);
	fc_write(fc, b, BIG);
	free(b);
	return 0;
}

/* 10000 good bytes, then a record nobody encrypted (right type, version
 * and length, garbage inside), then the other 10000 bytes, validly
 * encrypted: a client that dropped the bad record would see a whole,
 * correct body. */
static int h_forged(struct fconn *fc, const char *req, size_t len, int n)
{
	unsigned char junk[5 + 64], body[10000];

	(void)req, (void)len, (void)n;
	memset(body, 'a', sizeof(body));
	memset(junk, 0x5a, sizeof(junk));
	junk[0] = 23, junk[1] = 3, junk[2] = 3, junk[3] = 0, junk[4] = 64;
	fc_puts(fc, "HTTP/1.1 200 OK\r\nContent-Length: 20000\r\n\r\n");
	fc_write(fc, body, sizeof(body));
	send(fc->fd, junk, sizeof(junk), MSG_NOSIGNAL);
	fc_write(fc, body, sizeof(body));
	usleep(200000);
	return 0;
}

static int get(struct buf *body, struct err *e)
{
	struct http_request rq = { .method = "GET", .url = url };
	struct http_response *r;
	int rc;

	buf_reset(body);
	if ((rc = http_do(cl, &rq, &r, e)) < 0)
		return rc;
	rc = http_response_read_all(r, body, BIG, e);
	http_response_free(r);
	return rc;
}

/* Read the body in 256 KiB reads after letting it pile up; the largest
 * single read, or a negative errno. */
static long long read_big(struct buf *body, struct err *e)
{
	struct http_request rq = { .method = "GET", .url = url };
	struct http_response *r;
	unsigned char *p = xmalloc(256 * 1024);
	long long most = 0;
	ssize_t got;
	int rc;

	buf_reset(body);
	if ((rc = http_do(cl, &rq, &r, e)) < 0) {
		free(p);
		return rc;
	}
	usleep(200000);
	while ((got = reader_read(&r->body, p, 256 * 1024, e)) > 0) {
		buf_append(body, p, (size_t)got);
		if (got > most)
			most = got;
	}
	http_response_free(r);
	free(p);
	return got < 0 ? got : most;
}

int main(void)
{
	static unsigned char ca_pem[4096], leaf_pem[4096];
	mbedtls_pk_context ca_key, leaf_key;
	mbedtls_ssl_config *sc;
	_cleanup_buf_ struct buf b = BUF_INIT, cafile = BUF_INIT;
	struct http_client_opts o = { 0 };
	struct fake_pki pki;
	struct err e = ERR_INIT;
	const char *tmp = getenv("TMPDIR");
	long long most;
	size_t bad = 0;
	FILE *f;
	int rc;

	fake_pki_init(&pki);
	fake_key(&pki, &ca_key);
	fake_key(&pki, &leaf_key);
	fake_cert(&pki, "Test CA", &ca_key, "Test CA", &ca_key, 1, ca_pem, sizeof(ca_pem));
	fake_cert(&pki, "127.0.0.1", &leaf_key, "Test CA", &ca_key, 0, leaf_pem, sizeof(leaf_pem));
	sc = fake_tls_server(&pki, leaf_pem, &leaf_key);
	mbedtls_ssl_cache_init(&cache);
	mbedtls_ssl_conf_session_cache(sc, &cache, counting_get, mbedtls_ssl_cache_set);
	buf_printf(&cafile, "%s/oci_tls_ca.%d.pem", tmp && *tmp ? tmp : "/tmp", (int)getpid());
	f = fopen(buf_str(&cafile), "w");
	if (!f || fputs((const char *)ca_pem, f) < 0 || fclose(f) != 0) {
		printf("Bail out! cannot write %s\n", buf_str(&cafile));
		return 1;
	}
	o.ca_file = buf_str(&cafile);
	o.retries = -1;
	o.connect_timeout_ms = 3000;
	o.idle_timeout_ms = 3000;
	cl = http_client_new(&o, &e);
	ok(cl != NULL, "client with the test CA (%s)", e.msg);

	fake_start(&srv, h_close, sc);
	snprintf(url, sizeof(url), "https://127.0.0.1:%d/x", srv.port);
	rc = get(&b, &e);
	ok(rc == 0 && strcmp(buf_str(&b), "hello") == 0, "first connection: full handshake (%s)", e.msg);
	is_int(cache_hits, 0, "nothing to resume the first time");
	rc = get(&b, &e);
	ok(rc == 0 && strcmp(buf_str(&b), "hello") == 0, "second connection (%s)", e.msg);
	is_int(srv.nconn, 2, "two connections (the server closed the first)");
	is_int(cache_hits, 1, "the second connection resumed the first one's session");
	fake_stop(&srv);

	fake_start(&srv, h_big, sc);
	snprintf(url, sizeof(url), "https://127.0.0.1:%d/big", srv.port);
	most = read_big(&b, &e);
	ok(most > 0 && b.len == BIG, "1 MiB body over TLS (%s)", most < 0 ? e.msg : "");
	for (size_t i = 0; i < b.len; i++)
		bad += (unsigned char)b.data[i] != pattern(i);
	is_int((int)bad, 0, "every byte right");
	ok(most > 16384 && most <= 256 * 1024,
	   "records already received come out together (largest read %lld bytes)", most);
	fake_stop(&srv);

	fake_start(&srv, h_forged, sc);
	snprintf(url, sizeof(url), "https://127.0.0.1:%d/forged", srv.port);
	e = (struct err)ERR_INIT;
	rc = get(&b, &e);
	ok(rc < 0 && b.len < 20000, "a forged record fails the read (rc %d, %zu bytes)", rc, b.len);
	ok(strstr(e.msg, "TLS") != NULL, "with a TLS error: %s", e.msg);
	fake_stop(&srv);

	http_client_free(cl);
	unlink(buf_str(&cafile));
	mbedtls_ssl_cache_free(&cache);
	fake_tls_free(sc);
	mbedtls_pk_free(&ca_key);
	mbedtls_pk_free(&leaf_key);
	fake_pki_free(&pki);
	return done_testing();
}
