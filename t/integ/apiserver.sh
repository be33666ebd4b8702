#!/bin/bash
# The API server (applets/apiserver.c) end to end: system start/status/stop,
# the real docker CLI against it, curl for the edges of the HTTP layer, and
# hostile clients (1 MiB header, garbage, slowloris, 300 idle connections).
# Prints TAP.  Needs $CONTAINER_BIN; docker, curl and python3 are oracles
# whose tests are skipped when missing.
set -u
B=${CONTAINER_BIN:?CONTAINER_BIN is not set}
T=$(mktemp -d "${TMPDIR:-/tmp}/apiserver.XXXXXX")
export CONTAINER_DATA_DIR=$T/data CONTAINER_RUN_DIR=$T/run
# Short, so the slowloris test takes seconds.
export CONTAINER_API_IDLE_TIMEOUT=3
SOCK=$T/run/container.sock
n=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi; }
skip() { n=$((n + 1)); echo "ok $n # SKIP $1"; }
cleanup() { "$B" system stop >/dev/null 2>&1; rm -rf "$T"; }
trap cleanup EXIT
have() { command -v "$1" >/dev/null 2>&1; }

"$B" system status >/dev/null 2>&1; ok $([ $? = 1 ] && echo 0 || echo 1) "status before start exits 1"
out=$("$B" system start 2>&1); rc=$?
ok $rc "system start"
case $out in *"$SOCK"*) ok 0 "start prints the socket path";; *) ok 1 "start prints the socket path: $out";; esac
ok $([ "$(stat -c %a "$SOCK" 2>/dev/null)" = 600 ] && echo 0 || echo 1) "socket mode 0600"
ok $([ "$(stat -c %a "$T/run")" = 700 ] && echo 0 || echo 1) "run dir mode 0700"
out=$("$B" system status); rc=$?
ok $rc "status while running exits 0"
case $out in *running*"pid:"*"1.45"*) ok 0 "status shows running, pid, API version";; *) ok 1 "status: $out";; esac
out=$("$B" system start 2>&1)
case $out in *"already running"*) ok 0 "second start says it already runs";; *) ok 1 "second start: $out";; esac
PID=$(cat "$T/run/apiserver.pid")

if have docker; then
	export DOCKER_HOST=unix://$SOCK
	out=$(docker version 2>&1); rc=$?
	ok $rc "docker version exits 0"
	case $out in *"Server: container"*"Version:"*0.*"API version:"*1.45*) ok 0 "docker version shows our server";;
		*) ok 1 "docker version: $out";; esac
	out=$(docker info 2>&1); rc=$?
	ok $rc "docker info exits 0"
	case $out in *"Server Version: "[0-9]*) ok 0 "docker info prints our Server Version";; *) ok 1 "docker info: $out";; esac
	case $out in *ERROR*|*rror*) ok 1 "docker info without errors";; *) ok 0 "docker info without errors";; esac
	out=$(docker info --format '{{.OperatingSystem}}' 2>&1)
	ok $([ "$out" = "container (VM per container)" ] && echo 0 || echo 1) "docker info --format: $out"
	unset DOCKER_HOST
else
	for i in 1 2 3 4 5 6; do skip "docker CLI not installed"; done
fi

