#!/usr/bin/env bash
# t/integ/api_rebuild.sh: the file the API server was started from is
# replaced while it runs (what `make` does to out/…/container) and it still
# starts containers: it spawns its runtimes through /proc/self/exe, the
# image it runs, not the path, which now names another inode
# (lib/paths.h paths_self_spawn).
set -u
TOTAL=10 NAME=apirebuild
. "$(dirname "$0")/vm_env.sh"
IMG=test/bb:1
cp "$CONTAINER_BIN" "$W/container" && C=$W/container
api_server_start
state() { "$C" inspect "$1" 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["State"]["Status"])' 2>&1; }
"$C" run -d --name r1 $IMG sleep 1000 >/dev/null 2>&1
is "$(state r1)" running "r1 runs (before the rebuild)"
pid=$(cat "$CONTAINER_RUN_DIR/apiserver.pid")
cp "$CONTAINER_BIN" "$W/container.new" && mv -f "$W/container.new" "$W/container"
like "$(readlink "/proc/$pid/exe")" "(deleted)" "the server's own file is gone (the case under test)"
out=$("$C" run -d --name r2 $IMG sleep 1000 2>&1)
is "$?" 0 "run -d after the rebuild: $out"
is "$(state r2)" running "r2 runs"
is "$("$C" exec r2 echo hi 2>&1)" hi "exec into r2"
is "$("$C" stop -t 1 r1 2>&1)" r1 "stop r1 (the runtime started before the rebuild)"
"$C" rm -f r1 r2 >/dev/null 2>&1
is "$("$C" ls -aq 2>&1 | wc -l)" 0 "both removed"
is "$(qemus)" 0 "no QEMU left"
server_gone
echo "1..$n"
[ "$failed" = 0 ]
