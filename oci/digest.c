/* sha256 digests over mbedTLS, and the verifying reader stage
 * (see oci/digest.h). */
#include <errno.h>
#include <string.h>

#include <mbedtls/sha256.h>

#include "lib/err.h"
#include "oci/digest.h"

_Static_assert(sizeof(mbedtls_sha256_context) <= sizeof(((struct sha256 *)0)->st),
	       "struct sha256 too small for mbedtls_sha256_context");

static mbedtls_sha256_context *ctx(struct sha256 *h)
{
	return (mbedtls_sha256_context *)(void *)h->st;
}

int digest_parse(const char *s, struct digest *out, struct err *e)
{
	size_t n = strnlen(s, DIGEST_STR_LEN + 1);

	if (n != DIGEST_STR_LEN || strncmp(s, "sha256:", 7) != 0)
		goto bad;
	for (size_t i = 7; i < n; i++) {
		char c = s[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			goto bad;
	}
	memcpy(out->s, s, DIGEST_STR_LEN);
	out->s[DIGEST_STR_LEN] = '\0';
	return 0;
bad:
	/* Quote a bounded, printable prefix only: the input is outside data. */
	{
		char shown[48];
		size_t i;
		for (i = 0; i < sizeof(shown) - 1 && s[i]; i++)
			shown[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
		shown[i] = '\0';
		return err_set(e, -EINVAL, "invalid digest '%s%s' (want sha256:<64 lowercase hex>)",
			       shown, s[i] ? "..." : "");
	}
}

void sha256_init(struct sha256 *h)
{
	mbedtls_sha256_init(ctx(h));
	mbedtls_sha256_starts_ret(ctx(h), 0);
	h->nbytes = 0;
}

void sha256_update(struct sha256 *h, const void *p, size_t n)
{
	mbedtls_sha256_update_ret(ctx(h), p, n);
	h->nbytes += n;
}

void sha256_final(struct sha256 *h, struct digest *out)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char sum[32];

	mbedtls_sha256_finish_ret(ctx(h), sum);
	mbedtls_sha256_free(ctx(h));
	memcpy(out->s, "sha256:", 7);
	for (int i = 0; i < 32; i++) {
		out->s[7 + 2 * i] = hex[sum[i] >> 4];
		out->s[8 + 2 * i] = hex[sum[i] & 15];
	}
	out->s[DIGEST_STR_LEN] = '\0';
}

void sha256_digest(const void *p, size_t n, struct digest *out)
{
	struct sha256 h;
	sha256_init(&h);
	sha256_update(&h, p, n);
	sha256_final(&h, out);
}

static int check_end(struct digest_reader *dr, struct err *e)
{
	struct digest got;

	dr->done = 1;
	if (dr->want_size >= 0 && (long long)dr->h.nbytes != dr->want_size)
		return err_set(e, -EBADMSG, "size mismatch for %s: expected %lld bytes, got %llu",
			       dr->what, dr->want_size, (unsigned long long)dr->h.nbytes);
	if (dr->want) {
		struct sha256 copy = dr->h;
		sha256_final(&copy, &got);
		if (strcmp(got.s, dr->want->s) != 0)
			return err_set(e, -EBADMSG, "digest mismatch for %s: expected %s, got %s",
				       dr->what, dr->want->s, got.s);
	}
	return 0;
}

static ssize_t digest_read(struct reader *r, void *p, size_t n, struct err *e)
{
	struct digest_reader *dr = (struct digest_reader *)r;
	ssize_t got;

	if (dr->done)
		return 0;
	if (dr->want_size >= 0) {
		unsigned long long left = (unsigned long long)dr->want_size - dr->h.nbytes;
		if (left == 0) {
			/* Declared size reached: one probe byte tells an honest end
			 * from a body longer than declared. */
			unsigned char probe;
			got = dr->in->read(dr->in, &probe, 1, e);
			if (got < 0)
				return got;
			if (got > 0) {
				dr->done = 1;
				return err_set(e, -EFBIG, "%s is longer than its declared %lld bytes",
					       dr->what, dr->want_size);
			}
			int rc = check_end(dr, e);
			return rc < 0 ? rc : 0;
		}
		if (n > left)
			n = (size_t)left;
	}
	got = dr->in->read(dr->in, p, n, e);
	if (got < 0)
		return got;
	if (got == 0) {
		int rc = check_end(dr, e);
		return rc < 0 ? rc : 0;
	}
	sha256_update(&dr->h, p, (size_t)got);
	return got;
}

void digest_reader_init(struct digest_reader *dr, struct reader *in,
			long long want_size, const struct digest *want,
			const char *what)
{
	dr->r.read = digest_read;
	dr->r.close = NULL;
	dr->in = in;
	sha256_init(&dr->h);
	dr->want_size = want_size;
	dr->want = want;
	dr->what = what;
	dr->done = 0;
}

void digest_reader_result(struct digest_reader *dr, struct digest *out)
{
	struct sha256 copy = dr->h;
	sha256_final(&copy, out);
}
