#!/bin/sh
# Unpack: the Debian bookworm two-layer image (t/integ/snapshot_debian.sh
# --layers; its layers already in the content store) turned into a bootable
# ext4 image.  Ours: t/tools/snapshot build (oci/snapshot.c: verify, gunzip,
# diff_id, tar, ext4, fsync).  Reference: `umoci raw unpack` of the same
# blobs as an OCI layout, then `mke2fs -t ext4 -d` of the tree (the image
# the same size as ours).  Floor: decompressing the layers to /dev/null
# (zcat).  Median of BENCH_RUNS (5) wall-clock times, plus CPU time
# (user+sys), which is what a loaded machine distorts least; and the peak
# RSS of our unpack.  Targets (issue #4): >= 2x faster than umoci + mke2fs,
# within 1.5x of the floor.
set -u
: "${TOOLS_DIR:?TOOLS_DIR must point at the built test tools}"
SRCDIR=${SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
SNAP=$TOOLS_DIR/snapshot
RUNS=${BENCH_RUNS:-5}
W=$(mktemp -d "${TMPDIR:-/tmp}/bench_unpack.XXXXXX")
trap 'rm -rf "$W"' EXIT

need() { command -v "$1" >/dev/null 2>&1 || { echo "unpack: SKIP: $1 is not installed ($2)"; exit 0; }; }
need umoci umoci
need mke2fs e2fsprogs
need zcat gzip
[ -x /usr/bin/time ] || { DEBIAN_FRONTEND=noninteractive apt-get install -y time >/dev/null 2>&1 ||
	{ echo "unpack: SKIP: /usr/bin/time is not installed (apt: time)"; exit 0; }; }
[ -x "$SNAP" ] || { echo "unpack: $SNAP is not built"; exit 1; }

echo "preparing the Debian layers (debootstrap corpus, cached) ..."
sh "$SRCDIR/t/integ/snapshot_debian.sh" --layers "$W/layers" || { echo "unpack: SKIP: no Debian corpus"; exit 0; }
L1=$W/layers/lower.tar.gz L2=$W/layers/upper.tar.gz
digest=$("$SNAP" put "$W/root" "$L1" "$L2") || exit 1

# The same blobs as an OCI image layout for umoci.
mkdir -p "$W/oci/blobs"
ln -s "$W/root/content/blobs/sha256" "$W/oci/blobs/sha256"
echo '{"imageLayoutVersion":"1.0.0"}' >"$W/oci/oci-layout"
msize=$(stat -c %s "$W/root/content/blobs/sha256/${digest#sha256:}")
printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"debian"}}]}\n' \
	"$digest" "$msize" >"$W/oci/index.json"

# run NAME SETUP CMD...: one timed run; appends "wall cpu" to $W/NAME.
run() {
	name=$1 setup=$2
	shift 2
	sh -c "$setup"
	sync
	/usr/bin/time -f '%e %U %S %M' -o "$W/time.out" "$@" >/dev/null 2>"$W/$name.err" ||
		{ echo "unpack: $name failed: $(tail -3 "$W/$name.err")"; exit 1; }
	awk '{ printf "%s %.2f %s\n", $1, $2 + $3, $4 }' "$W/time.out" >>"$W/$name"
}
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

"$SNAP" build "$W/root" "$digest" "$W/ours.ext4" >"$W/stats" || exit 1
size=$(stat -c %s "$W/ours.ext4")
cat >"$W/umoci_mke2fs.sh" <<EOF
set -e
umoci raw unpack --image "$W/oci:debian" "$W/rootfs" 2>/dev/null
mke2fs -q -F -t ext4 -d "$W/rootfs" "$W/ref.ext4" $((size / 1024))k
EOF

i=0
while [ $i -lt "$RUNS" ]; do
	run ours "rm -f '$W/ours.ext4'" "$SNAP" build "$W/root" "$digest" "$W/ours.ext4"
	run umoci "rm -rf '$W/rootfs' '$W/ref.ext4'" sh "$W/umoci_mke2fs.sh"
	run floor ":" zcat "$L1" "$L2"
	i=$((i + 1))
done

col() { cut -d' ' -f"$2" "$W/$1" | median; }
ow=$(col ours 1) oc=$(col ours 2) uw=$(col umoci 1) uc=$(col umoci 2) fw=$(col floor 1) fc=$(col floor 2)
rss=$(cut -d' ' -f3 "$W/ours" | sort -n | tail -1)
ratio() { awk "BEGIN { printf \"%.2f\", $1 / ($2 > 0 ? $2 : 0.001) }"; }
echo
echo "Debian bookworm minbase, 2 layers: $(cat "$W/stats" | awk '{ printf "%.1f MB gzip -> %.1f MB tar, %d entries; image %.0f MB", $4/1e6, $6/1e6, $8, $12/1e6 }')"
printf '%-40s %10s %10s\n' "unpack to a bootable ext4, median of $RUNS" "wall s" "cpu s"
printf '%-40s %10s %10s\n' "ours (t/tools/snapshot build, fsync)" "$ow" "$oc"
printf '%-40s %10s %10s\n' "umoci raw unpack + mke2fs -t ext4 -d" "$uw" "$uc"
printf '%-40s %10s %10s\n' "floor: zcat layers >/dev/null" "$fw" "$fc"
printf '%-40s %10s %10s\n' "umoci+mke2fs / ours (target >= 2)" "$(ratio "$uw" "$ow")" "$(ratio "$uc" "$oc")"
printf '%-40s %10s %10s\n' "ours / floor (target <= 1.5)" "$(ratio "$ow" "$fw")" "$(ratio "$oc" "$fc")"
printf '%-40s %10s\n' "peak RSS of ours (KiB)" "$rss"
