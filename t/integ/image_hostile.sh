#!/bin/bash
# `container image pull` against a hostile registry (a node server made
# here, plain http on loopback): every case ends in one clear error naming
# the registry and reference, or a correct result, and a failed pull leaves
# the store as it was (no new blob, no new name, images.json unchanged).
set -u
: "${CONTAINER_BIN:?}" "${TMPDIR:=/tmp}"
command -v node >/dev/null || { echo "1..0 # SKIP node not installed"; exit 0; }
C=$CONTAINER_BIN
W=$(mktemp -d "$TMPDIR/image_hostile.XXXXXX")
PID=
# the pulls run in an API server on $W (issue #6), stopped on exit
trap '"$C" system stop >/dev/null 2>&1; [ -n "$PID" ] && kill $PID 2>/dev/null; rm -rf "$W"' EXIT
N=0 FAILED=0
tap_ok() { N=$((N + 1)); if [ "$1" = 0 ]; then echo "ok $N - $2"; else echo "not ok $N - $2"; FAILED=$((FAILED + 1)); fi; }
tap_like() {
	N=$((N + 1))
	case "$1" in *"$2"*) echo "ok $N - $3" ;; *) echo "not ok $N - $3"; echo "#   got:  '$1'"; echo "#   want: *$2*"; FAILED=$((FAILED + 1)) ;; esac
}

cat >"$W/reg.js" <<'EOF'
// A registry whose repositories each misbehave in one way; "good/img" is
// an honest one-layer image.
const http = require("http"), crypto = require("crypto"), zlib = require("zlib");
const sha = b => "sha256:" + crypto.createHash("sha256").update(b).digest("hex");
function tar(name, data) {
	const h = Buffer.alloc(512);
	h.write(name, 0); h.write("0000644\0", 100); h.write("0000000\0", 108); h.write("0000000\0", 116);
	h.write(data.length.toString(8).padStart(11, "0") + "\0", 124); h.write("00000000000\0", 136);
	h.write("        ", 148); h.write("0", 156); h.write("ustar\0", 257); h.write("00", 263);
	let s = 0; for (const b of h) s += b;
	h.write(s.toString(8).padStart(6, "0") + "\0 ", 148);
	const pad = Buffer.alloc((512 - data.length % 512) % 512);
	return Buffer.concat([h, data, pad, Buffer.alloc(1024)]);
}
const MT = "application/vnd.oci.image.manifest.v1+json";
function image(opt = {}) {
	const plain = tar("hello.txt", Buffer.from("hello " + (opt.salt || "") + "\n".repeat(70000)));
	let layer = opt.notgzip ? plain : zlib.gzipSync(plain);
	const diff = opt.baddiff ? sha(Buffer.from("other")) : sha(plain);
	const config = Buffer.from(JSON.stringify({ architecture: "amd64", os: "linux",
		rootfs: { type: "layers", diff_ids: [diff] } }));
	const m = { schemaVersion: 2, mediaType: MT,
		config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: sha(config), size: config.length },
		layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: opt.digest || sha(layer),
			size: layer.length + (opt.sizeDelta || 0) }] };
	return { manifest: Buffer.from(JSON.stringify(m)), config, layer };
}
const repos = {
	"good/img": image(),
	"badlayer/img": image({ salt: "a" }), "longlayer/img": image({ salt: "b" }),
	"badconfig/img": image({ salt: "c" }), "notgzip/img": image({ salt: "d", notgzip: true }),
	"diffid/img": image({ salt: "e", baddiff: true }), "short/img": image({ salt: "f", sizeDelta: 100 }),
	"traversal/img": image({ salt: "g", digest: "sha256:../../../../etc/passwd" }),
	"cut/img": image({ salt: "h" }),
};
// what each serves instead of the truth
const served = (repo, kind, buf) => {
	if (repo === "badlayer/img" && kind === "layer") { const b = Buffer.from(buf); b[b.length >> 1] ^= 1; return b; }
	if (repo === "longlayer/img" && kind === "layer") return Buffer.concat([buf, Buffer.from("0123456789")]);
	if (repo === "badconfig/img" && kind === "config") return Buffer.from(buf.toString().replace("amd64", "arm64"));
	return buf;
};
let cutDone = false;
http.createServer((q, r) => {
	const send = (code, type, body, extra = {}) => { r.writeHead(code, Object.assign({ "Content-Type": type, "Content-Length": body.length }, extra)); r.end(q.method === "HEAD" ? undefined : body); };
	const err = (code, c) => send(code, "application/json", Buffer.from(JSON.stringify({ errors: [{ code: c, message: "x" }] })));
	if (q.url === "/v2/") return send(200, "application/json", Buffer.from("{}"));
	let m = q.url.match(/^\/v2\/(.+)\/manifests\/([^/]+)$/);
	if (m) {
		const [, repo, ref] = m;
		if (repo === "ratelimit/img") return err(429, "TOOMANYREQUESTS");
		if (repo === "denied/img") return err(403, "DENIED");
		if (repo === "schema1/img")
			return send(200, "application/vnd.docker.distribution.manifest.v1+prettyjws",
				Buffer.from(JSON.stringify({ schemaVersion: 1, name: "schema1/img", tag: "1", fsLayers: [], history: [] })));
		const im = repos[repo];
		if (!im || (ref !== "1" && ref !== sha(im.manifest))) return err(404, "MANIFEST_UNKNOWN");
		const type = repo === "ctmismatch/img" ? "application/vnd.oci.image.index.v1+json" : MT;
		return send(200, type, im.manifest, { "Docker-Content-Digest": sha(im.manifest) });
	}
	m = q.url.match(/^\/v2\/(.+)\/blobs\/(sha256:[0-9a-f]{64})$/);
	if (m) {
		const [, repo, dg] = m, im = repos[repo];
		if (!im) return err(404, "BLOB_UNKNOWN");
		let kind = dg === sha(im.config) ? "config" : dg === sha(im.layer) ? "layer" : null;
		if (!kind) return err(404, "BLOB_UNKNOWN");
		let body = served(repo, kind, kind === "config" ? im.config : im.layer);
		const range = (q.headers.range || "").match(/^bytes=(\d+)-$/);
		if (repo === "cut/img" && kind === "layer" && !cutDone) {
			// declare the whole layer, send half, close
			cutDone = true;
			r.writeHead(200, { "Content-Type": "application/octet-stream", "Content-Length": body.length });
			r.write(body.slice(0, body.length >> 1));
			return setTimeout(() => r.socket.destroy(), 50);
		}
		if (range) {
			const start = +range[1];
			return send(206, "application/octet-stream", body.slice(start),
				{ "Content-Range": `bytes ${start}-${body.length - 1}/${body.length}` });
		}
		if (repo === "cut/img" && kind === "layer") console.log("full-refetch");
		return send(200, "application/octet-stream", body);
	}
	err(404, "NAME_UNKNOWN");
}).listen(+process.argv[2], "127.0.0.1", () => console.log("ready"));
EOF
port=$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
node "$W/reg.js" "$port" >"$W/reg.log" 2>&1 &
PID=$!
for i in $(seq 100); do grep -q ready "$W/reg.log" 2>/dev/null && break; sleep 0.1; done
R=127.0.0.1:$port
export CONTAINER_DATA_DIR=$W/data CONTAINER_RUN_DIR=$W/data/run DOCKER_CONFIG=$W/docker CONTAINER_REGISTRY_INSECURE=$R
unset CONTAINER_REGISTRY_CA
"$C" system start >/dev/null 2>&1

