#!/usr/bin/env bash
# t/integ/docker_cli.sh: the REAL docker CLI against our API server (issue
# #6), DOCKER_HOST=unix://$RUN/container.sock, with a server started here
# on scratch data/run dirs and the busybox image test/bb:1 loaded with
# `container image load` (t/integ/vm_env.sh).  Every container boots the
# real guest kernel under QEMU (TCG here).  Covers run (output, exit codes,
# stdin, a tty), run -d, ps, logs (-f ending when the container stops,
# --tail, -t), exec (status, stdin, -it under a pty), inspect, wait, stop,
# kill, rm (-f), name conflicts, prune, and a SIGKILL of the server while a
# container runs: the restarted server reattaches to its runtime.  With
# docker-registry, openssl and node present, also images: docker pull from a
# loopback TLS registry (t/integ/registry_env.sh), docker run of an image
# not stored (404, pull, retry), images, image inspect, tag, rmi.
set -u
TOTAL=59 NAME=dockercli
command -v docker >/dev/null 2>&1 || { echo "1..0 # SKIP docker CLI not installed"; exit 0; }
. "$(dirname "$0")/vm_env.sh"
IMG=test/bb:1
REG=
if command -v docker-registry >/dev/null && command -v openssl >/dev/null && command -v node >/dev/null; then
	. "$(dirname "$0")/registry_env.sh"
	# the server pulls: it must trust the test CA (set before it starts)
	if reg_start none; then export CONTAINER_REGISTRY_CA=$REG_CA; else REG=; fi
fi
trap 'cleanup; [ -n "${REG_DIR:-}" ] && reg_cleanup' EXIT
api_server_start

# --- run in the foreground ---------------------------------------------------
out=$(D run --rm $IMG echo hi 2>&1); rc=$?
is "$rc:$out" "0:hi" "docker run --rm IMG echo hi: hi, exit 0"
is "$(D ps -aq | wc -l)" 0 "--rm: the container is gone afterwards"
D run --rm $IMG sh -c 'exit 3' >/dev/null 2>&1
is "$?" 3 "docker run sh -c 'exit 3': exit code 3"
out=$(D run --rm $IMG sh -c 'echo out; echo err >&2' 2>"$W/err")
is "$out|$(cat "$W/err")" "out|err" "stdout and stderr arrive apart (8-byte frames)"
out=$(printf 'one\ntwo\n' | D run --rm -i $IMG wc -l 2>&1)
is "$(echo $out)" 2 "docker run -i: stdin through the hijacked stream, EOF closes it"
out=$(script -qec "stty rows 21 cols 77; docker run --rm -it $IMG sh -c '[ -t 0 ] && echo tty-yes; stty size'" /dev/null </dev/null | tr -d '\r')
like "$out" "tty-yes" "docker run -it under script: the workload has a terminal"
like "$out" "21 77" "docker run -it: the terminal size reaches the container"
out=$(D run --rm --name bad/name $IMG true 2>&1); rc=$?
[ $rc -ne 0 ] && like "$out" "Invalid container name" "a name with / is refused" || nok "a name with / is refused ($rc: $out)"
out=$(D run --rm nosuch/image:1 true 2>&1); rc=$?
[ $rc -ne 0 ] && ok "an image that is nowhere: docker run fails ($rc)" || nok "an image that is nowhere: $out"

# --- a detached container ---------------------------------------------------
id=$(D run -d --name x $IMG sh -c 'echo hello from x; echo warn >&2; exec sleep 1000' 2>&1)
is "${#id}" 64 "docker run -d --name x: prints a 64-hex id" || skip_rest "no container x"
out=$(D ps --format '{{.Names}} {{.Image}} {{.Status}}')
like "$out" "x $IMG Up" "docker ps shows x running"
is "$(D ps -q --no-trunc)" "$id" "docker ps -q --no-trunc: the id"
is "$(D ps -q --filter name=x --filter status=running | wc -l)" 1 "docker ps --filter name=x,status=running"
is "$(D ps -q --filter status=exited | wc -l)" 0 "docker ps --filter status=exited: none"
is "$(D inspect -f '{{.State.Status}} {{.State.Running}} {{.Name}} {{.Config.Image}}' x)" \
	"running true /x $IMG" "docker inspect x: state, name, image"
