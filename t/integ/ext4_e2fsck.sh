#!/bin/sh
# Our ext4 writer (oci/ext4*.c, oci/fstree.c) against e2fsprogs: every image
# built by t/tools/mkext4test passes `e2fsck -fn`, and its tree read back
# INDEPENDENTLY with debugfs (t/integ/ext4_manifest.py) equals the tree the
# layers describe: type, mode, uid, gid, size, content sha256, symlink
# target, device numbers, hard-link sharing, xattrs.  Our own reader
# (oci/ext4_read.c) must agree too, also on images made by mke2fs.  When
# this machine can loop-mount (root), the kernel's view is compared as well.
# Corpora: a mixed tree, two layers with whiteouts/opaque dirs/replacements,
# 100 000 entries in one directory, non-ASCII names, a 4 GiB sparse file,
# 255-byte names and 4000-byte paths, 10 000 hard links, 66 000
# subdirectories, a file fragmented into a two-level extent tree, a
# fixed-size image, empty images up to 1 TiB, host trees through GNU tar.
# Prints TAP; skips (with the reason) what this machine cannot do.
set -u
: "${TOOLS_DIR:?TOOLS_DIR must point at the built test tools}"
MK="$TOOLS_DIR/mkext4test"
HERE=$(cd "$(dirname "$0")" && pwd)
MANIFEST="$HERE/ext4_manifest.py"
n=0

ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); echo "not ok $n - $*"; }
skip() { n=$((n + 1)); echo "ok $n # SKIP $*"; }
finish() { echo "1..$n"; exit 0; }
check() { if "$@" >/dev/null 2>&1; then return 0; else return 1; fi; }

for tool in e2fsck debugfs python3; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		skip "$tool is not installed (e2fsprogs / python3)"
		finish
	fi
done
if [ ! -x "$MK" ]; then
	not_ok "mkext4test not built at $MK"
	finish
fi

W=$(mktemp -d "${TMPDIR:-/tmp}/ext4_e2fsck.XXXXXX")
MNT="$W/mnt"
mkdir -p "$MNT"
trap 'umount "$MNT" 2>/dev/null; rm -rf "$W"' EXIT
cd "$W" || exit 1

can_mount=0
if [ "$(id -u)" = 0 ] && "$MK" empty probe.img 8M 2>/dev/null &&
	mount -o loop,ro probe.img "$MNT" 2>/dev/null; then
	umount "$MNT" && can_mount=1
fi

# fsck NAME: e2fsck -fn must find nothing at all (exit 0).
fsck() {
	if e2fsck -fn "$1.img" >"$1.fsck" 2>&1; then
		ok "$1: e2fsck -fn is clean"
	else
		not_ok "$1: e2fsck -fn: $(grep -v '^Pass\|^e2fsck' "$1.fsck" | head -5 | tr '\n' ' ')"
	fi
}

# compare NAME: debugfs, our reader and (if possible) the kernel all see
# exactly the expected manifest.
compare() {
	if python3 "$MANIFEST" "$1.img" >"$1.debugfs" 2>"$1.err" && cmp -s "$1.exp" "$1.debugfs"; then
		ok "$1: debugfs reads back the expected tree ($(wc -l <"$1.exp") entries)"
	else
		not_ok "$1: debugfs tree differs: $(diff "$1.exp" "$1.debugfs" 2>&1 | head -4 | tr '\n' ' ') $(tail -1 "$1.err")"
	fi
	if "$MK" ls "$1.img" >"$1.ours" 2>"$1.err" && cmp -s "$1.exp" "$1.ours"; then
		ok "$1: oci/ext4_read reads back the expected tree"
	else
		not_ok "$1: ext4_read tree differs: $(diff "$1.exp" "$1.ours" 2>&1 | head -4 | tr '\n' ' ') $(cat "$1.err")"
	fi
}

mount_compare() {
	if [ "$can_mount" = 0 ]; then
		skip "$1: kernel mount needs root and loop devices"
		return
	fi
	if mount -o loop,ro "$1.img" "$MNT" 2>"$1.err"; then
		python3 "$MANIFEST" --mount "$MNT" >"$1.kernel" 2>>"$1.err"
		umount "$MNT"
		if cmp -s "$1.exp" "$1.kernel"; then
			ok "$1: the kernel's mount shows the expected tree"
		else
			not_ok "$1: kernel view differs: $(diff "$1.exp" "$1.kernel" 2>&1 | head -4 | tr '\n' ' ')"
		fi
	else
		not_ok "$1: mount failed: $(cat "$1.err")"
	fi
}