blobs() { ls "$CONTAINER_DATA_DIR/content/blobs/sha256" 2>/dev/null | sort | tr '\n' ' '; }
state() { echo "$(blobs)|$(cat "$CONTAINER_DATA_DIR/images.json" 2>/dev/null)"; }

out=$($C image pull --progress none "$R/good/img:1" 2>&1); rc=$?
tap_like "$rc:$out" "0:Pulled $R/good/img:1" "an honest registry over plain http (insecure opt-in)"
before=$(state)

hostile() { # repo expected-fragment name [pull options]
	out=$($C image pull --progress none ${4:-} "$R/$1:1" 2>&1); rc=$?
	tap_like "$rc:$out" "1:container image pull: pull $R/$1:1: $2" "$3"
	tap_like "$(state)" "$before" "$3: store and images.json unchanged"
}
hostile badlayer/img "digest mismatch for blob" "layer bytes that do not match the digest"
# Only the blob that failed verification must go: a sibling download
# cancelled mid-way (the config, racing the layer) keeps its partial ingest
# file on purpose, so the next pull resumes it.
bad=$(curl -s "http://$R/v2/badlayer/img/manifests/1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["layers"][0]["digest"].split(":")[1])')
[ -n "$bad" ] && [ ! -e "$CONTAINER_DATA_DIR/content/ingest/$bad" ]
tap_ok $? "the bad partial download is deleted"
hostile longlayer/img "registry $R: blob" "a layer body longer than declared"
hostile badconfig/img "digest mismatch for blob" "a config that does not match its digest"
hostile notgzip/img "" "a layer declared gzip that is not (--verify-diff-ids)" --verify-diff-ids
hostile diffid/img "digest mismatch for uncompressed layer" "a layer whose diff_id is not the config's (--verify-diff-ids)" --verify-diff-ids
hostile short/img "registry $R: blob" "a layer shorter than its descriptor"
hostile traversal/img "" "a digest like sha256:../../x in a manifest"
hostile ratelimit/img "registry $R: rate limited (429)" "429 rate limited"
hostile denied/img "registry $R: access to repository denied/img denied" "403 denied"
hostile schema1/img "" "a schema1 manifest"
tap_like "$out" "schema1" "schema1 is named as such"
hostile nothere/img "registry $R: manifest 1 not found in repository nothere/img" "an unknown repository"
out=$($C image pull --progress none "$R/good/img:2" 2>&1); rc=$?
tap_like "$rc:$out" "1:container image pull: pull $R/good/img:2: registry $R: manifest 2 not found in repository good/img" "an unknown tag"

# the connection cut mid-layer: the second request asks for the rest only
# (with the decompressor running across the cut)
out=$($C image pull --progress none --verify-diff-ids "$R/cut/img:1" 2>&1); rc=$?
tap_like "$rc:$out" "0:Pulled $R/cut/img:1" "a layer cut mid-way is resumed and the pull succeeds"
grep -q full-refetch "$W/reg.log"; tap_ok $((1 - $?)) "the rest was fetched with Range, not again from the start"

# scheme: auto refuses plain http for a non-loopback name, https stays https
out=$(CONTAINER_REGISTRY_INSECURE= $C image pull --progress none --scheme https "$R/good/img:1" 2>&1); rc=$?
tap_like "$rc:$out" "1:container image pull: pull $R/good/img:1: " "--scheme https does not fall back to http"
echo "1..$N"
[ "$FAILED" = 0 ]
