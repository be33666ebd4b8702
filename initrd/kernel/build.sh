#!/usr/bin/env bash
# initrd/kernel/build.sh — build the guest kernel from Debian's linux-source-6.1
# with this project's config fragments (common.config, then <arch>.config),
# cached outside the repo.
#
# Called by `make kernel` and by t/integ/kernel_boot.sh (with --cached).
#
#   build.sh [--cached | --config-only] ARCH [OUTDIR]
#
#   ARCH           x86_64 (alias amd64) or arm64 (alias aarch64)
#   OUTDIR         also copy the kernel and its .config there; the printed
#                  path is then the copy
#   --cached       never build: print the cached kernel's path, or exit 3
#   --config-only  generate and verify the .config only (~30 s), print its path
#
# The result lives in ${CONTAINER_BUILD_CACHE:-~/.cache/container-build}/kernel/
# <arch>-<hash>/ where <hash> covers the fragments, this script (comments
# aside, so that documenting it does not force a rebuild) and the
# linux-source package version; a complete result short-circuits.  The last
# line of stdout is the kernel's path; everything else goes to stderr.
#
# The object tree (kernel/obj-<arch>/) is kept between builds so that a
# changed fragment rebuilds only what it touches; the result directory is
# assembled under a temporary name and renamed into place, so it is either
# complete or absent.
#
# x86_64 installs the uncompressed `vmlinux` (symbols stripped, 18 MB): QEMU
# -M microvm boots it through the PVH entry point, skipping the decompressor,
# which under TCG made a bzImage boot ~1 s slower (median 3.9 s vs 4.9 s wall
# on a loaded 2-core host).  arm64 installs `Image` (what both QEMU -M virt
# and Virtualization.framework load).
set -euo pipefail

die() { echo "kernel/build.sh: $*" >&2; exit 1; }
say() { echo "kernel/build.sh: $*" >&2; }

mode=build
case "${1:-}" in
--cached) mode=cached; shift ;;
--config-only) mode=config; shift ;;
-h|--help) sed -n '2,/^set -e/{/^#/s/^# \{0,1\}//p}' "$0"; exit 0 ;;
esac
[ $# -ge 1 ] && [ $# -le 2 ] || die "usage: build.sh [--cached|--config-only] ARCH [OUTDIR]"

case "$1" in
x86_64|amd64)
	arch=x86_64 karch=x86_64 target=vmlinux image=vmlinux cross_host=x86_64
	cross=x86_64-linux-gnu- ;;
arm64|aarch64)
	arch=arm64 karch=arm64 target=Image image=arch/arm64/boot/Image cross_host=aarch64
	cross=aarch64-linux-gnu- ;;
*) die "unknown ARCH '$1' (x86_64 or arm64)" ;;
esac
outdir="${2:-}"
kname=$(basename "$image")

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
frags=("$here/common.config" "$here/$arch.config")
tarball=/usr/src/linux-source-6.1.tar.xz
for f in "${frags[@]}"; do [ -r "$f" ] || die "missing fragment $f"; done
# A symbol set in two fragments would make one of them a lie (the later wins).
dups=$(cat "${frags[@]}" | sed -nE 's/^(CONFIG_[A-Za-z0-9_]+)=.*/\1/p; s/^# (CONFIG_[A-Za-z0-9_]+) is not set$/\1/p' |
	sort | uniq -d)
[ -z "$dups" ] || die "set in more than one fragment: $(echo $dups)"

# The source version is part of the cache key: a Debian point release must
# not be answered by a kernel built from the previous one.
if command -v dpkg-query >/dev/null 2>&1 &&
	srcver=$(dpkg-query -W -f '${Version}' linux-source-6.1 2>/dev/null) && [ -n "$srcver" ]; then
	:
elif [ -r "$tarball" ]; then
	srcver="sha256-$(sha256sum "$tarball" | cut -c1-16)"
else
	die "linux-source-6.1 is not installed (apt-get install linux-source-6.1)"
fi

# Comment lines do not change the kernel ("# CONFIG_X is not set" does).
hash=$( { echo "arch=$arch"; echo "linux-source-6.1=$srcver"
	cat "${frags[@]}" "${BASH_SOURCE[0]}" | grep -vE '^[[:space:]]*#([^ ]| [^C]| C[^O]|$)'; } |
	sha256sum | cut -c1-16)
cache="${CONTAINER_BUILD_CACHE:-$HOME/.cache/container-build}/kernel"
dest="$cache/$arch-$hash"

# Copy the result to OUTDIR if asked, and print the kernel path last.
finish() {
	if [ -n "$outdir" ]; then
		mkdir -p "$outdir"
		cp "$dest/$kname" "$outdir/.$kname.$$" && mv -f "$outdir/.$kname.$$" "$outdir/$kname"
		cp "$dest/config" "$outdir/.config-$arch.$$" && mv -f "$outdir/.config-$arch.$$" "$outdir/config-$arch"
		echo "$outdir/$kname"
	else
		echo "$dest/$kname"
	fi
	exit 0
}

complete() { [ -s "$dest/$kname" ] && [ -s "$dest/config" ]; }

if [ "$mode" != config ] && complete; then finish; fi
if [ "$mode" = cached ]; then
	say "no cached $arch kernel at $dest (run initrd/kernel/build.sh $arch)"
	exit 3
