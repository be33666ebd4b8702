/* Fuzz target for oci/gcm.c + oci/gcm_x86.c, differential: the input is a
 * selector byte (key size, IV length, AAD length, piece size), then key,
 * IV, AAD and message bytes.  Opening the message as a forged record
 * (its last 16 bytes as the tag) must fail and zero the output; sealing
 * it must give the same ciphertext and tag on the accelerated and the
 * portable path and through the stream API in pieces; opening that must
 * give the message back.  Any difference aborts. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "oci/gcm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAXMSG 8192

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t c1[MAXMSG], c2[MAXMSG], c3[MAXMSG], p[MAXMSG];
	uint8_t t1[16], t2[16], t3[16];
	struct gcm_key k;
	struct gcm g;
	size_t kl, il, al, len, piece, i, n;
	const uint8_t *key, *iv, *aad, *msg;

	if (size < 2)
		return 0;
	kl = 16 + 8 * (data[0] % 3);
	il = data[0] & 8 ? 12 : 1 + data[1] % 64;
	al = (data[0] >> 4) * 3;
	piece = 1 + data[1] % 97;
	data += 2, size -= 2;
	if (size < kl + il + al)
		return 0;
	key = data, iv = key + kl, aad = iv + il, msg = aad + al;
	len = size - kl - il - al;
	if (len > MAXMSG)
		len = MAXMSG;
	if (gcm_key_init(&k, key, kl) != 0)
		abort();

	/* A forged record: some tag, some ciphertext. */
	if (len >= 16) {
		memset(p, 0x55, len - 16);
		if (gcm_open(&k, iv, il, aad, al, msg, p, len - 16, msg + len - 16, 16) != -EBADMSG)
			abort();
		for (i = 0; i < len - 16; i++)
			if (p[i])
				abort();
	}

	/* Seal three ways, then open. */
	gcm_seal(&k, iv, il, aad, al, msg, c1, len, t1, 16);
	k.accel = 0;
	gcm_seal(&k, iv, il, aad, al, msg, c2, len, t2, 16);
	k.accel = gcm_accelerated();
	gcm_start(&g, &k, 0, iv, il, aad, al);
	for (i = 0; i < len; i += n) {
		n = len - i < piece ? len - i : piece;
		gcm_update(&g, &k, msg + i, c3 + i, n);
	}
	gcm_finish(&g, &k, t3);
	if (memcmp(c1, c2, len) || memcmp(c1, c3, len) || memcmp(t1, t2, 16) || memcmp(t1, t3, 16))
		abort();
	if (gcm_open(&k, iv, il, aad, al, c1, c1, len, t1, 16) != 0 || memcmp(c1, msg, len))
		abort();
	return 0;
}
