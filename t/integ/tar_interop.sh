#!/bin/sh
# Cross-checks oci/tar.c + oci/decompress.c against GNU tar: archives made
# by `tar --format=ustar|gnu|pax|v7` (long names, long link targets, hard
# links, symlinks, devices, fifos, setuid/setgid/sticky, fractional and
# negative mtimes, big uids, xattrs, gzip/zstd/multi-member gzip) are
# listed by t/tools/tarls and compared with `tar -tv` and with sha256sum of
# the extracted files.  Sparse archives must be refused with a clear error.
# Prints TAP; skips (with the reason) what this machine cannot do.
set -u
: "${TOOLS_DIR:?TOOLS_DIR must point at the built test tools}"
TARLS="$TOOLS_DIR/tarls"
n=0
failed=0

ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
skip() { n=$((n + 1)); echo "ok $n # SKIP $*"; }
finish() { echo "1..$n"; exit 0; }

if ! tar --version 2>/dev/null | grep -q 'GNU tar'; then
	skip "GNU tar is not installed"
	finish
fi
if [ ! -x "$TARLS" ]; then
	not_ok "tarls not built at $TARLS"
	finish
fi

W=$(mktemp -d "${TMPDIR:-/tmp}/tar_interop.XXXXXX")
trap 'rm -rf "$W"' EXIT
cd "$W" || exit 1

# --- the source tree --------------------------------------------------------
long150=$(printf 'd%.0s' $(seq 1 150))      # one 150-byte component
seg=$(printf 's%.0s' $(seq 1 60))
mkdir -p src/"$seg"/"$seg"/"$seg"/"$seg"/"$seg"       # a 305-byte path
mkdir -p src/dir/sub src/sticky src/sgid
: > src/empty
printf x > src/one
head -c 511 /dev/zero | tr '\0' a > src/b511
head -c 512 /dev/zero | tr '\0' b > src/b512
head -c 513 /dev/zero | tr '\0' c > src/b513
seq 1 30000 > src/dir/numbers                    # ~170 kB
printf 'deep\n' > src/"$seg"/"$seg"/"$seg"/"$seg"/"$seg"/file
printf 'long\n' > src/"$long150"
ln src/one src/dir/hardlink
ln -s one src/symlink
ln -s "$seg/$seg/$seg/$seg/$seg/file" src/longtarget
mkfifo src/fifo
chmod 4755 src/one
chmod 1777 src/sticky
chmod 2750 src/sgid
touch -d @1700000000.25 src/b511
have_dev=0
if mknod src/null c 1 3 2>/dev/null && mknod src/blk b 8 1 2>/dev/null; then
	have_dev=1
fi
# Make every mtime that GNU tar stores as-is identical across formats.
find src -exec touch -h -d @1700000000 {} + 2>/dev/null
touch -d @1700000000.25 src/b511

TV="tar -tv --numeric-owner --utc --full-time --quoting-style=literal"

# Compare tarls' listing with GNU tar's; $1 = name, $2 = archive, $3 =
# tarls options.
compare_list() {
	$TV -f "$2" 2>/dev/null | tr -s ' ' > want.txt
	if ! "$TARLS" $3 "$2" > got.raw 2> err.txt; then
		not_ok "$1: tarls failed: $(cat err.txt)"
		return
	fi
	tr -s ' ' < got.raw > got.txt
	if cmp -s want.txt got.txt; then
		ok "$1: listing matches tar -tv ($(wc -l < got.txt) entries)"
	else
		not_ok "$1: listing differs from tar -tv"
		diff want.txt got.txt | head -20 | sed 's/^/# /'
	fi
}

# Compare content digests with the extracted files.
compare_sums() {
	rm -rf x && mkdir x
	if ! tar -xf "$2" -C x 2>/dev/null; then
		skip "$1: GNU tar cannot extract it here"
		return
	fi
	if ! "$TARLS" -s "$2" > got.sums 2> err.txt; then
		not_ok "$1: tarls -s failed: $(cat err.txt)"
		return
	fi
	# hard links are TAR_HARDLINK entries without data: skip them
	(cd x && cut -c67- ../got.sums | while IFS= read -r p; do sha256sum "$p"; done) > want.sums
	if [ -s got.sums ] && cmp -s want.sums got.sums; then
		ok "$1: sha256 of $(wc -l < got.sums) files match the extracted files"
	else
		not_ok "$1: content digests differ"
		diff want.sums got.sums | head -10 | sed 's/^/# /'
	fi
}

# --- formats ----------------------------------------------------------------
for fmt in gnu pax ustar; do
	opts="--format=$fmt --sort=name"
	if [ "$fmt" = ustar ]; then
		# ustar holds neither the 305-byte path, the 150-byte name, nor a
		# 305-byte link target: archive what it can.
		tar $opts -cf $fmt.tar -C src --exclude="$seg" --exclude="$long150" \
			--exclude=longtarget . 2>/dev/null
	else
		tar $opts -cf $fmt.tar -C src . 2>/dev/null
	fi
	compare_list "$fmt" $fmt.tar ""
	compare_sums "$fmt" $fmt.tar
