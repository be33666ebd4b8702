#!/bin/sh
# The snapshot pipeline (oci/snapshot.c) on real root filesystems: layers
# put in a content store with a manifest and a config (diff_ids), turned
# into an ext4 image by t/tools/snapshot (snapshot_get), then checked with
# e2fsck -fn and read back INDEPENDENTLY (debugfs, t/integ/ext4_manifest.py;
# our own reader and, when this machine can loop-mount, the kernel too).
# The expected tree is made by the host's own tools: the lower layer is
# extracted with GNU tar, the upper layer's deletions are done with rm and
# its content extracted over it; the image must equal that directory in
# type, mode, uid, gid, size, content sha256, symlink target, device
# numbers, hard-link sharing and xattrs.
#
# Corpora:
#   debian   Debian bookworm minbase (debootstrap from this machine's apt
#            mirror; cached under ${CONTAINER_BUILD_CACHE:-~/.cache/
#            container-build}/corpus/, keyed by date-independent inputs),
#            packed as two layers: the rootfs, and an upper layer with
#            whiteouts (every file under /usr/share/doc/*, a whole
#            directory, one name of a hard-linked pair), an opaque
#            /var/cache/apt with new content, file->dir and dir->file
#            replacements, xattrs (user.*, security.capability), setuid,
#            a device node, a FIFO, hard links and symlinks.
#   busybox  /bin/busybox from busybox-static and its applet symlinks.
#
#   snapshot_debian.sh --layers DIR   only make DIR/lower.tar.gz,
#                                     DIR/upper.tar.gz (for t/bench/unpack.sh)
# Prints TAP; skips, saying why, what this machine cannot do.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
MANIFEST="$HERE/ext4_manifest.py"
n=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); echo "not ok $n - $*"; }
skip() { n=$((n + 1)); echo "ok $n # SKIP $*"; }
finish() { echo "1..$n"; exit 0; }
note() { echo "# $*"; }

LAYERS_ONLY=
if [ "${1:-}" = --layers ]; then
	LAYERS_ONLY=$2
	ok() { :; }; not_ok() { echo "snapshot_debian: $*" >&2; }; skip() { echo "snapshot_debian: $*" >&2; }
	finish() { [ -f "$LAYERS_ONLY/upper.tar.gz" ] && exit 0; exit 1; }
	note() { :; }
fi

CACHE=${CONTAINER_BUILD_CACHE:-$HOME/.cache/container-build}/corpus
W=$(mktemp -d "${TMPDIR:-/tmp}/snapshot_debian.XXXXXX")
MNT="$W/mnt"
mkdir -p "$MNT"
trap 'umount "$MNT" 2>/dev/null; rm -rf "$W"' EXIT

# --- tools ------------------------------------------------------------------
SNAP=${TOOLS_DIR:-}/snapshot
MK=${TOOLS_DIR:-}/mkext4test
if [ -z "$LAYERS_ONLY" ]; then
	for tool in e2fsck debugfs python3; do
		command -v "$tool" >/dev/null 2>&1 || { skip "$tool is not installed (e2fsprogs / python3)"; finish; }
	done
	[ -x "$SNAP" ] || { not_ok "t/tools/snapshot is not built (TOOLS_DIR=${TOOLS_DIR:-unset})"; finish; }
fi
if ! tar --version 2>/dev/null | grep -q 'GNU tar'; then
	skip "GNU tar is not installed"
	finish
fi
if [ "$(id -u)" != 0 ]; then
	skip "debootstrap, device nodes and ownership in the expected tree need root"
	finish
fi
can_mount=0
if [ -z "$LAYERS_ONLY" ] && [ -x "$MK" ] && "$MK" empty "$W/probe.img" 8M 2>/dev/null &&
	mount -o loop,ro "$W/probe.img" "$MNT" 2>/dev/null; then
	umount "$MNT" && can_mount=1
fi
TAR_C="tar --numeric-owner --xattrs --xattrs-include=* --format=pax"
TAR_X="tar --numeric-owner --xattrs --xattrs-include=* --same-owner -p"

