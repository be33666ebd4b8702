#!/usr/bin/env bash
# t/integ/run.sh: `container run` end to end, booting the real guest kernel
# (KVM when usable, TCG here): the product binary with its embedded
# initramfs, a busybox image built by t/integ/mkimage.py and loaded with
# `container image load`, the kernel installed by `system kernel set`.
# Covers issue #5's "must show" list: exit codes, stdin/stdout/stderr, a
# pty, users and image config, isolation of writes, --arch arm64.  The CLI
# goes through the API server, which it starts on first use.
set -u
TOTAL=40 NAME=run
. "$(dirname "$0")/vm_env.sh"
python3 "$SRCDIR/t/integ/mkimage.py" "$W/cfg.tar" test/cfg:1 amd64 "$BUSYBOX" \
	'{"User":"app","Env":["PATH=/bin","FOO=from-image","BAR=keep"],"WorkingDir":"/srv","Entrypoint":["/bin/sh","-c"],"Cmd":["echo $FOO $BAR; id -u; id -G; pwd"]}' ||
	skip_rest "cannot build the test images"
"$C" image load -i "$W/cfg.tar" >/dev/null || { nok "image load"; skip_rest "no image"; }
R() { "$C" run --rm "$@"; }
# started here, so that its one line on stderr is in no check's output
"$C" system start >/dev/null 2>&1 || nok "system start"

# --- exit codes -------------------------------------------------------------
t0=$(date +%s%N)
out=$(R test/bb:1 echo hello 2>&1); rc=$?
echo "# run --rm echo hello: $(( ($(date +%s%N) - t0) / 1000000 )) ms"
is "$rc:$out" "0:hello" "run --rm IMG echo hello prints hello, exits 0"
R test/bb:1 sh -c 'exit 7' >/dev/null 2>&1
is "$?" 7 "sh -c 'exit 7' exits 7"
R test/bb:1 sh -c 'kill -9 $$' >/dev/null 2>&1
is "$?" 137 "a workload killed by SIGKILL exits 137"
R --init=false test/bb:1 sh -c 'kill -9 $$' >/dev/null 2>&1
is "$?" 0 "--init=false: the workload is PID 1 of its namespace, where kill -9 \$\$ does nothing (as docker)"
out=$(R test/bb:1 /no/such/thing 2>&1); rc=$?
is "$rc" 127 "a missing command exits 127"
like "$out" "/no/such/thing" "the message names the missing command"
R test/bb:1 /etc/passwd >/dev/null 2>&1
is "$?" 126 "a file that is not executable exits 126"
is "$(qemus)" 0 "no qemu is left after --rm runs"
is "$(ls "$CONTAINER_DATA_DIR/containers" 2>/dev/null | wc -l)" 0 "--rm removed every container"

# --- stdio ------------------------------------------------------------------
out=$(printf 'a\nb\n' | R -i test/bb:1 wc -l 2>&1)
is "$out" 2 "stdin streams to the workload with EOF (wc -l counts 2)"
head -c 10485760 /dev/urandom >"$W/big"
want=$(sha256sum <"$W/big" | cut -d' ' -f1)
got=$(R -i test/bb:1 cat <"$W/big" | sha256sum | cut -d' ' -f1)
is "$got" "$want" "10 MiB through stdin and back through stdout, same sha256"
R test/bb:1 sh -c 'echo out; echo err >&2' >"$W/o" 2>"$W/e"
is "$(cat "$W/o")|$(cat "$W/e")" "out|err" "stdout and stderr stay separate without -t"
out=$(R test/bb:1 cat </dev/null 2>&1); rc=$?
is "$rc:$out" "0:" "without -i the workload's stdin is empty"

# --- a terminal -------------------------------------------------------------
if command -v script >/dev/null; then
	out=$(script -qec "stty rows 33 cols 111; $C run --rm -it test/bb:1 stty size" /dev/null </dev/null | tr -d '\r')
	like "$out" "33 111" "-it: stty size reports the outer terminal's size"
	out=$(script -qec "$C run --rm -t test/bb:1 sh -c 'test -t 0 && test -t 1 && echo tty'" /dev/null </dev/null | tr -d '\r')
	like "$out" "tty" "-t: the workload's stdin and stdout are a terminal"
	t0=$(date +%s)
	(sleep 6; printf '\003') | script -qec "$C run --rm -it test/bb:1 sleep 100" /dev/null >/dev/null 2>&1
	rc=$?
	el=$(( $(date +%s) - t0 ))
	is "$([ $el -lt 60 ] && echo fast)" fast "Ctrl-C stops sleep 100 under -it (${el}s, status $rc)"
	is "$rc" 130 "... and the exit status is 130 (SIGINT)"
else
	for i in 1 2 3 4; do ok "# SKIP script(1) not installed"; done
fi
"$C" run --rm test/bb:1 sleep 100 >/dev/null 2>&1 &
pid=$!
sleep 6
kill -TERM $pid
wait $pid
is "$?" 143 "SIGTERM to container run is forwarded; sleep dies of it (143)"

