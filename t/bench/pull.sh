#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# Pull of a 4-layer gzip image, ~210 MB of compressed blobs (4 x 128 MiB
# uncompressed, about 2.5:1), from a TLS docker-registry on loopback into a
# cold store (fresh data dir, page cache of the registry's files warm),
# median of 5 runs.  What each column does:
#   ours          container image pull: TLS download + sha256 + write +
#                 fsync of every blob, 3 blobs at a time (the default)
#   ours verify   the same with --verify-diff-ids: also gunzip + sha256 of
#                 the output, in the same pass
#   skopeo        skopeo copy docker://... oci:DIR: download + sha256 +
#                 write (no fsync)
#   floor digest  t/tools/pullfloor -d: each blob file read once + sha256,
#                 3 threads (no network, no TLS, no writes)
#   floor full    t/tools/pullfloor: read + sha256 + gunzip + sha256 of the
#                 output in one pass, 3 threads
# Content is generated with a fixed seed.  BENCH_CACHE=DIR keeps the
# generated image layout there between invocations.  BENCH_BASELINE_BIN=
# another container binary (an older build) adds its plain pull as a
# column, interleaved with the others, for before/after comparisons.
. "$(dirname "$0")/../integ/registry_env.sh"
reg_need docker-registry openssl node skopeo umoci
: "${CONTAINER_BIN:?}"
FLOOR=$TOOLS_DIR/pullfloor
[ -x "$FLOOR" ] || { echo "pullfloor not built (TOOLS_DIR)"; exit 1; }
RUNS=${BENCH_RUNS:-5}
LAYERS=${BENCH_LAYERS:-4}
LAYER_MB=${BENCH_LAYER_MB:-128}
W=$REG_DIR/work
IMG=${BENCH_CACHE:-$W/img}/oci-$LAYERS-$LAYER_MB
mkdir -p "$W"

gen_image() {
	mkdir -p "$W/gen"
	cat >"$W/gen/gen.js" <<'EOS'
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
EOS
	rm -rf "$IMG.tmp" && mkdir -p "$(dirname "$IMG")" || return 1
	umoci init --layout "$IMG.tmp" >/dev/null && umoci new --image "$IMG.tmp:b" >/dev/null || return 1
	for i in $(seq "$LAYERS"); do
		mkdir -p "$W/gen/l$i/data"
		node "$W/gen/gen.js" "$W/gen/l$i/data/file$i" "$LAYER_MB" "$i" || return 1
		umoci insert --rootless --image "$IMG.tmp:b" "$W/gen/l$i" / >/dev/null || return 1
		rm -rf "$W/gen/l$i"
	done
	umoci config --image "$IMG.tmp:b" --architecture amd64 --os linux >/dev/null || return 1
	mv "$IMG.tmp" "$IMG"
}
[ -f "$IMG/index.json" ] || gen_image || { echo "cannot generate the image"; exit 1; }

reg_start none || { echo "registry did not start"; exit 1; }
skopeo copy -q --dest-cert-dir "$REG_CERTS" "oci:$IMG:b" "docker://$REG/bench/img:1" >/dev/null || exit 1
mdig=$(node -e 'const i=JSON.parse(require("fs").readFileSync(process.argv[1]));console.log(i.manifests.find(m=>m.annotations["org.opencontainers.image.ref.name"]=="b").digest.slice(7))' "$IMG/index.json")
layers=$(node -e 'const m=JSON.parse(require("fs").readFileSync(process.argv[1]));console.log(m.layers.map(l=>l.digest.slice(7)).join(" "))' "$IMG/blobs/sha256/$mdig")
csize=0 files=
for l in $layers; do
	csize=$((csize + $(stat -c %s "$IMG/blobs/sha256/$l")))
	files="$files $IMG/blobs/sha256/$l"
done

now() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
ms() { echo $(( ($2 - $1) / 1000000 )); }
pull() { # DATADIR ARGS...
	local d=$1
	shift
	# the pull runs in an API server on DATADIR (issue #6): its start and
	# stop are inside the time (a few ms)
	export DOCKER_CONFIG=$W/docker CONTAINER_REGISTRY_CA=$REG_CA
	CONTAINER_BIN=${PULL_BIN:-$CONTAINER_BIN} api_use "$d"
	"${PULL_BIN:-$CONTAINER_BIN}" image pull --progress none "$@" "$REG/bench/img:1" >/dev/null
	set -- "$d" $?
	CONTAINER_BIN=${PULL_BIN:-$CONTAINER_BIN} api_stop "$1"
	return "$2"
}

# One untimed round first: it warms the page cache with the registry's files.
pull "$W/data" || { echo "our pull failed"; exit 1; }
ours=() ver=() sko=() fld=() flf=() base=()
for r in $(seq "$RUNS"); do
	rm -rf "$W/data" "$W/sk"
	sync
	s=$(now)
	pull "$W/data" || { echo "our pull failed"; exit 1; }
	ours+=("$(ms "$s" "$(now)")")
	rm -rf "$W/data"
	sync
	s=$(now)
	pull "$W/data" --verify-diff-ids || { echo "our pull --verify-diff-ids failed"; exit 1; }
	ver+=("$(ms "$s" "$(now)")")
	sync
	s=$(now)
	skopeo copy -q --src-cert-dir "$REG_CERTS" "docker://$REG/bench/img:1" "oci:$W/sk:b" >/dev/null || { echo "skopeo failed"; exit 1; }
	sko+=("$(ms "$s" "$(now)")")
	if [ -n "${BENCH_BASELINE_BIN:-}" ]; then
		rm -rf "$W/data"
		sync
		s=$(now)
		PULL_BIN=$BENCH_BASELINE_BIN pull "$W/data" || { echo "baseline pull failed"; exit 1; }
		base+=("$(ms "$s" "$(now)")")
	fi
	sync
	fld+=("$("$FLOOR" -d -j 3 $files)") || { echo "pullfloor failed"; exit 1; }
	flf+=("$("$FLOOR" -j 3 $files)") || { echo "pullfloor failed"; exit 1; }
done
o=$(printf '%s\n' "${ours[@]}" | median)
v=$(printf '%s\n' "${ver[@]}" | median)
k=$(printf '%s\n' "${sko[@]}" | median)
fd=$(printf '%s\n' "${fld[@]}" | median)
ff=$(printf '%s\n' "${flf[@]}" | median)
row() { printf '%-52s %8d %8.0f\n' "$1" "$2" "$(awk "BEGIN{print $csize/1000/$2}")"; }
ratio() { printf '%-52s %8s\n' "$1" "$(awk "BEGIN{printf \"%.2f\", $2/$3}")"; }
printf 'pull of a %d-layer gzip image: %d MB of compressed blobs, %d MB uncompressed; median of %d runs\n' \
	"$LAYERS" $((csize / 1000000)) $((LAYERS * LAYER_MB * 1048576 / 1000000)) "$RUNS"
printf '%-52s %8s %8s\n' "" "ms" "MB/s"
row "ours: TLS + sha256 + write + fsync" "$o"
row "ours --verify-diff-ids: ... + gunzip + sha256" "$v"
row "skopeo copy docker:// oci: (sha256 + write)" "$k"
row "floor digest: read + sha256, 3 threads" "$fd"
row "floor full: read + sha256 + gunzip + sha256" "$ff"
if [ -n "${BENCH_BASELINE_BIN:-}" ]; then
	b=$(printf '%s\n' "${base[@]}" | median)
	row "baseline: BENCH_BASELINE_BIN's plain pull" "$b"
	ratio "baseline / ours" "$b" "$o"
fi
ratio "skopeo / ours (target >= 1.5)" "$k" "$o"
ratio "skopeo / ours --verify-diff-ids" "$k" "$v"
ratio "ours / floor full (target <= 1.3)" "$o" "$ff"
ratio "ours --verify-diff-ids / floor full" "$v" "$ff"
ratio "ours / floor digest" "$o" "$fd"
echo "runs (ms): ours ${ours[*]}; verify ${ver[*]}; skopeo ${sko[*]}; floor-d ${fld[*]}; floor ${flf[*]}${BENCH_BASELINE_BIN:+; baseline ${base[*]}}"
