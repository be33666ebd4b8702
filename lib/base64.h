/* Base64 decoding for the two places that read it from outside data: the
 * guest's container.config= boot parameter (initrd/guest.c, standard or
 * URL alphabet) and libarchive's xattr PAX records (oci/tar.c).  Padding is
 * optional (libarchive omits it); the bits left over in a final partial
 * group must be zero; anything else is refused.  (Credentials use
 * mbedTLS's decoder: Docker's config.json always pads.) */
#ifndef LIB_BASE64_H
#define LIB_BASE64_H

#include <stddef.h>

enum { BASE64_URL = 1 << 0 }; /* also accept '-' and '_' for 62 and 63 */

/* Decode in[0..n) into out (room for n * 3 / 4 bytes; out may be in: the
 * output never overtakes the input).  0 and *out_len, or -EINVAL. */
int base64_decode(const char *in, size_t n, unsigned char *out, size_t *out_len, unsigned flags);

#endif
