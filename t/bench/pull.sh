#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# Pull of a ~200 MB (uncompressed), 4-layer gzip image from a TLS
# docker-registry on loopback into a cold store, median of 5 runs:
#   ours     container image pull (3 layers at a time, digest + gunzip +
#            diff_id checked in the one pass)
#   skopeo   skopeo copy docker://... oci:DIR (digest only)
#   floor    the same blob bytes read from disk once, each layer through
#            sha256 and gunzip + sha256 (tee), layers in parallel
# Content is generated with a fixed seed (compresses about 3:1).
. "$(dirname "$0")/../integ/registry_env.sh"
reg_need docker-registry openssl node skopeo umoci
: "${CONTAINER_BIN:?}"
RUNS=${BENCH_RUNS:-5}
LAYER_MB=${BENCH_LAYER_MB:-50}
W=$REG_DIR/work
mkdir -p "$W"

cat >"$W/gen.js" <<'EOF'
// Deterministic, compressible content: words from a small dictionary and
// some hex noise, from a seeded xorshift.
const fs = require("fs");
const [out, mb, seed] = process.argv.slice(2);
let x = (+seed * 2654435761) >>> 0 || 1;
const rnd = () => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x; };
const words = []; for (let i = 0; i < 512; i++) { let w = ""; const n = 3 + rnd() % 8; for (let k = 0; k < n; k++) w += String.fromCharCode(97 + rnd() % 26); words.push(w); }
const fd = fs.openSync(out, "w"), chunk = Buffer.alloc(1 << 20);
for (let m = 0; m < +mb; m++) {
	let o = 0;
	while (o < chunk.length - 64) {
		if (rnd() % 8 == 0) o += chunk.write(rnd().toString(16) + rnd().toString(16) + " ", o);
		else o += chunk.write(words[rnd() % 512] + (rnd() % 12 ? " " : "\n"), o);
	}
	chunk.fill(10, o);
	fs.writeSync(fd, chunk);
}
fs.closeSync(fd);
EOF
umoci init --layout "$W/oci" >/dev/null && umoci new --image "$W/oci:b" >/dev/null || exit 1
for i in 1 2 3 4; do
	mkdir -p "$W/l$i/data"
	node "$W/gen.js" "$W/l$i/data/file$i" "$LAYER_MB" "$i" || exit 1
	umoci insert --rootless --image "$W/oci:b" "$W/l$i" / >/dev/null || exit 1
	rm -rf "$W/l$i"
done
umoci config --image "$W/oci:b" --architecture amd64 --os linux >/dev/null
reg_start none || { echo "registry did not start"; exit 1; }
skopeo copy -q --dest-cert-dir "$REG_CERTS" "oci:$W/oci:b" "docker://$REG/bench/img:1" >/dev/null || exit 1
mdig=$(node -e 'const i=JSON.parse(require("fs").readFileSync(process.argv[1]));console.log(i.manifests.find(m=>m.annotations["org.opencontainers.image.ref.name"]=="b").digest.slice(7))' "$W/oci/index.json")
layers=$(node -e 'const m=JSON.parse(require("fs").readFileSync(process.argv[1]));console.log(m.layers.map(l=>l.digest.slice(7)).join(" "))' "$W/oci/blobs/sha256/$mdig")
csize=0
for l in $layers; do csize=$((csize + $(stat -c %s "$W/oci/blobs/sha256/$l"))); done

now() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
ms() { echo $(( ($2 - $1) / 1000000 )); }

ours=() sko=() flo=()
for r in $(seq "$RUNS"); do
	rm -rf "$W/data" "$W/sk"
	sync
	s=$(now)
	CONTAINER_DATA_DIR=$W/data DOCKER_CONFIG=$W/docker CONTAINER_REGISTRY_CA=$REG_CA \
		"$CONTAINER_BIN" image pull --progress none "$REG/bench/img:1" >/dev/null || { echo "our pull failed"; exit 1; }
	ours+=("$(ms "$s" "$(now)")")
	s=$(now)
	skopeo copy -q --src-cert-dir "$REG_CERTS" "docker://$REG/bench/img:1" "oci:$W/sk:b" >/dev/null || { echo "skopeo failed"; exit 1; }
	sko+=("$(ms "$s" "$(now)")")
	s=$(now)
	pids=
	for l in $layers; do
		(tee <"$W/oci/blobs/sha256/$l" >(sha256sum >/dev/null) | gzip -dc | sha256sum >/dev/null) &
		pids="$pids $!"
	done
	wait $pids # not a bare wait: the registry is a child too
	flo+=("$(ms "$s" "$(now)")")
done
o=$(printf '%s\n' "${ours[@]}" | median)
k=$(printf '%s\n' "${sko[@]}" | median)
f=$(printf '%s\n' "${flo[@]}" | median)
printf 'pull of a %d-layer image: %d MB compressed, %d MB uncompressed; median of %d runs\n' \
	4 $((csize / 1000000)) $((4 * LAYER_MB * 1048576 / 1000000)) "$RUNS"
printf '%-44s %10s %10s\n' "" "ms" "MB/s"
printf '%-44s %10d %10.0f\n' "container image pull (cold store)" "$o" "$(awk "BEGIN{print $csize/1000/$o}")"
printf '%-44s %10d %10.0f\n' "skopeo copy docker:// oci:" "$k" "$(awk "BEGIN{print $csize/1000/$k}")"
printf '%-44s %10d %10.0f\n' "floor: sha256 + gunzip + sha256, one pass" "$f" "$(awk "BEGIN{print $csize/1000/$f}")"
printf '%-44s %10s\n' "skopeo / ours (target >= 1.5)" "$(awk "BEGIN{printf \"%.2f\", $k/$o}")"
printf '%-44s %10s\n' "ours / floor (target <= 1.3)" "$(awk "BEGIN{printf \"%.2f\", $o/$f}")"
echo "runs (ms): ours ${ours[*]}; skopeo ${sko[*]}; floor ${flo[*]}"