if have curl; then
	c() { curl -s --max-time 5 --unix-socket "$SOCK" "$@"; }
	ok $([ "$(c http://d/_ping)" = OK ] && echo 0 || echo 1) "GET /_ping"
	ok $([ "$(c http://d/v1.24/_ping)" = OK ] && echo 0 || echo 1) "GET /v1.24/_ping"
	h=$(c -I http://d/v1.45/_ping)
	case $h in *"Api-Version: 1.45"*"Docker-Experimental: false"*) ok 0 "HEAD /_ping headers";; *) ok 1 "HEAD /_ping: $h";; esac
	ok $([ "$(c -o /dev/null -w '%{http_code}' http://d/v1.12/info)" = 400 ] && echo 0 || echo 1) "too old version -> 400"
	case $(c http://d/v1.12/info) in *"client version 1.12 is too old"*) ok 0 "Docker's too-old message";; *) ok 1 "too-old message";; esac
	ok $([ "$(c -o /dev/null -w '%{http_code}' http://d/nope)" = 404 ] && echo 0 || echo 1) "unknown path -> 404"
	ok $([ "$(c -o /dev/null -w '%{http_code}' -X DELETE http://d/info)" = 405 ] && echo 0 || echo 1) "wrong method -> 405"
	ok $([ "$(c -o /dev/null -w '%{http_code}' 'http://d/info?bogus=1&x')" = 200 ] && echo 0 || echo 1) "unknown query parameters ignored"
else
	for i in 1 2 3 4 5 6 7 8; do skip "curl not installed"; done
fi

# Hostile container requests: clean 4xx answers, the server stays up.
if have curl; then
	code() { curl -s --max-time 5 --unix-socket "$SOCK" -o /dev/null -w '%{http_code}' "$@"; }
	body() { curl -s --max-time 5 --unix-socket "$SOCK" "$@"; }
	J='Content-Type: application/json'
	C=http://d/v1.45/containers
	ok $([ "$(code -X POST -H "$J" -d '{"Image":' $C/create)" = 400 ] && echo 0 || echo 1) "create with invalid JSON -> 400"
	ok $([ "$(code -X POST -H "$J" -d '[1,2]' $C/create)" = 400 ] && echo 0 || echo 1) "create with a JSON list -> 400"
	ok $([ "$(code -X POST -H "$J" -d '{"Image":"a"}' "$C/create?name=a/b")" = 400 ] && echo 0 || echo 1) "create ?name=a/b -> 400"
	ok $([ "$(code -X POST -H "$J" -d '{"Image":"a"}' "$C/create?name=a%2Fb")" = 400 ] && echo 0 || echo 1) "create ?name=a%2Fb -> 400"
	ok $([ "$(code -X POST -H "$J" -d '{"Image":"a"}' "$C/create?name=..")" = 400 ] && echo 0 || echo 1) "create ?name=.. -> 400"
	ok $([ "$(code -X POST -H "$J" -d '{"Image":"a"}' "$C/create?name=a%00b")" = 400 ] && echo 0 || echo 1) "create ?name=a%00b (NUL) -> 400"
	ok $([ "$(code -X POST -H "$J" -d '{"Image":"a","Cmd":["x\u0000y"]}' $C/create)" = 400 ] && echo 0 || echo 1) "create with NUL inside Cmd -> 400"
	head -c 2000000 /dev/zero | tr '\0' ' ' >"$T/big.json"; echo '{"Image":"a"}' >>"$T/big.json"
	ok $([ "$(code -X POST -H "$J" --data-binary @"$T/big.json" $C/create)" = 400 ] && echo 0 || echo 1) "create with a 2 MB body -> 400"
	out=$(body -X POST -H "$J" -d '{"Image":"nosuch/image:1"}' $C/create)
	case $out in *"No such image: nosuch/image:1"*) ok 0 "create of an image not stored -> No such image";; *) ok 1 "no such image: $out";; esac
	ok $([ "$(code -X POST -H "$J" -d '{"Image":"nosuch/image:1"}' $C/create)" = 404 ] && echo 0 || echo 1) "... with 404, so docker run pulls"
	ok $([ "$(code $C/a%00b/json)" = 400 ] && echo 0 || echo 1) "a container id with NUL -> 400"
	ok $([ "$(code $C/..%2F..%2Fetc/json)" = 404 ] && echo 0 || echo 1) "a container id ../../etc -> 404"
	ok $([ "$(code $C/../json)" = 404 ] && echo 0 || echo 1) "a container id .. -> 404"
	bad=0
	for req in "GET $C/nosuch/json" "POST $C/nosuch/start" "POST $C/nosuch/stop" "POST $C/nosuch/kill" \
		"POST $C/nosuch/wait" "POST $C/nosuch/attach?stream=1" "GET $C/nosuch/logs?stdout=1" \
		"DELETE $C/nosuch" "POST $C/nosuch/exec" "GET http://d/v1.45/exec/nosuch/json" \
		"POST http://d/v1.45/exec/nosuch/start"; do
		set -- $req
		[ "$(code -X "$1" -H "$J" -d '{}' "$2")" = 404 ] || { bad=1; echo "# $req: not 404"; }
	done
	ok $bad "11 endpoints on a container or exec that does not exist -> 404"
	ok $([ "$(code "$C/json?filters=notjson")" = 400 ] && echo 0 || echo 1) "list with filters that are not JSON -> 400"
	ok $([ "$(body "$C/json?all=1")" = "[]" ] && echo 0 || echo 1) "list: no containers"
	ok $([ "$(body http://d/_ping)" = OK ] && echo 0 || echo 1) "the server is still up"
else
	for i in $(seq 18); do skip "curl not installed"; done
fi