# build NAME [SIZE] < SPEC
build() {
	name=$1
	shift
	if "$MK" build "$name.img" "$@" >"$name.exp" 2>"$name.err"; then
		ok "$name: built ($(du -k "$name.img" | cut -f1) KiB on disk, $(($(stat -c %s "$name.img") >> 20)) MiB apparent)"
		return 0
	fi
	not_ok "$name: build failed: $(cat "$name.err")"
	return 1
}

# --- a mixed tree -------------------------------------------------------------
cap=0100000200200000000000000000000000000000
acl=0200000001000600ffffffff02000600e803000004000400ffffffff10000600ffffffff20000400ffffffff
build basic <<EOF
d / 0755 0 0 1600000000
d /etc 0755 0 0 1600000001
f /etc/passwd 0644 0 0 1600000002 1234 r1
f /etc/empty 0600 1000 1000 1600000003 0 z
f /etc/zeros 0644 0 0 1600000003 100000 z
f /big 0644 70000 70001 1600000004 10000000 r2
f /holes 0644 0 0 1600000004 8000000 h3
f /block 0644 0 0 0 4096 r12
f /block1 0644 0 0 0 4097 r13
l /lib usr/lib
d /usr/lib 0755 0 0 5
f /lib/libc.so 0755 0 0 5 5000 r3
l /long $(printf 'a%.0s' $(seq 1 100))
l /l59 $(printf 'b%.0s' $(seq 1 59))
l /l60 $(printf 'c%.0s' $(seq 1 60))
l /l4095 $(printf 'd%.0s' $(seq 1 4095))
l /dangling /nowhere/at/all
h /etc/passwd2 /etc/passwd
h /etc/passwd3 etc/passwd
c /dev/null 0666 0 0 1 3
b /dev/sda 0660 0 6 8 0
c /dev/big 0600 0 0 300 70000
p /fifo 0644 0 0
f /usr/bin/su 04755 0 0 0 100 r4
f /usr/bin/sg 02755 0 42 0 100 r5
d /tmp 01777 0 0 0
x security.capability $cap
x user.small 6869
f /cap 0755 0 0 0 10 r5
x user.big $(printf '0123456789abcdef%.0s' $(seq 1 40))
x trusted.t2 aa
d /xdir 0700 0 0 0
x system.posix_acl_access $acl
f /acl 0640 0 0 0 1 r6
x user.$(printf 'n%.0s' $(seq 1 200)) 00
x user.in-block $(printf 'ff%.0s' $(seq 1 1000))
f /many-xattrs 0644 0 0 0 0 z
EOF
fsck basic
compare basic
mount_compare basic

# --- two layers: whiteouts, opaque directory, replacements, cross-layer links -
build layers <<'EOF'
d / 0755 0 0 100
d /etc 0755 0 0 100
f /etc/a 0644 0 0 100 10 r1
f /etc/b 0644 0 0 100 10 r2
d /opq 0755 0 0 100
f /opq/old1 0644 0 0 100 10 r3
d /opq/sub 0755 0 0 100
f /opq/sub/old2 0644 0 0 100 10 r4
f /file2dir 0644 0 0 100 5 r5
d /dir2file 0755 0 0 100
f /dir2file/x 0644 0 0 100 5 r6
f /shared 0644 0 0 100 100 r7
h /shared-link /shared
f /lower 0644 0 0 100 50000 r20
L
f /etc/.wh.a 0 0 0 0 0 z
d /opq 0755 0 0 200
d /opq/sub 0755 0 0 200
f /opq/sub/new2 0644 0 0 200 10 r12
f /opq/new1 0644 0 0 200 10 r8
f /opq/.wh..wh..opq 0 0 0 0 0 z
d /file2dir 0700 0 0 200
f /file2dir/y 0644 0 0 200 5 r9
f /dir2file 0600 0 0 200 5 r10
f /.wh.shared 0 0 0 0 0 z
f /etc/b 0600 0 0 200 20 r11
h /upper-link /lower
h /etc/lower-link lower
EOF
fsck layers
compare layers
mount_compare layers
if grep -q '^/opq/old1 \|^/opq/sub/old2 \|^/etc/a \|^/shared ' layers.exp ||
	! grep -q '^/opq/sub/new2 ' layers.exp || ! grep -q '^/shared-link f' layers.exp ||
	! grep -q '^/dir2file f' layers.exp || ! grep -q '^/file2dir/y f' layers.exp; then
	not_ok "layers: whiteout/opaque/replacement semantics: $(tr '\n' ' ' <layers.exp)"
