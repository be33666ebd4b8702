#!/bin/bash
# The TLS record layer of the product binary against OpenSSL (node's TLS,
# t/tools/suite_server.js): an image pull over each TLS 1.2 suite a server
# may insist on (AES-128-GCM and AES-256-GCM run on oci/gcm*.c on x86_64;
# ChaCha20-Poly1305 and AES-CBC on mbedTLS), the suite our client asks for
# first when the server lets it choose, and one flipped bit inside a layer's
# records: the pull must fail in TLS (not later, in the digest check) and
# store nothing.
. "$(dirname "$0")/registry_env.sh"
reg_need node openssl python3
: "${CONTAINER_BIN:?}"
reg_pki || { echo "1..0 # SKIP openssl could not make certificates"; exit 0; }
W=$REG_DIR/w
mkdir -p "$W/img/blobs"

# One image: a 1 MiB incompressible file in one gzip layer (~64 records).
python3 - "$W/img" <<'EOS' || { echo "1..0 # SKIP cannot build the test image"; exit 0; }
import gzip, hashlib, io, json, os, sys, tarfile
d = sys.argv[1]
data = os.urandom(1 << 20)
t = io.BytesIO()
with tarfile.open(fileobj=t, mode="w") as tf:
    ti = tarfile.TarInfo("data.bin"); ti.size = len(data); tf.addfile(ti, io.BytesIO(data))
tar = t.getvalue(); gz = gzip.compress(tar, mtime=0)
h = lambda b: hashlib.sha256(b).hexdigest()
cfg = json.dumps({"architecture": "amd64", "os": "linux",
                  "rootfs": {"type": "layers", "diff_ids": ["sha256:" + h(tar)]}}).encode()
for b in (cfg, gz):
    open(os.path.join(d, "blobs", h(b)), "wb").write(b)
open(os.path.join(d, "layer"), "w").write(h(gz))
json.dump({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
           "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                      "digest": "sha256:" + h(cfg), "size": len(cfg)},
           "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                       "digest": "sha256:" + h(gz), "size": len(gz)}]},
          open(os.path.join(d, "manifest.json"), "w"))
EOS
LAYER=$(cat "$W/img/layer")

SRV=
serve() { # SUITE [FLIP]: starts the server, sets PORT
	PORT=$(free_port)
	: >"$W/suites.log"
	node "$SRCDIR/t/tools/suite_server.js" "$PORT" "$REG_DIR/server.key" "$REG_DIR/server.crt" \
		"$W/img" "$W/suites.log" "$1" ${2:+"$2"} 2>"$W/server.err" &
	SRV=$!
	REG_PIDS="$REG_PIDS $SRV"
	wait_port "$PORT" || cat "$W/server.err" >&2
}
stop() { kill "$SRV" 2>/dev/null; wait "$SRV" 2>/dev/null; }
pull() { # DATADIR: pull (by a server on DATADIR), stderr to $W/err
	export DOCKER_CONFIG=$W/docker CONTAINER_REGISTRY_CA=$REG_CA
	api_use "$1"
	"$CONTAINER_BIN" image pull --progress none "127.0.0.1:$PORT/t/img:1" >/dev/null 2>"$W/err"
	set -- "$1" $?
	api_stop "$1"   # before the caller removes DATADIR
	return "$2"
}
# Complete, verified blobs only (a failed download may leave its ingest
# file, for resuming).
stored() { [ -f "$1/content/blobs/sha256/$LAYER" ]; }

for s in ECDHE-RSA-AES128-GCM-SHA256:TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 \
	ECDHE-RSA-AES256-GCM-SHA384:TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 \
	ECDHE-RSA-CHACHA20-POLY1305:TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256 \
	ECDHE-RSA-AES128-SHA256:TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256; do
	name=${s#*:}
	serve "${s%%:*}"
	rm -rf "$W/d"
	pull "$W/d"
	tap_ok $? "pull over $name"
	[ -s "$W/err" ] && sed 's/^/#   /' "$W/err"
	stored "$W/d"
	tap_ok $? "$name: the layer is in the store (digest-verified)"
	tap_is "$(sort -u "$W/suites.log")" "$name" "$name: every connection used it"
	stop
done

# The server follows our order: AES-128-GCM first where it runs on
# AES-NI + PCLMULQDQ (x86_64), else mbedTLS's order (ChaCha20 first).
if [ "$(uname -m)" = x86_64 ] && grep -qw aes /proc/cpuinfo && grep -qw pclmulqdq /proc/cpuinfo; then
	want=TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
else
	want=TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256
fi
serve ""
rm -rf "$W/d"
pull "$W/d"
tap_ok $? "pull with the suite left to the client"
tap_is "$(sort -u "$W/suites.log")" "$want" "the client asks for $want first"
stop

# One bit flipped on the wire, ~300 KB into the layer: the record's tag
# check must catch it (a client that skipped it would only fail at the
# digest), and the layer must not become a blob.
for s in ECDHE-RSA-AES128-GCM-SHA256 ECDHE-RSA-AES256-GCM-SHA384 ECDHE-RSA-CHACHA20-POLY1305; do
	serve "$s" 300000
	rm -rf "$W/d"
	pull "$W/d"
	tap_ok $((! $?)) "$s: a flipped bit fails the pull"
	tap_like "$(cat "$W/err")" "TLS: reading from 127.0.0.1 failed" "$s: in the TLS record layer"
	! stored "$W/d"
	tap_ok $? "$s: the layer is not stored"
	stop
done
tap_done