# check NAME ROOT DIGEST EXPECTED_DIR: build through the cache and compare.
check() {
	name=$1 root=$2 digest=$3 exp=$4
	if ! img=$("$SNAP" get "$root" "$digest" 2>"$W/$name.err"); then
		not_ok "$name: snapshot_get failed: $(cat "$W/$name.err")"
		return
	fi
	case $img in
	"$root/snapshots/${digest#sha256:}.ext4") ok "$name: built at snapshots/<manifest-hex>.ext4 ($(du -k "$img" | cut -f1) KiB on disk)" ;;
	*) not_ok "$name: unexpected path $img" ;;
	esac
	left=$(ls -A "$root/snapshots" | grep -v "^${digest#sha256:}.ext4\$")
	[ -z "$left" ] && ok "$name: no temp or lock file left in snapshots/" ||
		not_ok "$name: left in snapshots/: $left"
	if e2fsck -fn "$img" >"$W/$name.fsck" 2>&1; then
		ok "$name: e2fsck -fn is clean"
	else
		not_ok "$name: e2fsck -fn: $(grep -v '^Pass\|^e2fsck' "$W/$name.fsck" | head -5 | tr '\n' ' ')"
	fi
	python3 "$MANIFEST" --mount "$exp" >"$W/$name.exp"
	if python3 "$MANIFEST" "$img" 2>"$W/$name.err" | grep -v '^/lost+found ' >"$W/$name.debugfs" &&
		cmp -s "$W/$name.exp" "$W/$name.debugfs"; then
		ok "$name: debugfs reads back exactly the expected tree ($(wc -l <"$W/$name.exp") entries)"
	else
		not_ok "$name: debugfs tree differs: $(diff "$W/$name.exp" "$W/$name.debugfs" | head -6 | tr '\n' ' ') $(tail -1 "$W/$name.err")"
	fi
	if [ -x "$MK" ] && "$MK" ls "$img" 2>"$W/$name.err" | grep -v '^/lost+found ' >"$W/$name.ours" &&
		cmp -s "$W/$name.exp" "$W/$name.ours"; then
		ok "$name: oci/ext4_read agrees"
	else
		not_ok "$name: oci/ext4_read differs: $(diff "$W/$name.exp" "$W/$name.ours" | head -4 | tr '\n' ' ')"
	fi
	if [ "$can_mount" = 0 ]; then
		skip "$name: kernel mount needs root and loop devices"
	elif mount -o loop,ro "$img" "$MNT" 2>"$W/$name.err"; then
		python3 "$MANIFEST" --mount "$MNT" | grep -v '^/lost+found ' >"$W/$name.kernel"
		umount "$MNT"
		cmp -s "$W/$name.exp" "$W/$name.kernel" && ok "$name: the kernel's mount shows the expected tree" ||
			not_ok "$name: kernel view differs: $(diff "$W/$name.exp" "$W/$name.kernel" | head -4 | tr '\n' ' ')"
	else
		not_ok "$name: mount failed: $(cat "$W/$name.err")"
	fi
	again=$("$SNAP" get "$root" "$digest" 2>&1 >/dev/null)
	[ "$again" = "snapshot: cached" ] && ok "$name: a second get uses the cache" ||
		not_ok "$name: second get: $again"
}

# --- busybox -------------------------------------------------------------------
if [ -n "$LAYERS_ONLY" ]; then
	:
elif ! bb=$(command -v busybox) || ! file -L "$bb" 2>/dev/null | grep -q 'statically linked'; then
	skip "busybox: busybox-static is not installed"
else
	mkdir -p "$W/bb/bin" "$W/bb/etc" "$W/bb/tmp"
	cp "$bb" "$W/bb/bin/busybox"
	chmod 0755 "$W/bb/bin/busybox"
	chmod 1777 "$W/bb/tmp"
	echo 'root:x:0:0:root:/root:/bin/sh' >"$W/bb/etc/passwd"
	for a in $("$bb" --list); do
		[ "$a" = busybox ] || ln -s busybox "$W/bb/bin/$a"
	done
	$TAR_C -C "$W/bb" -czf "$W/bb.tar.gz" .
	if d=$("$SNAP" put "$W/bbroot" "$W/bb.tar.gz" 2>"$W/bb.err"); then
		check busybox "$W/bbroot" "$d" "$W/bb"
	else
		not_ok "busybox: put: $(cat "$W/bb.err")"
	fi
fi