is "$(D inspect -f '{{.Id}}' "${id:0:7}")" "$id" "docker inspect by unique id prefix"
sleep 1
is "$(D logs x 2>/dev/null)" "hello from x" "docker logs x: stdout"
is "$(D logs x 2>&1 >/dev/null)" "warn" "docker logs x: stderr apart"
like "$(D logs -t x 2>/dev/null)" "Z hello from x" "docker logs -t: RFC 3339 timestamps"
out=$(D run -d --name x $IMG true 2>&1); rc=$?
[ $rc -ne 0 ] && like "$out" "already in use" "a second container named x: conflict" || nok "name conflict: $out"

# --- exec ---------------------------------------------------------------------
out=$(D exec x echo hi 2>&1); rc=$?
is "$rc:$out" "0:hi" "docker exec x echo hi: hi, exit 0"
D exec x sh -c 'exit 4' >/dev/null 2>&1
is "$?" 4 "docker exec sh -c 'exit 4': exit code 4"
out=$(printf 'a\nb\nc\n' | D exec -i x wc -l 2>&1)
is "$(echo $out)" 3 "docker exec -i: stdin with EOF"
head -c 3000000 /dev/urandom >"$W/big"
got=$(D exec -i x cat <"$W/big" | sha256sum | cut -d' ' -f1)
is "$got" "$(sha256sum <"$W/big" | cut -d' ' -f1)" "docker exec -i cat: 3 MB back byte for byte (flow control both ways)"
D exec x nosuchcmd >/dev/null 2>&1
is "$?" 127 "docker exec of a missing command: 127"
out=$(printf 'echo pty-$((6*7))\nstty size\nexit 0\n' | script -qec "stty rows 30 cols 90; docker exec -it x sh" /dev/null | tr -d '\r')
like "$out" "pty-42" "docker exec -it x sh under a pty: commands run"
like "$out" "30 90" "docker exec -it: the terminal size reaches the process"
D exec -d x sh -c 'echo detached >/tmp/d'
sleep 1
is "$(D exec x cat /tmp/d 2>&1)" detached "docker exec -d: the process ran"

# --- logs -f and wait on a container that ends --------------------------------
D run -d --name y $IMG sh -c 'for i in 1 2 3; do echo n$i; sleep 1; done' >/dev/null
out=$(D logs -f y 2>&1); rc=$?
is "$rc:$(echo $out)" "0:n1 n2 n3" "docker logs -f ends when the container stops, with all lines"
is "$(D wait y)" 0 "docker wait on an exited container: 0"
is "$(D logs --tail 1 y)" n3 "docker logs --tail 1"
is "$(D inspect -f '{{.State.Status}} {{.State.ExitCode}}' y)" "exited 0" "inspect: exited 0"
D run --name r $IMG sh -c 'cat /tmp/mark 2>/dev/null || echo first; echo again >/tmp/mark' >/dev/null 2>&1
is "$(D start -a r 2>&1)" again "docker start -a of an exited container: runs again on its own writable layer"
D create -i --name si $IMG sh -c 'read l; echo got $l' >/dev/null
is "$(echo hello | D start -ai si 2>&1)" "got hello" "docker create -i + start -ai: stdin sent before the VM runs arrives"
D rm r si >/dev/null

