#!/usr/bin/env bash
# t/integ/guest_init.sh: the guest init booted for real.  A static build of
# init is packed as /init by our cpio writer, a busybox rootfs becomes the
# image ext4 (mke2fs -d, test-only), an empty ext4 the writable disk, and
# the project's kernel boots it under qemu-system-x86_64 -M microvm (TCG).
#
# The same cases run twice: in namespaces on this host (init as PID 1 of a
# new pid namespace, disks on loop devices; needs root, seconds) and in the
# VM (needs the kernel, TCG).  They talk the agent protocol with a minimal
# host compiled here from the codec: HELLO, CONFIG, stdio, EXIT, SHUTDOWN.
# One VM case boots without an agent channel, configured from the kernel
# command line only.
#
# The init binary is $CONTAINER_BIN when its `init` applet is wired (the
# product's static build is what the initramfs embeds), else a static
# build of initrd/ + lib/ with a one-line main.
set -u
: "${TMPDIR:=/tmp}"
SRCDIR=${SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
W=$(mktemp -d "$TMPDIR/guest_init.XXXXXX")
trap 'rm -rf "$W"' EXIT
n=0
okk() { n=$((n + 1)); echo "ok $n - $*"; }
nok() { n=$((n + 1)); echo "not ok $n - $*"; }
check() { if [ "$1" = "$2" ]; then okk "$3"; else nok "$3"; echo "#   got '$1', want '$2'"; fi; }
NCASES=15   # checks in cases()
skip_all() { skip_n $((2 * NCASES + 2)) "$1"; echo "1..$n"; exit 0; }
skip_n() { for _ in $(seq 1 "$1"); do n=$((n + 1)); echo "ok $n # SKIP $2"; done; }

for tool in mke2fs cc; do
	command -v $tool >/dev/null || skip_all "$tool not installed"
done
BUSYBOX=/bin/busybox
file -L "$BUSYBOX" 2>/dev/null | grep -q 'statically linked' || skip_all "no static busybox (busybox-static)"

CFLAGS="-std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -I$SRCDIR -O2"
LIBSRC="$SRCDIR/lib/err.c $SRCDIR/lib/mem.c $SRCDIR/lib/buf.c $SRCDIR/lib/fs.c $SRCDIR/lib/jsonx.c"

# --- the init binary --------------------------------------------------------
if [ -x "${CONTAINER_BIN:-}" ] && "$CONTAINER_BIN" init 2>&1 | grep -q 'PID 1'; then
	INIT=$CONTAINER_BIN
else
	echo 'int init_main(int, char **); int main(int c, char **v) { return init_main(c, v); }' \
		>"$W/initmain.c"
	if ! cc $CFLAGS -static -o "$W/init" "$W/initmain.c" $LIBSRC "$SRCDIR"/initrd/agent.c \
		"$SRCDIR"/initrd/guest.c "$SRCDIR"/initrd/init*.c -ljansson 2>"$W/cc.log"; then
		sed 's/^/# /' "$W/cc.log" | head -20
		skip_all "cannot build a static init here"
	fi
	INIT=$W/init
fi

# --- helpers built from the product's own codec and cpio writer -------------
cat >"$W/mkcpio.c" <<'EOF'
#include <stdio.h>
#include <sys/stat.h>
#include "initrd/cpio.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/buf.h"
int main(int argc, char **argv) {
	struct buf b = BUF_INIT; struct err e = ERR_INIT; struct cpio c;
	if (argc != 3) return 2;
	cpio_init_buf(&c, &b, 0);
	if (cpio_dir(&c, "dev", 0755, &e) || cpio_node(&c, "dev/console", S_IFCHR | 0600, 5, 1, &e) ||
	    cpio_dir(&c, "proc", 0755, &e) || cpio_dir(&c, "sys", 0755, &e) ||
	    cpio_dir(&c, "run", 0755, &e) || cpio_dir(&c, "mnt", 0755, &e) ||
	    cpio_file_path(&c, "init", 0755, argv[2], &e) || cpio_finish(&c, &e) ||
	    fs_write_atomic(argv[1], b.data, b.len, 0644, &e)) {
		fprintf(stderr, "mkcpio: %s\n", e.msg); return 1;
	}
	return 0;
}
EOF
cat >"$W/host.c" <<'EOF'
/* host CONFIG.json STDIN-FILE|- SOCKET
 * host CONFIG.json STDIN-FILE|- -- INIT-COMMAND...
 * A minimal agent host: listens on SOCKET for QEMU's connection, or runs
 * INIT-COMMAND with the channel on its fd 3.  Exits with the workload's
 * status (125 when the guest reports an error, 122-124 host trouble). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <signal.h>
#include <unistd.h>
#include "initrd/agent.h"
#include "lib/buf.h"
#include "lib/err.h"
#include "lib/fs.h"
static int fd;
static void sendb(struct buf *b) { struct err e; if (fs_write_full(fd, b->data, b->len, &e) < 0) { fprintf(stderr, "host: %s\n", e.msg); } buf_reset(b); }
int main(int argc, char **argv) {
	struct buf cfg = BUF_INIT, in = BUF_INIT, rx, tx = BUF_INIT; struct err e = ERR_INIT;
	struct sockaddr_un sa = { .sun_family = AF_UNIX }; int ls, status = -1, stdin_on;
	pid_t writer = 0;
	if (argc < 4 || fs_read_file(argv[1], &cfg, 1 << 20, &e) < 0) return 2;
	stdin_on = strcmp(argv[2], "-") != 0;
	if (stdin_on && fs_read_file(argv[2], &in, 64 << 20, &e) < 0) return 2;
	buf_init(&rx, AGENT_FRAME_MAX);
	if (!strcmp(argv[3], "--")) {
		int sv[2];
		if (argc < 5 || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0) return 2;
		if (fork() == 0) {
			dup2(sv[1], 3);
			execvp(argv[4], argv + 4);
			_exit(127);
		}
		close(sv[1]);
		fd = sv[0];
	} else {
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", argv[3]);
		ls = socket(AF_UNIX, SOCK_STREAM, 0);
		if (bind(ls, (void *)&sa, sizeof(sa)) < 0 || listen(ls, 1) < 0) { perror("host: bind"); return 2; }
		fd = accept(ls, NULL, NULL);
	}
	for (;;) {
		struct agent_frame f; size_t used; int rc;
		while ((rc = agent_decode(rx.data, rx.len, &f, &used, &e)) != 0) {
			if (rc < 0) { fprintf(stderr, "host: %s\n", e.msg); return 124; }
			switch (f.type) {
			case AGENT_HELLO: {
				struct agent_hello h = { 1, 1, "test-host" };
				agent_put_hello(&tx, &h, &e);
				agent_put_raw(&tx, AGENT_CONFIG, 0, 0, cfg.data, cfg.len, &e);
				sendb(&tx);
				break; }
			case AGENT_OK:
				/* $SIG: a signal for process 1; $CTRLC: ^C on its terminal */
				if (f.stream == 0 && (getenv("SIG") || getenv("CTRLC"))) {
					usleep(500000);
					if (getenv("SIG"))
						agent_put_signal(&tx, 1, atoi(getenv("SIG")), &e);
					else
						agent_put_raw(&tx, AGENT_STDIN, 1, 0, "\x03", 1, &e);
					sendb(&tx);
				}
				/* stdin from a child, so that reading stdout never waits
				 * for our writes (the guest applies back-pressure) */
				if (f.stream == 0 && stdin_on && (writer = fork()) == 0) {
					for (size_t off = 0; off < in.len; off += AGENT_DATA_CHUNK) {
						size_t k = in.len - off < AGENT_DATA_CHUNK ? in.len - off : AGENT_DATA_CHUNK;
						agent_put_raw(&tx, AGENT_STDIN, 1, 0, in.data + off, k, &e);
						sendb(&tx);
					}
					agent_put_raw(&tx, AGENT_CLOSE_STDIN, 1, 0, NULL, 0, &e);
					sendb(&tx);
					_exit(0);
				}
				break;
			case AGENT_STDOUT: if (f.len) fwrite(f.payload, 1, f.len, stdout); break;
			case AGENT_STDERR: if (f.len) fwrite(f.payload, 1, f.len, stderr); break;
			case AGENT_ERROR: fprintf(stderr, "guest error: %s\n", f.u.error.message); status = 125; break;
			case AGENT_EXIT:
				if (f.stream == 1) {
					status = f.u.exit.status;
					if (writer > 0)
						kill(writer, SIGKILL);
					agent_put_raw(&tx, AGENT_SHUTDOWN, 0, 0, NULL, 0, &e);
					sendb(&tx);
				}
				break;
			}
			buf_consume(&rx, used);
		}
		if (buf_reserve(&rx, 65536) < 0) return 123;
		ssize_t k = read(fd, rx.data + rx.len, 65536);
		if (k <= 0) break;
		rx.len += (size_t)k;
	}
	fflush(stdout);
	while (wait(NULL) > 0)
		;
	return status < 0 ? 122 : status;
}
EOF
for t in mkcpio host; do
	extra=
	[ $t = mkcpio ] && extra=$SRCDIR/initrd/cpio.c
	[ $t = host ] && extra=$SRCDIR/initrd/agent.c
	cc $CFLAGS -o "$W/$t" "$W/$t.c" $LIBSRC $extra -ljansson 2>"$W/cc.log" ||
		{ sed 's/^/# /' "$W/cc.log" | head; skip_all "cannot build the test helpers"; }
