#!/usr/bin/env bash
# t/integ/blobs.sh: the blobs embedded in $CONTAINER_BIN (linux-amd64) and
# `container system kernel`.  The hidden `container system initramfs --arch A`
# dumps an embedded initramfs: GNU cpio must list /init and dev/console
# (char 5,1), /init must be a static ELF for A that is this program without
# blobs; the x86_64 one is booted with the cached kernel (TCG) until our init
# runs as PID 1.  `kernel set` must refuse non-kernels with a clear error,
# install real ones atomically (arch guessed from the file), `kernel show`
# must say what will boot.  A release build (out/release/linux-amd64), if
# present, must embed and --recommended-install the cached kernels.
set -u
: "${TMPDIR:=/tmp}"
SRCDIR=${SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
B=${CONTAINER_BIN:-$SRCDIR/out/linux-amd64/container}
W=$(mktemp -d "$TMPDIR/blobs.XXXXXX")
trap 'rm -rf "$W"' EXIT
export CONTAINER_DATA_DIR=$W/data
n=0
okk() { n=$((n + 1)); echo "ok $n - $*"; }
nok() { n=$((n + 1)); echo "not ok $n - $*"; }
t() { if eval "$2"; then okk "$1"; else nok "$1"; fi; }
skip_n() { for _ in $(seq 1 "$1"); do n=$((n + 1)); echo "ok $n # SKIP $2"; done; }

if [ ! -x "$B" ]; then
	echo "1..0 # SKIP no binary at $B"
	exit 0
fi

# --- the embedded initramfs, per arch --------------------------------------
for arch in x86_64:x86-64 aarch64:'ARM aarch64'; do
	a=${arch%%:*} want=${arch#*:}
	if ! command -v cpio >/dev/null || ! command -v file >/dev/null; then
		skip_n 6 "cpio or file not installed"
		continue
	fi
	"$B" system initramfs --arch "$a" >"$W/$a.img" 2>"$W/err"
	t "$a: initramfs dumped" '[ -s "$W/$a.img" ]'
	img=$W/$a.img
	if gzip -t "$img" 2>/dev/null; then gzip -dc "$img" >"$W/$a.cpio"; img=$W/$a.cpio; fi
	cpio -itv <"$img" >"$W/$a.list" 2>/dev/null
	t "$a: cpio lists /init, 0755" 'grep -Eq "^-rwxr-xr-x .* init$" "$W/$a.list"'
	t "$a: cpio lists dev/console, char 5,1, 0600" \
		'grep -Eq "^crw------- .* 5, +1 .* dev/console$" "$W/$a.list"'
	t "$a: proc sys run mnt tmp are directories" \
		'[ "$(grep -Ec "^d.* (proc|sys|run|mnt|tmp)$" "$W/$a.list")" = 5 ]'
	mkdir -p "$W/$a.x"
	(cd "$W/$a.x" && cpio -id --quiet <"$img")
	file "$W/$a.x/init" >"$W/$a.file"
	t "$a: /init is a static ELF for $want: $(cut -d: -f2 "$W/$a.file")" \
		'grep -q "$want" "$W/$a.file" && grep -q "statically linked" "$W/$a.file"'
	t "$a: uid/gid 0 and reproducible mtimes" \
		'! grep -Ev "^[-dc][rwxts-]{9} +[0-9]+ root +root .* (Jan  1  1970|[A-Z][a-z]{2} [ 0-9]{2}  [0-9]{4}) " "$W/$a.list" | grep -q .'
done

# The x86_64 /init is this program, built without blobs (else the initramfs
# would contain itself).  Run under another name: as "init" it is PID 1.
if [ -x "$W/x86_64.x/init" ]; then
	cp "$W/x86_64.x/init" "$W/guest"
	t "guest /init is this program (version)" '"$W/guest" --version | grep -q "linux-amd64"'
	"$W/guest" system initramfs --arch x86_64 >/dev/null 2>"$W/err"
	t "guest /init embeds no initramfs" 'grep -q "embeds no initramfs" "$W/err"'
else
	skip_n 2 "no x86_64 /init extracted"
fi

# --- kernel show / set ------------------------------------------------------
"$B" system kernel show >"$W/show" 2>&1
t "kernel show: none installed, none embedded" \
	'grep -Eq "^x86_64 +none" "$W/show" && grep -Eq "^aarch64 +none" "$W/show"'
"$B" system kernel show --arch amd64 >/dev/null 2>&1
t "kernel show --arch: exit 1 when there is none" '[ $? = 1 ]'

"$B" system kernel set --binary /etc/passwd >"$W/out" 2>"$W/err"
rc=$?
t "set: a text file is refused (exit 1)" '[ $rc = 1 ] && grep -q "not an x86_64 kernel" "$W/err"'
"$B" system kernel set --binary "$W" >"$W/out" 2>"$W/err"
t "set: a directory is refused" '[ $? = 1 ] && grep -q "not a regular file" "$W/err"'
"$B" system kernel set --binary "$W/nope" >"$W/out" 2>"$W/err"
t "set: a missing file is refused" '[ $? = 1 ] && grep -q "No such file" "$W/err"'
"$B" system kernel set >"$W/out" 2>"$W/err"
t "set: neither --binary nor --recommended is a usage error" '[ $? = 2 ]'
"$B" system kernel set --recommended >"$W/out" 2>"$W/err"
t "set --recommended in a dev build says there is none" \
	'[ $? = 1 ] && grep -q "embeds no x86_64 kernel" "$W/err"'

# A fake arm64 Image: the magic at offset 56 is what is checked.
{ head -c 56 /dev/zero; printf 'ARM\x64'; head -c 4000 /dev/urandom; } >"$W/Image"
"$B" system kernel set --binary "$W/Image" --arch x86_64 >"$W/out" 2>"$W/err"
t "set: an arm64 Image is refused for --arch x86_64" '[ $? = 1 ] && grep -q "x86_64" "$W/err"'
"$B" system kernel set --binary "$W/Image" >"$W/out" 2>"$W/err"
t "set: arm64 Image installed, arch guessed" '[ $? = 0 ] && grep -q "Installed aarch64" "$W/out"'
t "set: installed bytes are the file's" 'cmp -s "$W/Image" "$W/data/kernels/aarch64/kernel"'
"$B" system kernel show >"$W/show" 2>&1
t "show: aarch64 installed, with its size and path" \
	'grep -Eq "^aarch64 +installed +4060 $W/data/kernels/aarch64/kernel$" "$W/show"'
t "show: x86_64 still none" 'grep -Eq "^x86_64 +none" "$W/show"'
{ head -c 56 /dev/zero; printf 'ARM\x64'; head -c 100 /dev/zero; } >"$W/Image2"
"$B" system kernel set --binary "$W/Image2" --arch arm64 >/dev/null 2>&1
t "set: replaces the installed one, no temp files left" \
	'cmp -s "$W/Image2" "$W/data/kernels/aarch64/kernel" && [ "$(ls -A "$W/data/kernels/aarch64")" = kernel ]'

K=$(initrd_kernel=$SRCDIR/initrd/kernel/build.sh; "$initrd_kernel" --cached x86_64 2>/dev/null | tail -1)
if [ -n "$K" ] && [ -f "$K" ]; then
	"$B" system kernel set --binary "$K" >"$W/out" 2>"$W/err"
	t "set: the project's vmlinux installed as x86_64" \
		'[ $? = 0 ] && cmp -s "$K" "$W/data/kernels/x86_64/kernel"'
else
	skip_n 1 "no cached x86_64 kernel (make kernel)"
fi

# --- boot the embedded initramfs ---------------------------------------------
VMRUN=${TOOLS_DIR:-$SRCDIR/.build/native/t/tools}/vmrun
if [ -z "$K" ] || [ ! -f "$K" ]; then
	skip_n 2 "no cached x86_64 kernel (make kernel)"
elif ! command -v qemu-system-x86_64 >/dev/null; then
	skip_n 2 "qemu-system-x86_64 not installed"
elif [ ! -x "$VMRUN" ]; then
	skip_n 2 "no vmrun tool at $VMRUN"
else
	"$VMRUN" --kernel "$K" --initrd "$W/x86_64.img" --in-memory --accel emulate \
		--console "$W/console" --timeout 60000 >"$W/vmrun" 2>&1
	t "boot: the VM powers itself off ($(grep -o 'wall_ms=[0-9]*' "$W/vmrun"))" \
		'grep -q "reason=poweroff" "$W/vmrun"'
	# Without a configuration our init says so and powers off: proof that
	# the embedded /init ran as PID 1.
	t "boot: our init ran as PID 1" 'grep -q "init: fatal: no boot configuration" "$W/console"'
fi

# --- a release build, when one was made ----------------------------------------
R=$SRCDIR/out/release/linux-amd64/container
if [ -x "$R" ] && [ -n "$K" ] && [ -f "$K" ]; then
	rm -rf "$W/data"
	"$R" system kernel show >"$W/show" 2>&1
	t "release: kernels embedded for both arches" \
		'grep -Eq "^x86_64 +embedded" "$W/show" && grep -Eq "^aarch64 +embedded" "$W/show"'
	"$R" system kernel set --recommended >"$W/out" 2>&1
	t "release: --recommended installs the embedded x86_64 kernel" \
		'cmp -s "$K" "$W/data/kernels/x86_64/kernel"'
else
	skip_n 2 "no release build (make release) or no cached kernel"
fi

echo "1..$n"