# --- users, environment, image config ---------------------------------------
is "$(R -u nobody test/bb:1 id -u 2>&1)" 65534 "-u nobody runs as uid 65534"
is "$(R -u app test/bb:1 id -G 2>&1)" "1000 29" "-u app gets its supplementary groups"
is "$(R -u 123:456 test/bb:1 sh -c 'echo $(id -u):$(id -g)' 2>&1)" "123:456" "-u uid:gid that passwd does not list"
out=$(R test/cfg:1 2>&1)
is "$(echo $out)" "from-image keep 1000 1000 29 /srv" "image User, Env, WorkingDir, Entrypoint and Cmd as docker"
out=$(R -e FOO=flag -w /tmp test/cfg:1 'echo $FOO $BAR; pwd' 2>&1)
is "$(echo $out)" "flag keep /tmp" "-e overrides the image's Env, -w its WorkingDir, the operand its Cmd"
out=$(R --entrypoint /bin/echo test/cfg:1 hi 2>&1)
is "$out" "hi" "--entrypoint replaces the image's entrypoint and drops its Cmd"
printf 'A=1\n# comment\n\nB=two words\n' >"$W/envf"
is "$(R --env-file "$W/envf" test/bb:1 sh -c 'echo $A-$B' 2>&1)" "1-two words" "--env-file"
is "$(HOSTVAR=hv R -e HOSTVAR -e UNSETVAR test/bb:1 sh -c 'echo $HOSTVAR-${UNSETVAR-unset}' 2>&1)" "hv-unset" "-e KEY takes the host's value; unset on the host means unset"
is "$(R --hostname web1 test/bb:1 hostname 2>&1)" "web1" "--hostname"
out=$(R test/bb:1 env 2>&1)
like "$out" "HOME=/root" "HOME comes from /etc/passwd"

# --- writes are private -------------------------------------------------------
"$C" run -d --name w1 --kernel-arg loglevel=7 test/bb:1 sh -c 'echo one >/srv/marker; echo new >/srv/new; sleep 30' >"$W/id1" 2>&1
"$C" run -d --name w2 test/bb:1 sh -c 'sleep 8; cat /srv/marker; ls /srv' >"$W/id2" 2>&1
sleep 25
is "$("$C" logs w2 2>&1 | tr '\n' ' ')" "from the image marker " "a second container of the image does not see the first one's writes"
out=$(R test/bb:1 cat /srv/marker 2>&1)
is "$out" "from the image" "the image itself is unchanged"
like "$(R --read-only test/bb:1 sh -c 'echo x >/srv/y' 2>&1)" "Read-only file system" "--read-only"
like "$("$C" logs --boot w1 2>&1)" "Linux version" "logs --boot shows the kernel console (--kernel-arg loglevel=7)"
server_stop
pkill -f "$W/data" 2>/dev/null
"$C" system start >/dev/null 2>&1

# --- errors -------------------------------------------------------------------
out=$("$C" run --rm test/nothere:1 true 2>&1); rc=$?
is "$rc" 125 "an image that is nowhere exits 125"
out=$("$C" run --rm --name 'bad name' test/bb:1 true 2>&1); rc=$?
like "$rc:$out" "125:container run: invalid container name" "an invalid name is refused before boot"
# the runtime (spawned by the API server) reads the boot deadline: a server
# started with it
server_stop
CONTAINER_BOOT_TIMEOUT_MS=300 "$C" system start >/dev/null 2>&1
out=$("$C" run --rm test/bb:1 true 2>&1); rc=$?
like "$rc:$out" "125:container run: the VM did not start the workload within 0.3 s" "a VM that does not start in time is killed, with a message (125)"
server_stop
"$C" system start >/dev/null 2>&1
out=$("$C" run --rm --kernel-arg rdinit=/nonexistent test/bb:1 true 2>&1); rc=$?
like "$rc:$out" "125:container run: the VM ended without an exit status (reboot: guest-reset); Kernel panic - not syncing" "a kernel panic is reported with its reason, also under --rm (125)"
is "$(qemus):$(ls "$CONTAINER_DATA_DIR/containers" 2>/dev/null | grep -v -e "$(cat "$W/id1")" -e "$(cat "$W/id2")" | wc -l)" "0:0" "failed --rm runs leave no VM and no container behind"
"$C" system status >/dev/null 2>&1
is "$?" 0 "the API server survives auto-removing a container whose start failed"

# --- --arch arm64 under emulation -------------------------------------------------
K64=$("$SRCDIR/initrd/kernel/build.sh" --cached arm64 2>/dev/null)
BB64=${BUSYBOX_ARM64:-$HOME/.cache/container-build/busybox-arm64/bin/busybox}
if [ -z "$K64" ]; then
	ok "# SKIP arm64 guest kernel not built (make kernel KERNEL_ARCHES=arm64)"
elif [ ! -x "$BB64" ]; then
	ok "# SKIP no arm64 busybox ($BB64; build.sh fetches busybox-static:arm64)"
elif ! command -v qemu-system-aarch64 >/dev/null; then
	ok "# SKIP qemu-system-aarch64 not installed"
else
	python3 "$SRCDIR/t/integ/mkimage.py" "$W/bb64.tar" test/bb64:1 arm64 "$BB64"
	"$C" image load -i "$W/bb64.tar" >/dev/null 2>&1
	"$C" system kernel set --arch arm64 --binary "$K64" >/dev/null
	t0=$(date +%s%N)
	out=$(R --arch arm64 test/bb64:1 uname -m 2>&1)
	is "$out" "aarch64" "--arch arm64 boots the arm64 guest under emulation ($(( ($(date +%s%N) - t0) / 1000000 )) ms)"
fi
server_gone
echo "1..$n"