done
"$W/mkcpio" "$W/initramfs.cpio" "$INIT" || skip_all "cannot pack the initramfs"

# --- the image: busybox, passwd, group ---------------------------------------
R=$W/rootfs
mkdir -p "$R/bin" "$R/etc" "$R/tmp" "$R/proc" "$R/sys" "$R/dev" "$R/root" "$R/home/app"
cp "$BUSYBOX" "$R/bin/busybox"
for a in sh echo cat id ls sleep wc pwd env kill true false hostname printf touch; do
	ln -s busybox "$R/bin/$a"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\napp:x:1000:1000::/home/app:/bin/sh\n' >"$R/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\napp:x:1000:\naudio:x:29:app\n' >"$R/etc/group"
printf 'not executable\n' >"$R/bin/noexec"
chmod 0644 "$R/bin/noexec"
mke2fs -q -t ext4 -d "$R" "$W/image.ext4" 16M >/dev/null 2>&1 || skip_all "mke2fs -d failed"
IMG_SUM=$(sha256sum <"$W/image.ext4")
truncate -s 32M "$W/rw.ext4"

# --- running one container -------------------------------------------------
# run_ns / run_vm CONFIG-JSON [STDIN-FILE]: set OUT, ERR, RC (and QRC,
# CONSOLE for the VM).  DISKS names the two disks in the JSON.