done
if [ $have_dev = 0 ]; then
	skip "device nodes not creatable here (not root): archives have none"
fi

mkdir v7src && printf 'v7\n' > v7src/f && ln v7src/f v7src/h && ln -s f v7src/s && mkdir v7src/d
find v7src -exec touch -h -d @1700000000 {} +
tar --format=v7 --sort=name -cf v7.tar -C v7src . 2>/dev/null
compare_list "v7" v7.tar ""

# Big ids and negative times: base-256 in gnu, decimal in pax.
mkdir big && printf 'b\n' > big/f && touch -d @-1000000000 big/f
for fmt in gnu pax; do
	tar --format=$fmt --owner=x:3000000000 --group=y:4000000000 -cf big-$fmt.tar -C big f 2>/dev/null
	compare_list "$fmt: uid 3e9, gid 4e9, mtime 1938" big-$fmt.tar ""
done
# the gnu one must really be base-256 (0x80 lead byte in the uid field)
if [ "$(od -A n -t x1 -j 108 -N 1 big-gnu.tar | tr -d ' ')" = 80 ]; then
	ok "gnu archive used base-256 for the uid"
else
	not_ok "gnu archive did not use base-256: the case above proves less"
fi

# A real tree (thousands of entries, names with odd bytes) in every format.
real=/usr/share/zoneinfo
if [ -d "$real" ] && [ -r "$real" ]; then
	for fmt in gnu pax; do
		tar --format=$fmt -cf real-$fmt.tar -C "$real" . 2>/dev/null
		compare_list "$real as $fmt" real-$fmt.tar ""
	done
	gzip -c real-pax.tar > real.tar.gz
	compare_sums "$real, gzip" real.tar.gz
else
	skip "$real not present"
fi

# --- compression ------------------------------------------------------------
gzip -c pax.tar > pax.tar.gz
compare_list "gzip (auto-detected)" pax.tar.gz ""
half=$(($(stat -c %s pax.tar) / 2))
{ head -c $half pax.tar | gzip -c; tail -c +$((half + 1)) pax.tar | gzip -1 -c; } > multi.tar.gz
compare_list "gzip with two members" multi.tar.gz "-z gzip"
if command -v zstd >/dev/null 2>&1; then
	zstd -q -c pax.tar > pax.tar.zst
	compare_list "zstd (auto-detected)" pax.tar.zst ""
	compare_sums "zstd" pax.tar.zst
	zstd -q -c --long=28 pax.tar > long.tar.zst 2>/dev/null
	if "$TARLS" -z zstd long.tar.zst > /dev/null 2> err.txt; then
		ok "zstd --long=28 on a small input (window shrinks to fit)"
	else
		not_ok "zstd --long=28 small input: $(cat err.txt)"
	fi
else
	skip "zstd CLI not installed"
	skip "zstd CLI not installed"
	skip "zstd CLI not installed"
fi

# --- xattrs -------------------------------------------------------------------
mkdir xa && printf 'x\n' > xa/f
if python3 -c "import os,sys; os.setxattr('xa/f','user.interop',b'\x00\x01va'); os.setxattr('xa/f','user.empty',b'')" 2>/dev/null; then
	tar --format=pax --xattrs --xattrs-include='*' -cf xa.tar -C xa f 2>/dev/null
	"$TARLS" -x xa.tar > got.xa 2> err.txt
	printf 'f: user.empty \nf: user.interop 00017661\n' > want.xa
	if cmp -s want.xa got.xa; then
		ok "xattrs from tar --xattrs (binary and empty values)"
	else
		not_ok "xattrs differ: $(cat got.xa err.txt | tr '\n' '|')"
	fi
else
	skip "user xattrs not supported on $TMPDIR"
fi

# --- refusals -------------------------------------------------------------------
mkdir sp && truncate -s 1M sp/holes && printf 'data' >> sp/holes
for fmt in gnu pax; do
	tar --format=$fmt -S -cf sparse-$fmt.tar -C sp holes 2>/dev/null
	if "$TARLS" sparse-$fmt.tar > /dev/null 2> err.txt; then
		not_ok "$fmt sparse archive accepted"
	elif grep -q "sparse files are not supported" err.txt; then
		ok "$fmt sparse archive refused: $(cat err.txt)"
	else
		not_ok "$fmt sparse archive: unclear error: $(cat err.txt)"
	fi
done
head -c $half pax.tar > cut.tar
if "$TARLS" cut.tar > /dev/null 2> err.txt; then
	not_ok "truncated archive accepted"
else
	ok "truncated archive refused: $(cut -c1-100 err.txt)"
fi
{ cat gnu.tar; printf 'junk'; } > junk.tar
if tar -tf junk.tar > /dev/null 2>&1 && ! "$TARLS" junk.tar > /dev/null 2> err.txt &&
   grep -q "trailing garbage" err.txt; then
	ok "trailing garbage: GNU tar ignores it, we refuse it (documented)"
else
	not_ok "trailing garbage handling: $(cat err.txt)"
fi

[ "$failed" -eq 0 ] || echo "# $failed failed"
finish
