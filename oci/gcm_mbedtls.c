/* mbedTLS's GCM API (mbedtls/gcm.h, 2.28) on oci/gcm.c, compiled only
 * where the deps' mbedTLS is built with MBEDTLS_GCM_ALT (x86_64 targets,
 * build.sh): mbedTLS's cipher layer, and so every AES-GCM record of
 * oci/tls.c, then runs our AES-NI + PCLMULQDQ code.  Elsewhere (aarch64,
 * macOS, the native test build on Debian's library) this file is empty
 * and mbedTLS keeps its own GCM.
 *
 * Only AES is supported: mbedtls_gcm_setkey refuses Camellia and ARIA,
 * and oci/tls.c leaves their GCM suites out of the handshake. */
#include <mbedtls/gcm.h>

#if defined(MBEDTLS_GCM_ALT)

#include <errno.h>
#include <string.h>

#include "oci/gcm.h"

struct alt {
	struct gcm_key key;
	struct gcm st;
	int keyed;
};

_Static_assert(sizeof(struct alt) <= sizeof(((mbedtls_gcm_context *)0)->opaque),
	       "oci/gcm_alt.h: MBEDTLS_GCM_ALT_WORDS is too small");

static struct alt *alt(mbedtls_gcm_context *ctx)
{
	return (struct alt *)(void *)ctx->opaque;
}

void mbedtls_gcm_init(mbedtls_gcm_context *ctx)
{
	memset(ctx, 0, sizeof(*ctx));
}

void mbedtls_gcm_free(mbedtls_gcm_context *ctx)
{
	if (ctx)
		gcm_wipe(ctx, sizeof(*ctx));
}

int mbedtls_gcm_setkey(mbedtls_gcm_context *ctx, mbedtls_cipher_id_t cipher,
		       const unsigned char *key, unsigned int keybits)
{
	struct alt *a = alt(ctx);

	if (cipher != MBEDTLS_CIPHER_ID_AES || keybits % 8 ||
	    gcm_key_init(&a->key, key, keybits / 8) != 0)
		return MBEDTLS_ERR_GCM_BAD_INPUT;
	a->keyed = 1;
	return 0;
}

int mbedtls_gcm_starts(mbedtls_gcm_context *ctx, int mode, const unsigned char *iv,
		       size_t iv_len, const unsigned char *add, size_t add_len)
{
	struct alt *a = alt(ctx);

	if (!a->keyed || gcm_start(&a->st, &a->key, mode == MBEDTLS_GCM_DECRYPT, iv, iv_len,
				   add, add_len) != 0)
		return MBEDTLS_ERR_GCM_BAD_INPUT;
	return 0;
}

int mbedtls_gcm_update(mbedtls_gcm_context *ctx, size_t length, const unsigned char *input,
		       unsigned char *output)
{
	struct alt *a = alt(ctx);

	if (!a->keyed || gcm_update(&a->st, &a->key, input, output, length) != 0)
		return MBEDTLS_ERR_GCM_BAD_INPUT;
	return 0;
}

int mbedtls_gcm_finish(mbedtls_gcm_context *ctx, unsigned char *tag, size_t tag_len)
{
	struct alt *a = alt(ctx);
	uint8_t full[16];

	if (!a->keyed || tag_len > 16 || tag_len < 4)
		return MBEDTLS_ERR_GCM_BAD_INPUT;
	gcm_finish(&a->st, &a->key, full);
	memcpy(tag, full, tag_len);
	gcm_wipe(full, sizeof(full));
	return 0;
}

int mbedtls_gcm_crypt_and_tag(mbedtls_gcm_context *ctx, int mode, size_t length,
			      const unsigned char *iv, size_t iv_len, const unsigned char *add,
			      size_t add_len, const unsigned char *input, unsigned char *output,
			      size_t tag_len, unsigned char *tag)
{
	struct alt *a = alt(ctx);
	int rc;

	if (!a->keyed)
		return MBEDTLS_ERR_GCM_BAD_INPUT;
	if (mode == MBEDTLS_GCM_DECRYPT) {
		/* Decrypt and compute the tag, as mbedTLS does (the caller
		 * compares). */
		if ((rc = mbedtls_gcm_starts(ctx, mode, iv, iv_len, add, add_len)) != 0 ||
		    (rc = mbedtls_gcm_update(ctx, length, input, output)) != 0)
			return rc;
		return mbedtls_gcm_finish(ctx, tag, tag_len);
	}
	if (gcm_seal(&a->key, iv, iv_len, add, add_len, input, output, length, tag,
		     tag_len) != 0)
		return MBEDTLS_ERR_GCM_BAD_INPUT;
	return 0;
}

int mbedtls_gcm_auth_decrypt(mbedtls_gcm_context *ctx, size_t length, const unsigned char *iv,
			     size_t iv_len, const unsigned char *add, size_t add_len,
			     const unsigned char *tag, size_t tag_len, const unsigned char *input,
			     unsigned char *output)
{
	struct alt *a = alt(ctx);
	int rc;

	if (!a->keyed)
		return MBEDTLS_ERR_GCM_BAD_INPUT;
	rc = gcm_open(&a->key, iv, iv_len, add, add_len, input, output, length, tag, tag_len);
	if (rc == -EBADMSG)
		return MBEDTLS_ERR_GCM_AUTH_FAILED;
	return rc == 0 ? 0 : MBEDTLS_ERR_GCM_BAD_INPUT;
}

#endif /* MBEDTLS_GCM_ALT */
