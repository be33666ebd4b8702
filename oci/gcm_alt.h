/* mbedTLS's view of a GCM context when the deps are built with
 * MBEDTLS_GCM_ALT (x86_64 targets, see build.sh's build_mbedtls): copied
 * next to mbedtls/gcm.h, which includes it.  The bytes belong to
 * oci/gcm_mbedtls.c, which keeps our AES-GCM key and stream state in them
 * (it checks at compile time that they fit).  mbedTLS allocates these
 * contexts itself (cipher_wrap.c), so the size is part of the deps'
 * ABI: build.sh hashes this file into the deps prefix name. */
#ifndef MBEDTLS_GCM_ALT_H
#define MBEDTLS_GCM_ALT_H

#include <stdint.h>

#define MBEDTLS_GCM_ALT_WORDS 128

typedef struct mbedtls_gcm_context {
	uint64_t opaque[MBEDTLS_GCM_ALT_WORDS];
} mbedtls_gcm_context;

#endif
