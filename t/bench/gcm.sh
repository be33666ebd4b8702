#!/bin/sh
# Opening TLS records (16 KiB, in place): oci/gcm.c with AES-NI +
# PCLMULQDQ and portable, against the stock mbedTLS 2.28 AES-GCM and
# ChaCha20-Poly1305 that it replaces on x86_64 (t/tools/gcmbench, GCM_MIB
# MiB, default 256; the slower ones get a fraction of it).
set -u
: "${TOOLS_DIR:?TOOLS_DIR must point at the built test tools}"
B=$TOOLS_DIR/gcmbench
[ -x "$B" ] || { echo "gcm: $B is not built"; exit 1; }
printf '%-28s %8s\n' "open 16 KiB records" MB/s
"$B" "${GCM_MIB:-256}"
