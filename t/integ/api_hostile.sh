#!/usr/bin/env bash
# t/integ/api_hostile.sh: the API server against hostile clients (issue
# #6), beyond apiserver.sh's parser edges: a 1 MiB header block is refused
# (431) and the connection ends; a slowloris client (one byte a second) is
# cut by the header timeout while another client is served meanwhile, also
# when its partial head follows a complete request on the same connection,
# a body that arrives in pieces after its head (the buffer moves under it),
# and a connection that sends nothing is not (the idle timeout is longer);
# 200 idle connections at once cost bounded memory (VmRSS growth) and the
# server answers while they are open.  No VM.
set -u
: "${CONTAINER_BIN:?}"
B=$CONTAINER_BIN
n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }
is() { if [ "$1" = "$2" ]; then ok "$3"; else nok "$3"; echo "#   got:  '$1'"; echo "#   want: '$2'"; return 1; fi; }
command -v python3 >/dev/null || { echo "1..0 # SKIP python3 not installed"; exit 0; }
T=$(mktemp -d "${TMPDIR:-/tmp}/apihostile.XXXXXX")
export CONTAINER_DATA_DIR=$T/data CONTAINER_RUN_DIR=$T/run
export CONTAINER_API_HEADER_TIMEOUT=2 CONTAINER_API_IDLE_TIMEOUT=20
trap '"$B" system stop >/dev/null 2>&1; rm -rf "$T"' EXIT
"$B" system start >/dev/null 2>&1 || { echo "1..0 # SKIP the API server does not start"; exit 0; }
PID=$(cat "$T/run/apiserver.pid")
rss() { awk '/^VmRSS/ {print $2}' /proc/"$PID"/status; }

out=$(python3 - "$T/run/container.sock" "$PID" <<'PY'
import socket, sys, time, threading
path, pid = sys.argv[1], sys.argv[2]
def conn(timeout=10):
    s = socket.socket(socket.AF_UNIX); s.settimeout(timeout); s.connect(path); return s
def rss():
    for l in open("/proc/%s/status" % pid):
        if l.startswith("VmRSS:"): return int(l.split()[1])
def read_all(s):
    out, eof = b"", False
    try:
        while True:
            d = s.recv(65536)
            if not d: eof = True; break
            out += d
    except OSError:
        pass
    return out, eof
def ping():
    s = conn(5)
    s.sendall(b"GET /_ping HTTP/1.1\r\nConnection: close\r\n\r\n")
    r, _ = read_all(s); s.close()
    return r.startswith(b"HTTP/1.1 200") and r.endswith(b"OK")

# 1 MiB of header: 431, then the server ends the connection
s = conn()
try:
    s.sendall(b"GET /_ping HTTP/1.1\r\nX-Big: " + b"a" * (1 << 20) + b"\r\n\r\n")
except OSError:
    pass
r, eof = read_all(s); s.close()
print("big", r.split(b" ", 2)[1].decode() if r.startswith(b"HTTP/1.1 ") else "none", "eof" if eof else "open")

# slowloris, with a ping from another client every half second meanwhile
s = conn(); t0 = time.time(); cut = None; pings = []
for i in range(15):
    try:
        s.send(b"GET /_ping HTTP/1.1\r\nX-Slow: "[i:i + 1] or b"a")
    except OSError:
        cut = time.time() - t0; break
    s.settimeout(0.5)
    try:
        if s.recv(1) == b"": cut = time.time() - t0; break
    except socket.timeout:
        pass
    except OSError:
        cut = time.time() - t0; break
    pings.append(ping())
    time.sleep(0.5)
print("slowloris", "cut" if cut is not None else "kept", "%.1f" % (cut or 0), "pings", sum(pings), len(pings))

# the same behind a complete request on the same connection (pipelined):
# the partial head that follows the answer has the same deadline
s = conn(); t0 = None; cut = None
s.send(b"GET /_ping HTTP/1.1\r\n\r\nGET /_ping HTTP/1.1\r\nX-")
answered = b""
for i in range(15):
    s.settimeout(1)
    try:
        d = s.recv(4096)
        if d == b"": cut = time.time() - t0; break
        answered += d
    except socket.timeout:
        pass
    except OSError:
        cut = time.time() - t0; break
    if t0 is None and answered.endswith(b"OK"): t0 = time.time()
    try:
        s.send(b"a")
    except OSError:
        cut = time.time() - (t0 or 0); break
print("pipelined", "answered" if answered.startswith(b"HTTP/1.1 200") else "unanswered",
      "cut" if cut is not None else "kept", "%.1f" % (cut or 0))
s.close()

# a connection that says nothing for longer than the header timeout is
# still served: only a started head has that deadline
s = conn(); time.sleep(3)
s.sendall(b"GET /_ping HTTP/1.1\r\nConnection: close\r\n\r\n")
r, _ = read_all(s); s.close()
print("quiet", "served" if r.startswith(b"HTTP/1.1 200") else "dropped")

# a head first, then a 512 KiB body in pieces: the buffer grows (moves)
# under the parsed head, which must not be read through stale pointers
s = conn(30)
body = b'{"Image":"no/such:image","Labels":{"x":"' + b"a" * (512 << 10) + b'"}}'
s.sendall(b"POST /containers/create HTTP/1.1\r\nContent-Type: application/json\r\n"
          b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body))