else
	ok "layers: whiteouts, opaque dir and replacements applied"
fi

# --- 100 000 entries in one directory (htree, two index levels) -------------
awk 'BEGIN { print "d /d 0755 0 0 0"
	for (i = 0; i < 100000; i++) printf "f /d/entry-with-a-longer-name-%06d 0644 0 0 0 0 z\n", i
	print "f /d/last 0644 0 0 0 3 r1" }' >bigdir.spec
build bigdir <bigdir.spec
fsck bigdir
compare bigdir
mount_compare bigdir
if debugfs -R "htree_dump /d" bigdir.img 2>/dev/null | grep -q 'Indirect levels: 1'; then
	ok "bigdir: /d is an htree with two index levels"
else
	not_ok "bigdir: /d is not a two-level htree"
fi
if [ "$can_mount" = 1 ] && mount -o loop,ro bigdir.img "$MNT" 2>/dev/null; then
	s=$(date +%s%N)
	found=0
	for i in 000000 031337 077777 099999; do
		[ -f "$MNT/d/entry-with-a-longer-name-$i" ] && found=$((found + 1))
	done
	[ -e "$MNT/d/entry-with-a-longer-name-100000" ] || found=$((found + 1))
	umount "$MNT"
	ms=$((($(date +%s%N) - s) / 1000000))
	if [ "$found" = 5 ]; then
		ok "bigdir: kernel lookups by name through the htree ($ms ms for 5)"
	else
		not_ok "bigdir: kernel lookups found $found of 5"
	fi
else
	skip "bigdir: kernel mount needs root and loop devices"
fi

# --- names with bytes >= 0x80 (the hash treats them as unsigned) ------------
awk 'BEGIN { for (i = 0; i < 3000; i++) printf "f /utf/%%C3%%A9t%%C3%%A9-%%FF%%80-%05d 0644 0 0 0 0 z\n", i }' >utf.spec
build utf <utf.spec
fsck utf
compare utf
mount_compare utf

# --- a 4 GiB sparse file ------------------------------------------------------
build sparse <<'EOF'
f /sparse4g 0644 0 0 0 4294967296 t5000
f /small 0644 0 0 0 100 r1
EOF
fsck sparse
compare sparse
du_k=$(du -k sparse.img | cut -f1)
if [ "$du_k" -lt 20000 ]; then
	ok "sparse: zero blocks are holes in the image ($du_k KiB on disk)"
else
	not_ok "sparse: image uses $du_k KiB on disk"
fi