# In namespaces on this host: init as PID 1 of a new pid namespace, chrooted
# into a bind-mounted initramfs-like directory, disks on loop devices, the
# agent channel on an inherited socket (container.agent=fd:3).
run_ns() {
	local cfg=$1 stdin=${2:--}
	mke2fs -q -F -t ext4 "$LOOP_RW" >/dev/null 2>&1
	printf '%s' "$cfg" >"$W/config.json"
	timeout 60 "$W/host" "$W/config.json" "$stdin" -- unshare -fpmuin --propagation private \
		sh -c 'mount --bind "$1" "$1" && cd "$1" && exec chroot . /init container.agent=fd:3' \
		sh "$W/nsroot" >"$W/out" 2>"$W/err"
	RC=$?
	OUT=$(tr -d '\0' <"$W/out")
	ERR=$(grep -v '^init: ' "$W/err")
	if [ "$RC" -ge 122 ] && [ "$RC" -le 125 ]; then
		sed 's/^/# stderr: /' "$W/err" | tail -8
	fi
}

# In a VM: QEMU microvm, the project's kernel, our initramfs, virtio disks
# found by serial, the agent on a virtio-serial port.
run_vm() {
	local cfg=$1 stdin=${2:--}
	rm -f "$W/agent.sock"
	mke2fs -q -F -t ext4 "$W/rw.ext4" >/dev/null 2>&1
	printf '%s' "$cfg" >"$W/config.json"
	"$W/host" "$W/config.json" "$stdin" "$W/agent.sock" >"$W/out" 2>"$W/err" &
	local hpid=$!
	for _ in $(seq 50); do [ -S "$W/agent.sock" ] && break; sleep 0.1; done
	timeout 300 qemu-system-x86_64 -M microvm,isa-serial=on,rtc=on -accel tcg -cpu max \
		-m 256 -smp 1 -nodefaults -no-user-config -display none -no-reboot \
		-serial file:"$W/console" \
		-kernel "$KERNEL" -initrd "$W/initramfs.cpio" \
		-append "console=ttyS0 quiet panic=-1 pci=off tsc=reliable no_timer_check${TSC_ARG}" \
		-drive id=d0,file="$W/image.ext4",format=raw,if=none,readonly=on \
		-device virtio-blk-device,drive=d0,serial=image \
		-drive id=d1,file="$W/rw.ext4",format=raw,if=none \
		-device virtio-blk-device,drive=d1,serial=rw \
		-device virtio-serial-device -chardev socket,id=a0,path="$W/agent.sock" \
		-device virtserialport,chardev=a0,name=container.agent >/dev/null 2>"$W/qemu.err"
	QRC=$?
	wait $hpid
	RC=$?
	OUT=$(tr -d '\0' <"$W/out")
	ERR=$(cat "$W/err")
	CONSOLE=$(tr -d '\r' <"$W/console")
	if [ $QRC -ne 0 ]; then
		echo "# qemu exited $QRC"; sed 's/^/# qemu: /' "$W/qemu.err" | head -5
	fi
	if [ "$RC" -ge 122 ] && [ "$RC" -le 125 ]; then
		printf '%s\n' "$CONSOLE" | tail -15 | sed 's/^/# console: /'
		printf '%s\n' "$ERR" | tail -5 | sed 's/^/# stderr: /'
	fi
}