fi

# --- tools ---------------------------------------------------------------------
make_args=(ARCH="$karch")
cross_prefix=
if [ "$(uname -m)" != "$cross_host" ]; then
	command -v "${cross}gcc" >/dev/null 2>&1 ||
		die "${cross}gcc not found (apt-get install gcc-${cross%-})"
	make_args+=(CROSS_COMPILE="$cross")
	cross_prefix=$cross
fi
for t in make gcc bc bison flex perl xz flock; do
	command -v "$t" >/dev/null 2>&1 || die "$t not found (apt-get install build-essential bc bison flex xz-utils util-linux)"
done
[ -r /usr/include/libelf.h ] || [ "$arch" != x86_64 ] || die "libelf.h not found (apt-get install libelf-dev)"
[ -r "$tarball" ] || die "$tarball not found (apt-get install linux-source-6.1)"

# Fixed identity so two builds of the same inputs produce the same kernel.
export KBUILD_BUILD_USER=container KBUILD_BUILD_HOST=container
if [ -n "${SOURCE_DATE_EPOCH:-}" ]; then
	export KBUILD_BUILD_TIMESTAMP="@$SOURCE_DATE_EPOCH"
fi

mkdir -p "$cache"
# Scratch directories are renamed into place when complete; remove a half-made one.
tmp=
trap '[ -z "$tmp" ] || rm -rf "$tmp"' EXIT

# --- source, unpacked once per package version -----------------------------------
srcroot="$cache/src/$srcver"
src="$srcroot/linux-source-6.1"
exec 8>"$cache/.lock-src"
flock 8
if [ ! -e "$srcroot/.complete" ]; then
	say "unpacking $tarball ($srcver)"
	rm -rf "$srcroot"
	mkdir -p "$cache/src"
	tmp=$(mktemp -d "$cache/src/.unpack.XXXXXX")
	nice -n 10 tar -xJf "$tarball" -C "$tmp"
	[ -f "$tmp/linux-source-6.1/Makefile" ] || die "unexpected tarball layout in $tarball"
	touch "$tmp/.complete"
	mv -T "$tmp" "$srcroot"
	tmp=
fi
flock -u 8

# --- configure: tinyconfig + fragment, then verify every line ------------------------
# One build per architecture at a time: they share the object tree.
exec 9>"$cache/.lock-$arch"
flock 9
if [ "$mode" = build ] && complete; then finish; fi
obj="$cache/obj-$arch"
mkdir -p "$obj"
kmake() { make -s -C "$src" O="$obj" "${make_args[@]}" "$@"; }

# Kconfig's override warnings are expected here (the fragment reassigns what
# tinyconfig chose); keep them in a log, shown only if configuring fails.
if ! { kmake tinyconfig && cat "${frags[@]}" >>"$obj/.config" && kmake olddefconfig; } >"$obj/config.log" 2>&1; then
	cat "$obj/config.log" >&2
	die "configuring failed (log: $obj/config.log)"
fi

# Kconfig drops an assignment whose dependencies are unmet without a word;
# catch that here rather than as a kernel that cannot find its disk.
missing=0
while IFS= read -r line; do
	case "$line" in
	CONFIG_*=*)
		sym=${line%%=*}
		grep -qxF -- "$line" "$obj/.config" && continue
		got=$(grep -E "^$sym=|^# $sym is not set" "$obj/.config" || true)
		;;
	"# CONFIG_"*" is not set")
		sym=${line#\# }; sym=${sym%% *}
		grep -qE "^$sym=" "$obj/.config" || continue
		got=$(grep -E "^$sym=" "$obj/.config")
		;;
	*) continue ;;
	esac
	say "fragment wants '$line', .config has '${got:-nothing (unknown symbol or unmet dependency)}'"
	missing=$((missing + 1))
done < <(cat "${frags[@]}")
[ "$missing" -eq 0 ] || die "$missing option(s) of ${frags[*]} did not survive olddefconfig"

if [ "$mode" = config ]; then
	echo "$obj/.config"
	exit 0
fi

# --- build and install ------------------------------------------------------------------
say "building $arch kernel ($srcver, fragment hash $hash) in $obj"
start=$(date +%s)
nice -n 10 make -s -C "$src" O="$obj" "${make_args[@]}" -j"${JOBS:-2}" "$target" >&2
secs=$(( $(date +%s) - start ))
[ -s "$obj/$image" ] || die "the build produced no $obj/$image"

tmp=$(mktemp -d "$cache/.$arch-$hash.XXXXXX")
if [ "$kname" = vmlinux ]; then
	# The symbol table is for debugging; the ELF notes (PVH entry) stay.
	"${cross_prefix}objcopy" --strip-all "$obj/$image" "$tmp/$kname"
else
	cp "$obj/$image" "$tmp/$kname"
fi
cp "$obj/.config" "$tmp/config"
{
	echo "arch=$arch"
	echo "linux-source-6.1=$srcver"
	echo "release=$(kmake kernelrelease)"
	echo "build_seconds=$secs"
	echo "size=$(stat -c %s "$tmp/$kname")"
} >"$tmp/info"
rm -rf "$dest"
mv -T "$tmp" "$dest"
tmp=
say "built $dest/$kname in ${secs}s"
finish