# --- 255-byte names, 4000-byte paths -----------------------------------------
n255=$(printf 'n%.0s' $(seq 1 255))
n253=$(printf 'n%.0s' $(seq 1 253))
seg=$(printf 's%.0s' $(seq 1 249))
p=""
i=0
while [ $i -lt 15 ]; do p="$p/$seg$(printf %02d $i)"; i=$((i + 1)); done
tail=$(printf 't%.0s' $(seq 1 $((3999 - ${#p}))))
{
	echo "f /$n255 0644 0 0 0 5 r1"
	echo "d /$n253.d 0755 0 0 0"
	echo "l /$n253.d/$n255 /$n255"
	echo "f $p/$tail 0644 0 0 0 10 r2"
} >names.spec
build names <names.spec
fsck names
compare names
grep -q "^$p/$tail f" names.exp && ok "names: a path of $((${#p} + 1 + ${#tail})) bytes" ||
	not_ok "names: the 4000-byte path is missing"

# --- 10 000 hard links to one inode ------------------------------------------
awk 'BEGIN { print "f /links/target 0644 0 0 0 1000 r1"
	for (i = 0; i < 10000; i++) printf "h /links/l%05d /links/target\n", i }' >hardlinks.spec
build hardlinks <hardlinks.spec
fsck hardlinks
compare hardlinks
if debugfs -R "stat /links/target" hardlinks.img 2>/dev/null | grep -q 'Links: 10001'; then
	ok "hardlinks: the inode has exactly 10001 links"
else
	not_ok "hardlinks: link count is not 10001"
fi

# --- more than 65 000 subdirectories (dir_nlink: the parent's count is 1) --
awk 'BEGIN { for (i = 0; i < 66000; i++) printf "d /d/s%05d 0755 0 0 0\n", i }' >subdirs.spec
build subdirs <subdirs.spec
fsck subdirs
if debugfs -R "stat /d" subdirs.img 2>/dev/null | grep -q 'Links: 1 '; then
	ok "subdirs: a directory with 66 000 subdirectories has link count 1"
else
	not_ok "subdirs: wrong link count on /d"
fi

# --- a file fragmented into a two-level extent tree --------------------------
build frag <<'EOF'
f /frag 0644 0 0 0 41943040 h1
f /after 0644 0 0 0 100 r2
EOF
fsck frag
compare frag
depth=$(debugfs -R "ex /frag" frag.img 2>/dev/null | awk 'NR > 1 { split($1, a, "/"); if (a[1] + 0 > d) d = a[1] + 0 } END { print d + 0 }')
if [ "$depth" -ge 2 ]; then
	ok "frag: extent tree of depth $depth"
else
	not_ok "frag: extent tree depth $depth, want >= 2"
fi

# --- a fixed size -------------------------------------------------------------
echo "f /x 0644 0 0 0 1000000 r1" >fixed.spec
build fixed 64M <fixed.spec
fsck fixed
[ "$(stat -c %s fixed.img)" = 67108864 ] && ok "fixed: image is exactly 64 MiB" ||
	not_ok "fixed: image is $(stat -c %s fixed.img) bytes"
if echo "f /x 0644 0 0 0 10000000 r1" | "$MK" build toosmall.img 4M >/dev/null 2>toosmall.err; then
	not_ok "fixed: 10 MB of data fit in a 4 MiB image?"
else
	ok "fixed: content larger than the size is refused ($(cat toosmall.err))"
fi

# --- empty images -------------------------------------------------------------
for size in 1M 5G 1T 1099511676928; do
	s=$(date +%s%N)
	if "$MK" empty "empty-$size.img" "$size" 2>empty.err; then
		ms=$((($(date +%s%N) - s) / 1000000))
		if e2fsck -fn "empty-$size.img" >empty.fsck 2>&1; then
			ok "empty $size: e2fsck clean, made in $ms ms, $(du -k "empty-$size.img" | cut -f1) KiB on disk"
		else
			not_ok "empty $size: e2fsck: $(tail -3 empty.fsck | tr '\n' ' ')"
		fi
	else
		not_ok "empty $size: $(cat empty.err)"
	fi
	rm -f "empty-$size.img"
done
"$MK" empty rw.img 256M
if [ "$can_mount" = 1 ] && mount -o loop rw.img "$MNT" 2>/dev/null; then
	mkdir -p "$MNT/a/b" && head -c 50000000 /dev/urandom >"$MNT/a/b/data" &&
		seq 1 5000 | sed "s#^#$MNT/a/f#" | xargs touch
	umount "$MNT"
	if e2fsck -fn rw.img >rw.fsck 2>&1; then
		ok "empty: the kernel mounts it read-write, writes 50 MB and 5000 files, e2fsck stays clean"
	else
		not_ok "empty: after kernel writes: $(tail -3 rw.fsck | tr '\n' ' ')"
	fi
else
	skip "empty: read-write kernel mount needs root and loop devices"
fi

"$MK" empty journal.img 256M 4096 2>journal.err
if e2fsck -fn journal.img >journal.fsck 2>&1 && dumpe2fs -h journal.img 2>/dev/null | grep -q 'Total journal blocks: *4096'; then
	ok "journal: an empty ext4 with a 4096-block jbd2 journal passes e2fsck ($(du -k journal.img | cut -f1) KiB on disk)"
else
	not_ok "journal: $(cat journal.err) $(tail -3 journal.fsck | tr '\n' ' ')"
fi
if [ "$can_mount" = 1 ] && mount -o loop journal.img "$MNT" 2>/dev/null; then
	mkdir -p "$MNT/a" && head -c 20000000 /dev/urandom >"$MNT/a/data"
	grep -q "$MNT .*ext4 rw" /proc/mounts && jm=1 || jm=0
	umount "$MNT"
	if [ "$jm" = 1 ] && e2fsck -fn journal.img >journal.fsck 2>&1; then
		ok "journal: the kernel mounts it read-write (journalled), e2fsck clean after writes"
	else
		not_ok "journal: after kernel writes: $(tail -3 journal.fsck | tr '\n' ' ')"
	fi
else
	skip "journal: read-write kernel mount needs root and loop devices"
fi

# --- host trees through GNU tar, oci/tar.c, fstree and the writer -----------
# The source directory itself is the oracle: the kernel's view of the image
# must equal it (lost+found aside).
tree_compare() {
	name=$1
	srcdir=$2
	if ! tar --xattrs --xattrs-include='*' --format=pax -cf "$name.tar" -C "$srcdir" . 2>"$name.err"; then
		not_ok "$name: GNU tar failed: $(head -3 "$name.err")"
		return
	fi
	if ! "$MK" tar "$name.img" "$name.tar" 2>"$name.err"; then
		not_ok "$name: mkext4test tar: $(cat "$name.err")"
		return
	fi
	fsck "$name"
	if [ "$can_mount" = 0 ]; then
		skip "$name: comparing with the source needs a kernel mount (root, loop devices)"
		return
	fi
	python3 "$MANIFEST" --mount "$srcdir" >"$name.src"
	mount -o loop,ro "$name.img" "$MNT" && python3 "$MANIFEST" --mount "$MNT" | grep -v '^/lost+found ' >"$name.kernel"
	umount "$MNT"
	if cmp -s "$name.src" "$name.kernel"; then
		ok "$name: the kernel's view of the image equals the source tree ($(wc -l <"$name.src") entries)"
	else
		not_ok "$name: image differs from the source: $(diff "$name.src" "$name.kernel" | head -4 | tr '\n' ' ')"
	fi
}
if ! tar --version 2>/dev/null | grep -q 'GNU tar'; then
	skip "GNU tar is not installed"
elif [ "$(id -u)" != 0 ]; then
	skip "host trees: devices and ownership need root"
else
	mkdir -p host/a/b
	head -c 300000 /dev/urandom >host/a/file
	ln host/a/file host/a/b/hard
	ln -s ../file host/a/b/sym
	mkfifo host/a/fifo
	mknod host/a/null c 1 3
	chown 1234:5678 host/a/b
	chmod 2750 host/a
	chmod 4711 host/a/b/hard
	truncate -s 1G host/a/sparse
	printf x >>host/a/sparse
	python3 -c "import os; os.setxattr('host/a/file', 'user.test', b'v1'); os.setxattr('host/a/b', 'user.dir', b'x' * 300)" 2>/dev/null
	tree_compare host host
	if [ -d /usr/include ]; then
		tree_compare usr-include /usr/include
	else
		skip "usr-include: /usr/include is missing"
	fi
fi

# --- our reader on an image made by mke2fs -------------------------------------
if ! command -v mke2fs >/dev/null 2>&1; then
	skip "mke2fs is not installed"
else
	mkdir -p src/dir/sub
	head -c 100000 /dev/urandom >src/dir/file
	ln src/dir/file src/dir/hard
	ln -s dir/file src/sym
	ln -s "$(printf 'x%.0s' $(seq 1 200))" src/slowsym
	: >src/empty
	chmod 4750 src/dir/file
	i=0
	while [ $i -lt 300 ]; do : >"src/dir/sub/f$i"; i=$((i + 1)); done
	if mke2fs -q -t ext4 -d src mke2fs.img 32M >mke2fs.err 2>&1; then
		python3 "$MANIFEST" mke2fs.img >mke2fs.debugfs 2>&1
		if "$MK" ls mke2fs.img >mke2fs.ours 2>mke2fs.err && cmp -s mke2fs.debugfs mke2fs.ours; then
			ok "mke2fs image (64bit, metadata_csum): oci/ext4_read agrees with debugfs"
		else
			not_ok "mke2fs image: $(diff mke2fs.debugfs mke2fs.ours | head -4 | tr '\n' ' ') $(cat mke2fs.err)"
		fi
	else
		skip "mke2fs -d failed: $(cat mke2fs.err)"
	fi
fi
finish