# The cases: NCASES checks, run with $1 (run_ns or run_vm), named with $2.
cases() {
	local run=$1 w=$2
	$run '{'"$DISKS"',"process":{"cmd":["echo","hello"]}}'
	check "$OUT/$RC" "hello/0" "$w: echo hello, exit 0"

	$run '{'"$DISKS"',"process":{"cmd":["sh","-c","echo out; echo err >&2; exit 7"]}}'
	check "$OUT/$ERR/$RC" "out/err/7" "$w: stdout and stderr separate, exit 7"

	$run '{'"$DISKS"',"process":{"cmd":["sh","-c","kill -9 $$"]}}'
	check "$RC" 137 "$w: killed by SIGKILL: 137"

	$run '{'"$DISKS"',"process":{"cmd":["nosuch"]}}'
	check "$RC" 127 "$w: missing command: 127"
	case $ERR in *'exec: "nosuch": executable file not found in $PATH'*)
		okk "$w: missing command: message on stderr" ;;
	*) nok "$w: missing command: message on stderr"; echo "#   got '$ERR'" ;; esac

	$run '{'"$DISKS"',"process":{"cmd":["/bin/noexec"]}}'
	check "$RC" 126 "$w: not executable: 126"

	$run '{'"$DISKS"',"hostname":"box1","image":{"User":"app","WorkingDir":"/work/dir","Env":["FOO=img","BAR=img"]},"process":{"env":["BAR=user"],"cmd":["sh","-c","id; pwd; echo $FOO $BAR $HOME $HOSTNAME $(hostname); cat /etc/hostname"]}}'
	check "$OUT" "uid=1000(app) gid=1000(app) groups=29(audio)
/work/dir
img user /home/app box1 box1
box1" "$w: image User/WorkingDir/Env, -e, HOME, hostname"

	$run '{'"$DISKS"',"process":{"user":"nobody","cmd":["id"]}}'
	check "$OUT" "uid=65534(nobody) gid=65534(nogroup)" "$w: -u nobody"

	printf 'a\nb\n' >"$W/stdin"
	$run '{'"$DISKS"',"process":{"stdin":true,"cmd":["wc","-l"]}}' "$W/stdin"
	check "$(echo $OUT)" "2" "$w: stdin streamed with EOF: wc -l counts 2"

	head -c 10485760 /dev/urandom >"$W/big"
	$run '{'"$DISKS"',"process":{"stdin":true,"cmd":["cat"]}}' "$W/big"
	check "$(sha256sum <"$W/out")" "$(sha256sum <"$W/big")" "$w: 10 MiB through stdin and back"

	$run '{'"$DISKS"',"hostname":"ro1","read_only":true,"process":{"cmd":["sh","-c","cat /etc/hostname; touch /x 2>/dev/null || echo ro"]}}'
	check "$OUT" "ro1
ro" "$w: --read-only: root not writable, /etc/hostname still provided"

	$run '{'"$DISKS"',"process":{"tty":true,"rows":33,"cols":99,"cmd":["sh","-c","tty; stty size; echo $TERM"]}}'
	check "$(printf '%s' "$OUT" | tr -d '\r')" "/dev/pts/0