# --- the Debian corpus (cached) -------------------------------------------
mirror=$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/*.sources 2>/dev/null)
[ -n "$mirror" ] || mirror=$(awk '$1 == "deb" { print $2; exit }' /etc/apt/sources.list 2>/dev/null)
arch=$(dpkg --print-architecture 2>/dev/null)
if [ -z "$mirror" ] || [ -z "$arch" ]; then
	skip "debian: no apt mirror configured (or no dpkg) on this machine"
	finish
fi
if ! command -v debootstrap >/dev/null 2>&1; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y debootstrap >"$W/apt.log" 2>&1 ||
		{ skip "debian: debootstrap is missing and apt-get install failed: $(tail -1 "$W/apt.log")"; finish; }
fi
deb_ver=$(dpkg-query -W -f='${Version}' debootstrap)
key=$(printf 'debootstrap=%s\nvariant=minbase\nsuite=bookworm\narch=%s\nmirror=%s\n' \
	"$deb_ver" "$arch" "$mirror" | sha256sum | cut -c1-16)
corpus=$CACHE/debian-bookworm-minbase-$arch-$key.tar
if [ -f "$corpus" ]; then
	note "debian: corpus from the cache: $corpus"
else
	note "debian: running debootstrap --variant=minbase bookworm from $mirror (minutes)"
	mkdir -p "$CACHE"
	if ! debootstrap --variant=minbase bookworm "$W/deb" "$mirror" >"$W/debootstrap.log" 2>&1; then
		skip "debian: debootstrap failed (no network to $mirror?): $(tail -1 "$W/debootstrap.log")"
		finish
	fi
	$TAR_C -C "$W/deb" -cf "$corpus.tmp.$$" . && mv "$corpus.tmp.$$" "$corpus"
	rm -rf "$W/deb"
fi

# --- two layers --------------------------------------------------------------
# Lower: the rootfs as it is.  Upper: built as a directory, whiteouts and the
# opaque marker written as the empty files that represent them in a layer.
L=${LAYERS_ONLY:-$W}
mkdir -p "$L"
gzip -c "$corpus" >"$L/lower.tar.gz"
mkdir -p "$W/lower" "$W/up"
$TAR_X -C "$W/lower" -xf "$corpus"
U=$W/up
(
	cd "$W/lower" || exit 1
	# every file (not directory) under /usr/share/doc/*
	find usr/share/doc -mindepth 2 ! -type d | while read -r f; do
		mkdir -p "$U/$(dirname "$f")"
		: >"$U/$(dirname "$f")/.wh.$(basename "$f")"
	done
	# a whole directory, and one name of a hard-linked pair
	mkdir -p "$U/usr/share" "$U/usr/bin"
	: >"$U/usr/share/.wh.common-licenses"
	[ -e usr/bin/perl5.36.0 ] && : >"$U/usr/bin/.wh.perl5.36.0"
)
# opaque /var/cache/apt with new content
mkdir -p "$U/var/cache/apt/archives/partial"
: >"$U/var/cache/apt/.wh..wh..opq"
echo "fresh cache" >"$U/var/cache/apt/pkgcache.note"
head -c 200000 /dev/urandom >"$U/var/cache/apt/archives/blob.deb"
chmod 0700 "$U/var/cache/apt/archives/partial"
# replacements: file -> file, file -> directory, directory -> file
mkdir -p "$U/etc/motd" "$U/usr/local"
echo upper-host >"$U/etc/hostname"
echo "now a directory" >"$U/etc/motd/README"
echo "was a directory" >"$U/usr/local/games"
# metadata: xattrs, file capabilities, setuid, ownership, device, fifo, links
mkdir -p "$U/opt/app/bin"
head -c 100000 /dev/urandom >"$U/opt/app/bin/tool"
chown 1000:1000 "$U/opt/app/bin/tool"
chmod 4750 "$U/opt/app/bin/tool"
ln "$U/opt/app/bin/tool" "$U/opt/app/bin/tool-link"
ln -s ../../../usr/bin/dpkg "$U/opt/app/bin/dpkg"
ln -s "$(printf 'long%.0s' $(seq 1 40))" "$U/opt/app/slow-symlink"
head -c 5000 /dev/urandom >"$U/opt/app/cap"
python3 -c "import os; os.setxattr('$U/opt/app/cap', 'user.origin', b'snapshot test')" 2>/dev/null
command -v setcap >/dev/null 2>&1 && setcap cap_net_raw+ep "$U/opt/app/cap" 2>/dev/null
mkfifo "$U/opt/app/fifo"
mknod "$U/opt/app/tty9" c 4 9
# the upper layer must carry its directories' metadata like a real layer
# (docker puts every parent directory in the diff)
(cd "$U" && find . -type d | while read -r d; do
	[ -e "$W/lower/$d" ] && [ "$d" != . ] && chown --reference="$W/lower/$d" "$d" &&
		chmod --reference="$W/lower/$d" "$d"
done)
chmod 0700 "$U/var/cache/apt/archives/partial"
$TAR_C -C "$U" -czf "$L/upper.tar.gz" .
[ -n "$LAYERS_ONLY" ] && finish

# The expected tree: lower, minus the deletions, plus the upper content.
(
	cd "$U" || exit 1
	find . -name '.wh.*' | while read -r wh; do
		d=$(dirname "$wh") b=$(basename "$wh")
		if [ "$b" = .wh..wh..opq ]; then
			find "$W/lower/$d" -mindepth 1 -maxdepth 1 -exec rm -rf {} +
		else
			rm -rf "$W/lower/$d/${b#.wh.}"
		fi
	done
)
rm -rf "$W/lower/etc/motd" "$W/lower/usr/local/games"
$TAR_X -C "$W/lower" --exclude='.wh.*' -xf "$L/upper.tar.gz"
note "debian: lower $(du -k "$L/lower.tar.gz" | cut -f1) KiB gzip, upper $(du -k "$L/upper.tar.gz" | cut -f1) KiB," \
	"$(find "$U" -name '.wh.*' | wc -l) whiteouts"

if d=$("$SNAP" put "$W/root" "$L/lower.tar.gz" "$L/upper.tar.gz" 2>"$W/put.err"); then
	check debian "$W/root" "$d" "$W/lower"
	exp=$W/debian.exp
	if grep -q '^/usr/share/doc/.*/copyright ' "$exp" || grep -q '^/usr/share/common-licenses' "$exp" ||
		! grep -q '^/var/cache/apt/pkgcache.note f' "$exp" || grep -q '^/var/cache/apt/srcpkgcache.bin' "$exp" ||
		! grep -q '^/etc/motd/README f' "$exp" || ! grep -q '^/usr/local/games f' "$exp" || ! grep -q '^/usr/share/doc/dpkg d' "$exp"; then
		not_ok "debian: the expected tree does not show the upper layer's deletions (test bug)"
	else
		ok "debian: whiteouts, opaque dir and replacements are visible in the expected tree"
	fi
	if grep -q '^/opt/app/cap f .*security.capability=.*user.origin=' "$exp" &&
		grep -q '^/opt/app/bin/tool-link f 4750 1000 1000 .* /opt/app/bin/tool ' "$exp" &&
		grep -q '^/opt/app/tty9 c .* 4,9 ' "$exp" && grep -q '^/opt/app/fifo p ' "$exp"; then
		ok "debian: xattrs, capabilities, setuid, ownership, hard links, devices are in the compared tree"
	else
		not_ok "debian: the expected tree lacks the upper layer's metadata (test bug): $(grep '^/opt/app' "$exp" | tr '\n' ' ')"
	fi
	perl_links=$(debugfs -R "stat /usr/bin/perl" "$W/root/snapshots/${d#sha256:}.ext4" 2>/dev/null | sed -n 's/.*Links: \([0-9]*\).*/\1/p')
	[ "$perl_links" = 1 ] && ok "debian: whiting out one name of a hard-linked pair leaves nlink 1" ||
		not_ok "debian: /usr/bin/perl has $perl_links links"

	# an upper layer whose diff_id does not match: rejected, layer named
	bad=$W/root
	if bd=$("$SNAP" put "$bad" --bad-diff-id 2 "$L/lower.tar.gz" "$L/upper.tar.gz" 2>"$W/bad.err") &&
		! "$SNAP" get "$bad" "$bd" >/dev/null 2>"$W/bad.err" &&
		grep -q 'layer 2 of 2.*diff_id' "$W/bad.err" &&
		[ "$(ls -A "$bad/snapshots")" = "${d#sha256:}.ext4" ]; then
		ok "debian: a wrong diff_id for the upper layer rejects the image, nothing left ($(cut -c1-150 "$W/bad.err"))"
	else
		not_ok "debian: wrong diff_id: $(cat "$W/bad.err"); left: $(ls -A "$bad/snapshots" 2>&1)"
	fi
else
	not_ok "debian: put: $(cat "$W/put.err")"
fi
finish
