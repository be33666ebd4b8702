#!/bin/bash
# Where a container's files live, and what it costs (issue #8): sequential
# write (dd, fsync at the end) and read (guest page cache dropped first),
# and untarring many small files, on the host itself, in the container's
# own root file system (overlay on its ext4 disk), in a named volume (an
# ext4 virtio-blk disk), in a bind mount (9p, cache=mmap: coherent), in
# a bind mount with `:cached` (9p, cache=loose), and the same two bind
# mounts over virtio-fs (virtiofsd cache=auto, and cache=always for
# `:cached`; root and QEMU's virtiofsd needed, else those columns are
# left out).  Times in the VM come from /proc/uptime (10 ms resolution),
# so boot time is not counted.
# BENCH_MB (default 64) and BENCH_FILES (default 2000; the issue's
# example is 10000, which takes minutes through 9p under TCG).
set -u
: "${CONTAINER_BIN:?}" "${TMPDIR:=/tmp}"
SRCDIR=${SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
C=$CONTAINER_BIN
MB=${BENCH_MB:-64}
FILES=${BENCH_FILES:-2000}
KERNEL=$("$SRCDIR/initrd/kernel/build.sh" --cached x86_64 2>/dev/null) || { echo "skip: guest kernel not built"; exit 0; }
command -v qemu-system-x86_64 >/dev/null || { echo "skip: qemu-system-x86_64 missing"; exit 0; }
[ -x /bin/busybox ] || { echo "skip: no /bin/busybox"; exit 0; }
W=$(mktemp -d "$TMPDIR/bench_vol.XXXXXX")
trap 'rm -rf "$W"' EXIT
export CONTAINER_DATA_DIR=$W/data CONTAINER_RUN_DIR=$W/run
mkdir -p "$W/share" "$W/cached" "$W/host" "$W/vfs" "$W/vfscached"

python3 - "$W/share/files.tar" "$FILES" <<'EOF'
import io, sys, tarfile
t = tarfile.open(sys.argv[1], "w")
for i in range(int(sys.argv[2])):
    data = b"x" * (100 + i % 900)
    ti = tarfile.TarInfo("tree/d%03d/f%05d" % (i // 100, i))
    ti.size = len(data)
    t.addfile(ti, io.BytesIO(data))
t.close()
EOF

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
: >"$W/results"
# --- the host: the same busybox tools, page cache not dropped (shared machine)
t0=$(now_ms); /bin/busybox dd if=/dev/zero of="$W/host/big" bs=1M count="$MB" conv=fsync 2>/dev/null; t1=$(now_ms)
/bin/busybox dd if="$W/host/big" of=/dev/null bs=1M 2>/dev/null; t2=$(now_ms)
mkdir "$W/host/x"; /bin/busybox tar -xf "$W/share/files.tar" -C "$W/host/x"; t3=$(now_ms)
echo "write host $((t1 - t0))" >>"$W/results"
echo "read host $((t2 - t1))" >>"$W/results"
echo "untar host $((t3 - t2))" >>"$W/results"

# --- the container: one VM, every place in turn
"$C" system kernel set --binary "$KERNEL" >/dev/null
python3 "$SRCDIR/t/integ/mkimage.py" "$W/bb.tar" bench/bb:1 amd64 /bin/busybox
"$C" image load -i "$W/bb.tar" >/dev/null
places() { # PLACES: the directories under / to measure, in one VM
	"$C" run --rm -m 1G "${@:2}" -v "$W/share:/bind" bench/bb:1 sh -c '
u() { cut -d" " -f1 /proc/uptime | tr -d .; }   # centiseconds
cp /bind/files.tar /files.tar
mkdir -p /rootfs
for p in '"$1"'; do
	t0=$(u); dd if=/dev/zero of=/$p/big bs=1M count='"$MB"' conv=fsync 2>/dev/null; t1=$(u)
	sync; echo 3 >/proc/sys/vm/drop_caches 2>/dev/null
	t2=$(u); dd if=/$p/big of=/dev/null bs=1M 2>/dev/null; t3=$(u)
	rm -f /$p/big; mkdir /$p/x
	t4=$(u); tar -xf /files.tar -C /$p/x; t5=$(u)
	echo "write $p $(( (t1 - t0) * 10 ))"
	echo "read $p $(( (t3 - t2) * 10 ))"
	echo "untar $p $(( (t5 - t4) * 10 ))"
done' >>"$W/results" 2>"$W/err" || { echo "bench failed:"; cat "$W/err"; exit 1; }
}
CONTAINER_SHARE=9p places "rootfs volume bind cached" -v "$W/cached:/cached:cached" -v benchvol:/volume
cols="host rootfs volume bind cached"
if [ "$(id -u)" = 0 ] && [ -x /usr/lib/qemu/virtiofsd ]; then
	CONTAINER_SHARE=virtiofs places "vfs vfscached" -v "$W/vfs:/vfs" -v "$W/vfscached:/vfscached:cached"
	cols="$cols vfs vfscached"
fi

echo "# volumes bench: write/read $MB MiB, untar $FILES files; ms, and x the host's time"
echo "# bind, cached: 9p (cache=mmap, cache=loose); vfs, vfscached: virtio-fs (cache=auto, cache=always)"
awk -v mb="$MB" -v cols="$cols" '
{ t[$1, $2] = $3 }
END {
	np = split(cols, P, " ")
	printf "%-8s", "op"
	for (i = 1; i <= np; i++) printf " %16s", P[i]
	printf "\n"
	split("write read untar", O, " ")
	for (o = 1; o <= 3; o++) {
		printf "%-8s", O[o]
		for (i = 1; i <= np; i++) {
			v = t[O[o], P[i]]; h = t[O[o], "host"]
			if (i == 1 || h == 0) printf " %13d ms", v
			else printf " %7d (%5.1fx)", v, v / h
		}
		printf "\n"
	}
}' "$W/results"