if have python3; then
	out=$(python3 - "$SOCK" <<'PY'
import socket, sys, time, threading
path = sys.argv[1]
def conn():
    s = socket.socket(socket.AF_UNIX); s.settimeout(10); s.connect(path); return s
def ask(data, s=None):
    s = s or conn()
    try:
        s.sendall(data)
    except OSError:
        pass
    out = b""
    try:
        while True:
            d = s.recv(65536)
            if not d: break
            out += d
    except OSError:
        pass
    s.close()
    return out
def status(r):
    return r.split(b" ", 2)[1].decode() if r.startswith(b"HTTP/1.1 ") else "none"
big = b"GET /_ping HTTP/1.1\r\nX-Big: " + b"a" * (1 << 20) + b"\r\n\r\n"
print("big", status(ask(big)))
print("after", status(ask(b"GET /_ping HTTP/1.1\r\nConnection: close\r\n\r\n")))
print("garbage", status(ask(b"HELLO\r\n\r\n")))
print("nul", status(ask(b"GET /_ping HTTP/1.1\r\nX: a\0b\r\n\r\n")))
print("clte", status(ask(b"POST /_ping HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\nabc")))
print("toolarge", status(ask(b"POST /info HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n")))
r = ask(b"GET /_ping HTTP/1.1\r\n\r\nGET /v1.45/_ping HTTP/1.1\r\n\r\nHEAD /_ping HTTP/1.1\r\nConnection: close\r\n\r\n")
print("pipelined", r.count(b"HTTP/1.1 200 OK"))
r = ask(b"POST /nope HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nGET /_ping HTTP/1.1\r\nConnection: close\r\n\r\n")
print("chunked", r.count(b"HTTP/1.1 404"), r.count(b"HTTP/1.1 200"))
# slowloris: one byte a second never completes a request within the idle timeout
s = conn(); t0 = time.time(); dropped = False
for b in b"GET /_ping HTTP/1.1\r\nX-Slow: " + b"a" * 30:
    try:
        s.send(bytes([b]))
        s.settimeout(1.0)
        if s.recv(1) == b"":
            dropped = True; break
    except socket.timeout:
        continue
    except OSError:
        dropped = True; break
print("slowloris", "dropped" if dropped else "kept", int(time.time() - t0))
# 300 idle connections at once, then a normal client still gets answers
idle = []
for i in range(300):
    for attempt in range(40):
        try:
            idle.append(conn()); break
        except OSError:
            # a full listen backlog refuses for a moment
            time.sleep(0.05)
print("idle", len(idle))
for s in idle: s.close()
time.sleep(0.3)
print("afteridle", status(ask(b"GET /_ping HTTP/1.1\r\nConnection: close\r\n\r\n")))
PY
)
	get() { echo "$out" | awk -v k="$1" '$1 == k { $1 = ""; sub(/^ /, ""); print }'; }
	ok $([ "$(get big)" = 431 ] && echo 0 || echo 1) "1 MiB header -> 431 (got $(get big))"
	ok $([ "$(get after)" = 200 ] && echo 0 || echo 1) "the next client is still served"
	ok $([ "$(get garbage)" = 400 ] && echo 0 || echo 1) "malformed request line -> 400"
	ok $([ "$(get nul)" = 400 ] && echo 0 || echo 1) "NUL in a header -> 400"
	ok $([ "$(get clte)" = 400 ] && echo 0 || echo 1) "Content-Length + Transfer-Encoding -> 400"
	ok $([ "$(get toolarge)" = 413 ] && echo 0 || echo 1) "body over 8 MiB -> 413"
	ok $([ "$(get pipelined)" = 3 ] && echo 0 || echo 1) "3 pipelined requests answered"
	ok $([ "$(get chunked)" = "1 1" ] && echo 0 || echo 1) "chunked body, then the next request"
	set -- $(get slowloris)
	ok $([ "${1:-}" = dropped ] && [ "${2:-99}" -le 6 ] && echo 0 || echo 1) "slowloris dropped by the idle timeout (after ${2:-?} s)"
	ok $([ "$(get idle)" = 300 ] && echo 0 || echo 1) "300 concurrent connections (got $(get idle))"
	ok $([ "$(get afteridle)" = 200 ] && echo 0 || echo 1) "after them the server answers"
	ok $(kill -0 "$PID" 2>/dev/null && echo 0 || echo 1) "the server survived every hostile client"
else
	for i in 1 2 3 4 5 6 7 8 9 10 11 12; do skip "python3 not installed"; done
fi
echo "# idle server $(grep VmRSS /proc/"$PID"/status 2>/dev/null | tr -s ' \t' ' ')"

out=$("$B" system stop 2>&1); rc=$?
ok $rc "system stop"
ok $(kill -0 "$PID" 2>/dev/null && echo 1 || echo 0) "the server process is gone"
ok $([ ! -e "$SOCK" ] && [ ! -e "$T/run/apiserver.pid" ] && echo 0 || echo 1) "socket and pid file removed"
"$B" system status >/dev/null 2>&1; ok $([ $? = 1 ] && echo 0 || echo 1) "status after stop exits 1"

# A stale socket (a file nobody listens on) is replaced.
if have python3; then
	python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$SOCK"
	ok $([ -S "$SOCK" ] && echo 0 || echo 1) "stale socket in place"
	"$B" system start >/dev/null 2>&1; ok $? "start over a stale socket"
	"$B" system status >/dev/null 2>&1; ok $? "and it answers"
	"$B" system stop >/dev/null 2>&1
else
	for i in 1 2 3; do skip "python3 not installed"; done
fi
echo "1..$n"