time.sleep(0.3)
for i in range(0, len(body), 16384):
    s.sendall(body[i:i + 16384])
r, _ = read_all(s); s.close()
print("split", r.split(b" ", 2)[1].decode() if r.startswith(b"HTTP/1.1 ") else "none", ping())

# 200 idle connections at once: memory, and answers while they are open
before = rss(); idle = []
for i in range(200):
    for attempt in range(40):
        try:
            idle.append(conn()); break
        except OSError:
            time.sleep(0.05)
time.sleep(0.5)
during = rss()
print("idle", len(idle), "rss", before, during, "ping", ping())
for s in idle: s.close()
PY
)
echo "$out" | sed 's/^/# /'
get() { echo "$out" | awk -v k="$1" '$1 == k { $1 = ""; sub(/^ /, ""); print }'; }
is "$(get big)" "431 eof" "1 MiB header block: 431, then the connection is closed"
set -- $(get slowloris)
[ "${1:-}" = cut ] && python3 -c "import sys; sys.exit(not 1.5 <= ${2:-0} <= 4)" && ok "slowloris cut by the 2 s header timeout (after ${2:-?} s; idle timeout 20 s)" \
	|| nok "slowloris: $*"
[ "${4:-0}" -ge 2 ] && [ "${4:-0}" = "${5:-x}" ] && ok "meanwhile another client's /_ping succeeded (${4:-0}/${5:-0})" || nok "pings during slowloris: ${4:-}/${5:-}"
set -- $(get pipelined)
[ "${1:-}" = answered ] && [ "${2:-}" = cut ] && python3 -c "import sys; sys.exit(not ${3:-99} <= 8)" &&
	ok "a partial head pipelined behind a request is cut by the header timeout too (after ${3:-?} s; idle timeout 20 s)" ||
	nok "pipelined slowloris: $*"
is "$(get split)" "404 True" "a body arriving after its head, 512 KiB in pieces: answered (no such image: 404), server alive"
is "$(get quiet)" served "a connection quiet for 3 s (over the header timeout) is still served"
set -- $(get idle)
is "${1:-}" 200 "200 connections open at once"
[ "${3:-0}" -gt 0 ] && [ $((${4:-99999} - ${3:-0})) -lt 8192 ] &&
	ok "VmRSS growth with them open: $((${4:-0} - ${3:-0})) KiB (${3:-?} -> ${4:-?} KiB; bound 8 MiB, 40 KiB a connection)" ||
	nok "RSS ${3:-} -> ${4:-}"
is "${6:-}" True "the server answers /_ping while they are open"
kill -0 "$PID" 2>/dev/null && ok "the server survived" || nok "the server died"
echo "1..$n"
[ $failed -eq 0 ]
