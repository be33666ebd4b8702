/* gcmbench [MiB]: how fast TLS records can be opened here: MiB (default
 * 256) of 16 KiB records (a full TLS record, 13 bytes of AAD, 12-byte
 * IV), decrypted and authenticated in place, by oci/gcm.c accelerated
 * (when this CPU has AES-NI + PCLMULQDQ) and portable, and by the
 * mbedTLS this tool links (Debian's: the stock 2.28 code that the product
 * replaces on x86_64) with AES-128-GCM and ChaCha20-Poly1305.  Prints
 * "name MB/s" lines, MB per second of this thread's CPU time.  Used by t/bench/gcm.sh. */
#include <mbedtls/chachapoly.h>
#include <mbedtls/gcm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "oci/gcm.h"

#define REC 16384

static double now(void)
{
	struct timespec ts;

	/* CPU time: the machine is shared, wall time would measure the
	 * neighbours. */
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const uint8_t key[32] = { 1, 2, 3 }, iv[12] = { 4 }, aad[13] = { 5 };

/* Seals one record, then opens it n times in place (re-sealing each
 * time would double the work measured); fails if any open fails. */
static int run(const char *name, int which, int accel, size_t total)
{
	static uint8_t buf[REC], ct[REC], tag[16];
	struct gcm_key k;
	mbedtls_gcm_context m;
	mbedtls_chachapoly_context cp;
	size_t n = total / REC, i;
	int rc = 0;
	double t0;

	memset(buf, 0x42, sizeof(buf));
	gcm_key_init(&k, key, 16);
	k.accel = accel;
	mbedtls_gcm_init(&m);
	mbedtls_gcm_setkey(&m, MBEDTLS_CIPHER_ID_AES, key, 128);
	mbedtls_chachapoly_init(&cp);
	mbedtls_chachapoly_setkey(&cp, key);
	if (which == 0)
		gcm_seal(&k, iv, 12, aad, 13, buf, ct, REC, tag, 16);
	else if (which == 1)
		mbedtls_gcm_crypt_and_tag(&m, MBEDTLS_GCM_ENCRYPT, REC, iv, 12, aad, 13, buf, ct,
					  16, tag);
	else
		mbedtls_chachapoly_encrypt_and_tag(&cp, REC, iv, aad, 13, buf, ct, tag);
	t0 = now();
	for (i = 0; i < n && rc == 0; i++) {
		memcpy(buf, ct, REC);
		if (which == 0)
			rc = gcm_open(&k, iv, 12, aad, 13, buf, buf, REC, tag, 16);
		else if (which == 1)
			rc = mbedtls_gcm_auth_decrypt(&m, REC, iv, 12, aad, 13, tag, 16, buf, buf);
		else
			rc = mbedtls_chachapoly_auth_decrypt(&cp, REC, iv, aad, 13, tag, buf, buf);
	}
	printf("%-28s %8.0f\n", name, (double)(n * REC) / 1e6 / (now() - t0));
	mbedtls_gcm_free(&m);
	mbedtls_chachapoly_free(&cp);
	if (rc != 0)
		fprintf(stderr, "gcmbench: %s: open failed (%d)\n", name, rc);
	return rc != 0;
}

int main(int argc, char **argv)
{
	size_t total = (size_t)(argc > 1 ? atoi(argv[1]) : 256) << 20;
	int bad = 0;

	if (gcm_accelerated())
		bad |= run("ours AES-128-GCM (AES-NI)", 0, 1, total);
	bad |= run("ours AES-128-GCM (portable)", 0, 0, total / 8);
	bad |= run("mbedTLS AES-128-GCM", 1, 0, total / 2);
	bad |= run("mbedTLS ChaCha20-Poly1305", 2, 0, total / 2);
	return bad;
}