# --- images ---------------------------------------------------------------------
if [ -n "$REG" ] && "$C" image push --progress none $IMG "$REG/t/bb:2" >/dev/null 2>&1 &&
	"$C" image push --progress none $IMG "$REG/t/bb:4" >/dev/null 2>&1; then
	out=$(D pull "$REG/t/bb:2" 2>&1); rc=$?
	is "$rc" 0 "docker pull from the test registry"
	like "$out" "Downloaded newer image for $REG/t/bb:2" "docker pull prints Docker's last status line"
	out=$(D images --format '{{.Repository}}:{{.Tag}}')
	like "$out" "$REG/t/bb:2" "docker images lists the pulled image"
	like "$out" "test/bb:1" "docker images lists the loaded one"
	out=$(D run --rm "$REG/t/bb:4" echo auto-pulled 2>&1); rc=$?
	is "$rc:$(echo "$out" | tail -1)" "0:auto-pulled" "docker run of an image not stored: 404, pull, retry, run"
	D tag $IMG my/bb:3
	like "$(D image inspect -f '{{.Os}} {{.RepoTags}}' my/bb:3)" "my/bb:3" \
		"docker tag, docker image inspect shows the new name"
	is "$(D rmi my/bb:3 2>&1)" "Untagged: my/bb:3" "docker rmi untags"
	out=$(D pull "$REG/t/bb:nope" 2>&1); rc=$?
	[ $rc -ne 0 ] && D version >/dev/null 2>&1 && ok "docker pull of a missing tag fails, the server stays ($(echo "$out" | tail -1))" ||
		nok "pull missing tag: $out"
else
	for i in 1 2 3 4 5 6 7 8; do n=$((n + 1)); echo "ok $n # SKIP no test registry (docker-registry, openssl, node)"; done
fi

# --- events -----------------------------------------------------------------
timeout 60 docker events --filter label=evt=1 --format '{{.Status}} {{.Actor.Attributes.name}} {{.Type}}' >"$W/events" 2>&1 &
epid=$!
sleep 1
D run --rm --label evt=1 --name ev $IMG true
D run --rm --name noev $IMG true
sleep 1
kill $epid 2>/dev/null; wait $epid 2>/dev/null
is "$(tr '\n' ',' <"$W/events")" "create ev container,start ev container,die ev container,destroy ev container," \
	"docker events --filter label=: create, start, die, destroy (legacy status field)"
since=$(($(date +%s) - 120))
like "$(D events --since $since --until $(date +%s) --filter event=destroy --format '{{.Actor.Attributes.name}}' | tr '\n' ' ')" \
	"noev" "docker events --since/--until replays, --filter event="

# --- the server killed and restarted while x runs ------------------------------
PID=$(cat "$CONTAINER_RUN_DIR/apiserver.pid")
kill -9 "$PID"
sleep 0.5
"$C" system start >/dev/null 2>&1 || nok "restart the server"
is "$(D inspect -f '{{.State.Running}}' x)" true "after a SIGKILL of the server x still runs"
is "$(D exec x echo back 2>&1)" back "the restarted server reaches x's runtime (exec)"

# --- stop, wait, rm ---------------------------------------------------------
D wait x >"$W/wait.out" 2>&1 &
wpid=$!
sleep 1
out=$(D stop -t 5 x 2>&1); rc=$?
is "$rc:$out" "0:x" "docker stop x"
wait $wpid
is "$(cat "$W/wait.out")" 143 "docker wait, begun before the stop, prints 143 (SIGTERM)"
is "$(D inspect -f '{{.State.Status}}' x)" exited "x is exited"
is "$(D stop x 2>&1)" x "docker stop of a stopped container succeeds"
out=$(D rm x 2>&1); rc=$?
is "$rc:$out" "0:x" "docker rm x"
out=$(D rm x 2>&1); rc=$?
[ $rc -ne 0 ] && like "$out" "No such container" "docker rm x again: No such container" || nok "rm again: $out"
D run -d --name z $IMG sleep 1000 >/dev/null
out=$(D rm z 2>&1); rc=$?
[ $rc -ne 0 ] && like "$out" "cannot remove a running container" "docker rm of a running container: refused" || nok "rm running: $out"
out=$(D rm -f z 2>&1); rc=$?
is "$rc:$out" "0:z" "docker rm -f of a running container"
D run -d --name k $IMG sleep 1000 >/dev/null
D kill k >/dev/null
is "$(D wait k)" 137 "docker kill: the container ends with 137"
out=$(D container prune -f 2>&1)
like "$out" "Total reclaimed space" "docker container prune"
is "$(D ps -aq | wc -l)" 0 "nothing left after prune"
sleep 1
is "$(qemus)" 0 "no QEMU left running"
echo "1..$n"
[ $failed -eq 0 ]