33 99
xterm" "$w: tty from the container's devpts, its size, TERM"

	SIG=15 $run '{'"$DISKS"',"process":{"cmd":["sleep","100"]}}'
	check "$RC" 143 "$w: SIGTERM forwarded to the workload: 143"

	CTRLC=1 $run '{'"$DISKS"',"process":{"tty":true,"stdin":true,"cmd":["sleep","100"]}}'
	check "$RC" 130 "$w: Ctrl-C on the terminal stops sleep: 130"

	$run '{'"$DISKS"',"process":{"cmd":["sh","-c","echo x > /written; cat /written"]}}'
	local first=$OUT
	$run '{'"$DISKS"',"process":{"cmd":["sh","-c","ls /written 2>/dev/null || echo absent"]}}'
	check "$first/$OUT/$(sha256sum <"$W/image.ext4")" "x/absent/$IMG_SUM" \
		"$w: writes land in the writable disk only; the image is unchanged"
}

# --- in namespaces -------------------------------------------------------------
ns_why=
[ "$(id -u)" = 0 ] || ns_why="not root"
for tool in unshare losetup chroot; do
	[ -z "$ns_why" ] && ! command -v $tool >/dev/null && ns_why="$tool not installed"
done
if [ -z "$ns_why" ]; then
	LOOP_IMG=$(losetup -r -f --show "$W/image.ext4" 2>/dev/null) || ns_why="no loop devices"
fi
if [ -z "$ns_why" ]; then
	LOOP_RW=$(losetup -f --show "$W/rw.ext4" 2>/dev/null) || ns_why="no loop devices"
	trap 'losetup -d "$LOOP_IMG" ${LOOP_RW:+"$LOOP_RW"} 2>/dev/null; rm -rf "$W"' EXIT
fi
if [ -z "$ns_why" ]; then
	mkdir -p "$W/nsroot/dev" "$W/nsroot/proc" "$W/nsroot/sys" "$W/nsroot/run" "$W/nsroot/mnt"
	cp "$INIT" "$W/nsroot/init"
	DISKS='"image_dev":"'$LOOP_IMG'","rw_dev":"'$LOOP_RW'"'
	cases run_ns ns
else
	skip_n $NCASES "$ns_why"
fi

# --- in a VM -----------------------------------------------------------------------
vm_why=
for tool in qemu-system-x86_64 base64; do
	command -v $tool >/dev/null || vm_why="$tool not installed"
done
KERNEL=${GUEST_KERNEL:-$("$SRCDIR/initrd/kernel/build.sh" --cached x86_64 2>/dev/null | tail -1)} || true
# These boots use TCG, where the x86 guest needs its TSC rate (t/integ/tsc.sh).
TSC_ARG=
work=$W
. "$SRCDIR/t/integ/tsc.sh"
khz=$(host_tsc_khz) && [ -n "$khz" ] && TSC_ARG=" tsc_early_khz=$khz"
[ -n "$KERNEL" ] && [ -r "$KERNEL" ] || vm_why="guest kernel not built (make kernel)"
if [ -n "$vm_why" ]; then
	skip_n $((NCASES + 2)) "$vm_why"
	echo "1..$n"
	exit 0
fi
DISKS='"image_dev":"image","rw_dev":"rw"'
cases run_vm vm
check "$QRC" 0 "vm: QEMU ended by the guest's power-off"

# no agent channel: configuration on the kernel command line, output and
# exit status on the console
mke2fs -q -F -t ext4 "$W/rw.ext4" >/dev/null 2>&1
CFG=$(printf '{%s,"process":{"cmd":["echo","hello from the console"]}}' "$DISKS" | base64 -w0)
timeout 300 qemu-system-x86_64 -M microvm,isa-serial=on,rtc=on -accel tcg -cpu max \
	-m 256 -smp 1 -nodefaults -no-user-config -display none -no-reboot \
	-serial file:"$W/console" -kernel "$KERNEL" -initrd "$W/initramfs.cpio" \
	-append "console=ttyS0 quiet panic=-1 pci=off tsc=reliable no_timer_check${TSC_ARG} container.config=$CFG" \
	-drive id=d0,file="$W/image.ext4",format=raw,if=none,readonly=on \
	-device virtio-blk-device,drive=d0,serial=image \
	-drive id=d1,file="$W/rw.ext4",format=raw,if=none \
	-device virtio-blk-device,drive=d1,serial=rw >/dev/null 2>&1
CONSOLE=$(tr -d '\r' <"$W/console")
case $CONSOLE in
*'hello from the console'*'init: exit status 0'*) okk "vm, no agent: config from the command line, output on the console" ;;
*) nok "vm, no agent: config from the command line, output on the console"
   printf '%s\n' "$CONSOLE" | tail -10 | sed 's/^/# console: /' ;;
esac

echo "1..$n"
