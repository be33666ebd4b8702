#!/usr/bin/env bash
# t/integ/net.sh: networking end to end (issue #7), inside a network
# namespace of its own (unshare -n) so nothing touches the machine's real
# network: user networks with bridges and TAPs made by the product, names
# in DNS (name, name.test, short id, host.container.internal), the DNS
# server surviving malformed packets, -p through the runtime's proxy (TCP
# with 100 parallel requests, UDP echo, an ephemeral port), --add-host and
# the --dns flags, isolation between networks, address release, network rm.
set -u
if [ -z "${NET_TEST_IN_NS:-}" ]; then
	if [ "$(id -u)" != 0 ] || ! command -v unshare >/dev/null || ! unshare -n true 2>/dev/null; then
		echo "1..1"; echo "ok 1 # SKIP needs root and unshare -n (bridges and TAPs in a private network namespace)"
		exit 0
	fi
	NET_TEST_IN_NS=1 VM_ENV_NETNS=1 exec unshare -n bash "$0" "$@"
fi
TOTAL=50 NAME=net
# helpers exit 3 s after their network's last container stopped (30 s by default)
export CONTAINER_NETWORK_IDLE_MS=3000
SRCDIR=${SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
ip link set lo up 2>/dev/null || python3 -c 'import socket,fcntl,struct; s=socket.socket(); ifr=struct.pack("16sH14x",b"lo",0x1|0x40|0x8); fcntl.ioctl(s,0x8914,ifr)'
# a static UDP echo server goes into the test image (busybox has none)
UDPECHO=${TMPDIR:-/tmp}/net-udpecho.$$
${CC:-cc} -static -O2 -o "$UDPECHO" "$SRCDIR/t/integ/udpecho.c" 2>/dev/null && export MKIMAGE_EXTRA="$UDPECHO:udpecho"
. "$(dirname "$0")/vm_env.sh"
"$C" system start >/dev/null 2>&1 || nok "system start"   # its notice in no output checked
rm -f "$UDPECHO"

logs_wait() { # NAME TEXT: wait up to 60 s for TEXT in the container's logs
	for _ in $(seq 120); do "$C" logs "$1" 2>/dev/null | grep -q -- "$2" && return 0; sleep 0.5; done; return 1
}
http_wait() { # URL
	for _ in $(seq 120); do curl -sf -m 2 -o /dev/null "$1" && return 0; sleep 0.5; done; return 1
}
dnsq() { # SERVER NAME TYPE -> "rcode ancount [first A]"
	python3 - "$@" <<'PY'
import socket, struct, sys
srv, name, qt = sys.argv[1], sys.argv[2], {"A": 1, "AAAA": 28}[sys.argv[3]]
q = struct.pack(">HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0)
q += b"".join(bytes([len(l)]) + l.encode() for l in name.split(".")) + b"\0" + struct.pack(">HH", qt, 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(3)
s.sendto(q, (srv, 53)); r = s.recv(4096)
rc, an = r[3] & 15, struct.unpack(">H", r[6:8])[0]
print(rc, an, ".".join(map(str, r[-4:])) if an else "")
PY
}

# --- networks -----------------------------------------------------------------
is "$("$C" network create --subnet 10.88.1.0/24 n1)" n1 "network create --subnet n1"
"$C" network create --subnet 10.88.2.0/24 --mtu 1400 --label team=b n2 >/dev/null
"$C" network create --subnet 10.88.3.0/24 --internal n3 >/dev/null
out=$("$C" network create --subnet 10.88.0.0/16 n9 2>&1); rc=$?
is "$rc:$out" "1:container network create: subnet 10.88.0.0/16 overlaps network n1" "an overlapping subnet is refused"
is "$("$C" network ls -q | tr '\n' ' ')" "default n1 n2 n3 " "network ls -q lists default, n1, n2, n3"

# --- two containers on one network, by name -----------------------------------
db=$("$C" run -d --name db --network n1 test/bb:1 sh -c 'while :; do nc -l -p 5000; done') ||
	{ nok "run -d --name db"; skip_rest "no container"; }
ok "run -d --name db --network n1 (a listener on port 5000)"
br=$("$C" network inspect n1 | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["bridge"])')
is "$(ip -4 -o addr show "$br" 2>/dev/null | awk '{print $4}')" "10.88.1.1/24" "the product made bridge $br with the gateway address 10.88.1.1/24"
dbip=$("$C" network inspect n1 | python3 -c 'import json,sys; print(list(json.load(sys.stdin)[0]["containers"].values())[0]["ip"])')
is "$dbip" 10.88.1.2 "db got the first container address, .2"
"$C" run --rm --network n1 test/bb:1 sh -c 'echo hello-by-name | nc db 5000' >/dev/null 2>&1
logs_wait db hello-by-name; is "$?" 0 "a message sent to 'db' by another container arrives"
"$C" run --rm --network n1 test/bb:1 sh -c 'echo hello-by-test | nc db.test 5000' >/dev/null 2>&1
logs_wait db hello-by-test; is "$?" 0 "a message sent to 'db.test' arrives"

# --- the DNS server, from the host side of the bridge -----------------------------
is "$(dnsq 10.88.1.1 db A)" "0 1 10.88.1.2" "DNS: A db = 10.88.1.2"
is "$(dnsq 10.88.1.1 DB.test A)" "0 1 10.88.1.2" "DNS: A DB.test (any case) = 10.88.1.2"
is "$(dnsq 10.88.1.1 "${db:0:12}" A)" "0 1 10.88.1.2" "DNS: A <short id> = 10.88.1.2"
is "$(dnsq 10.88.1.1 host.container.internal A)" "0 1 10.88.1.1" "DNS: host.container.internal = the gateway"
is "$(dnsq 10.88.1.1 host.docker.internal A)" "0 1 10.88.1.1" "DNS: host.docker.internal = the gateway"
is "$(dnsq 10.88.1.1 db AAAA)" "0 0 " "DNS: AAAA db is NODATA (NOERROR, no answer), not NXDOMAIN"
is "$(dnsq 10.88.1.1 nosuch.test A)" "3 0 " "DNS: an unknown name under .test is NXDOMAIN"
out=$(python3 - <<'PY'
import socket, struct
q = struct.pack(">HHHHHH", 0x77, 0x0100, 1, 0, 0, 0) + b"\x02db\x04test\x00\x00\x01\x00\x01"
s = socket.create_connection(("10.88.1.1", 53), timeout=3)
s.sendall(struct.pack(">H", len(q)) + q + struct.pack(">H", len(q)) + q)   # two, pipelined
got = []
buf = b""
while len(got) < 2:
    buf += s.recv(4096)
    while len(buf) >= 2 and len(buf) >= 2 + struct.unpack(">H", buf[:2])[0]:
        n = struct.unpack(">H", buf[:2])[0]; r = buf[2:2 + n]; buf = buf[2 + n:]
        got.append(".".join(map(str, r[-4:])))
print(" ".join(got))
PY
)
is "$out" "10.88.1.2 10.88.1.2" "DNS over TCP: two pipelined queries for db.test, both answered"
out=$(python3 - <<'PY'
import socket, struct
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(2)
hdr = lambda qd: struct.pack(">HHHHHH", 0x4242, 0x0100, qd, 0, 0, 0)
bad = [b"\x12",                                        # truncated header
       hdr(1),                                         # question missing
       hdr(1) + b"\xc0\x0c\x00\x01\x00\x01",           # pointer to itself
       hdr(1) + b"\x01a\xc0\x0c\x00\x01\x00\x01",      # loop through an earlier label
       hdr(1) + b"\xc0\x20" + b"\0" * 30,              # forward pointer
       hdr(1) + b"\x40" + b"a" * 64 + b"\0\0\1\0\1",   # label over 63
       hdr(1) + (b"\x3f" + b"a" * 63) * 5 + b"\0\0\1\0\1",  # name over 255
       hdr(9) + b"\x01a\0\0\1\0\1",                    # qdcount lies
       hdr(1) + b"\x01a\0\0"]                          # truncated question
for p in bad:
    s.sendto(p, ("10.88.1.1", 53))
n = 0
try:
    while True:
        r = s.recv(4096); n += 1
        assert r[3] & 15 == 1 and r[2] & 0x80, r   # FORMERR
except socket.timeout:
    pass
print(n)
PY
)
is "$out" 8 "DNS: 9 malformed packets (RFC 9267 cases): 8 FORMERR replies, the headerless one dropped"
is "$(dnsq 10.88.1.1 db A)" "0 1 10.88.1.2" "DNS: the server still answers afterwards"

# --- guest files from the flags -------------------------------------------------
out=$("$C" run --rm --network none --hostname box --add-host foo:1.2.3.4 --dns 9.9.9.9 \
	--dns-search ex.com --dns-option ndots:2 test/bb:1 sh -c 'grep foo /etc/hosts; cat /etc/resolv.conf; ls /sys/class/net | tr "\n" " "' 2>&1)
is "$out" "$(printf '1.2.3.4\tfoo\nnameserver 9.9.9.9\nsearch ex.com\noptions ndots:2\nlo ')" \
	"--network none --add-host --dns --dns-search --dns-option: hosts and resolv.conf as given, only lo"
out=$("$C" run --rm --network n1 --no-dns test/bb:1 sh -c 'wc -c </etc/resolv.conf; grep -c "	$(hostname)" /etc/hosts' 2>&1)
is "$(echo $out)" "0 1" "--no-dns: an empty resolv.conf; /etc/hosts names the container's own address"

is "$("$C" run --rm --network n2 test/bb:1 cat /sys/class/net/eth0/mtu 2>&1)" 1400 "network create --mtu 1400: the container's eth0 has MTU 1400"

# --- isolation ------------------------------------------------------------------
out=$("$C" run --rm --network n2 test/bb:1 sh -c "nc -w 3 10.88.1.2 5000 </dev/null 2>/dev/null && echo reached || echo unreachable" 2>&1)
is "$out" unreachable "a container on n2 cannot reach db on n1 (forwarding is on, the isolation rule drops it)"
out=$("$C" run --rm --network n2 test/bb:1 sh -c "nslookup db.test 10.88.2.1 >/dev/null 2>&1 && echo found || echo unknown" 2>&1)
is "$out" unknown "n2's DNS does not know n1's containers"

# --- outbound through NAT; an internal network has none --------------------------------
# the "outside world": another network namespace behind a veth pair, with a
# web server that logs who connects
unshare -n sleep 600 & OUTNS=$!
sleep 0.3
mkdir -p "$W/www" && echo outside-page >"$W/www/hello"
if ip link add vout type veth peer name vin netns $OUTNS 2>/dev/null; then
	ip addr add 203.0.113.2/24 dev vout && ip link set vout up
	nsenter -t $OUTNS -n sh -c 'ip link set lo up; ip addr add 203.0.113.1/24 dev vin; ip link set vin up'
	nsenter -t $OUTNS -n python3 -m http.server 8000 --bind 203.0.113.1 --directory "$W/www" >/dev/null 2>"$W/outside.log" &
	OUTSRV=$!
	# busybox-static's wget crashes in this image; nc speaks HTTP/1.0 well enough
	get='printf "GET /hello HTTP/1.0\r\n\r\n" | nc -w 5 203.0.113.1 8000 | tail -1'
	out=$("$C" run --rm --network n1 test/bb:1 sh -c "$get" 2>&1)
	is "$out" outside-page "a container reaches a server outside (another namespace) through the host"
	like "$(cat "$W/outside.log")" "203.0.113.2 " "... which sees the host's address: masqueraded"
	unlike_out=$(grep -c "10.88." "$W/outside.log")
	is "$unlike_out" 0 "... never the container's own address"
	out=$("$C" run --rm --network n3 test/bb:1 sh -c "($get) 2>/dev/null | grep -q outside-page || echo no-way-out" 2>&1)
	is "$out" no-way-out "a container on an --internal network has no outbound path"
	out=$("$C" run --rm --network n3 test/bb:1 sh -c 'nslookup host.container.internal | grep -A1 "^Name:" | tail -1' 2>&1)
	is "$out" "Address: 10.88.3.1" "... but its own DNS answers"
	# rootless: the same CLI as an unprivileged user gets QEMU's user-mode
	# network on the same subnet, outbound only
	R=$W/rootless
	if command -v setpriv >/dev/null && mkdir -p "$R" && cp "$KERNEL" "$R/kernel" &&
		cp "$C" "$R/container" && cp "$W/bb.tar" "$R/bb.tar" && chown -R 65534:65534 "$R" && chmod 755 "$W"; then
		U() { setpriv --reuid 65534 --regid 65534 --clear-groups env HOME="$R" \
			CONTAINER_DATA_DIR="$R/data" CONTAINER_RUN_DIR="$R/run" "$R/container" "$@"; }
		U system kernel set --binary "$R/kernel" >/dev/null && U image load -i "$R/bb.tar" >/dev/null
		U system start >/dev/null 2>&1   # the rootless user's own API server
		out=$(U run --rm test/bb:1 sh -c "$get" 2>&1)
		is "$out" outside-page "rootless (uid 65534): outbound through QEMU's user-mode network"
		out=$(U run --rm -p 18181:80 test/bb:1 true 2>&1)
		like "$out" "-p needs root here" "rootless: -p is refused with the reason"
		U system stop >/dev/null 2>&1   # the rootless user's own API server
	else
		ok "# SKIP no setpriv"; ok "# SKIP no setpriv"
	fi
	kill $OUTSRV 2>/dev/null
else
	for _ in 1 2 3 4 5 6 7; do ok "# SKIP cannot make a veth pair here"; done
fi
kill $OUTNS 2>/dev/null

# --- -p ---------------------------------------------------------------------------
"$C" run -d --name web --network n1 -p 127.0.0.1:18080:80 test/bb:1 \
	sh -c 'mkdir -p /www && echo hello-page >/www/index.html && exec httpd -f -p 80 -h /www' >/dev/null ||
	nok "run -d web"
http_wait http://127.0.0.1:18080/
is "$(curl -s -m 5 http://127.0.0.1:18080/)" hello-page "-p 127.0.0.1:18080:80: curl on the host gets the page"
codes=$(seq 100 | xargs -P 100 -I{} curl -s -m 30 -o /dev/null -w '%{http_code}\n' http://127.0.0.1:18080/ | sort | uniq -c | awk '{print $1":"$2}')
is "$codes" "100:200" "100 parallel requests through the proxy: all 200"
head -c 2000000 /dev/urandom >"$W/blob"
"$C" exec -i web sh -c 'cat >/www/blob' <"$W/blob"
is "$(curl -s -m 30 http://127.0.0.1:18080/blob | sha256sum | cut -d' ' -f1)" "$(sha256sum <"$W/blob" | cut -d' ' -f1)" \
	"a 2 MB file through the proxy arrives intact"
is "$(curl -s -m 3 -o /dev/null -w '%{http_code}' http://127.0.0.2:18080/ 2>/dev/null)" 000 \
	"the port is bound to 127.0.0.1 only"

"$C" run -d --name eph --network n1 -p 0:80 test/bb:1 \
	sh -c 'mkdir -p /www && echo eph-page >/www/index.html && exec httpd -f -p 80 -h /www' >/dev/null
port=$("$C" inspect eph | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["NetworkSettings"]["Ports"]["80/tcp"][0]["HostPort"])' 2>/dev/null)
if [ -n "$port" ] && [ "$port" -gt 0 ] 2>/dev/null; then ok "-p 0:80: inspect reports the chosen port ($port)"; else nok "-p 0:80: inspect reports the chosen port (got '$port')"; fi
http_wait "http://127.0.0.1:$port/"
is "$(curl -s -m 5 "http://127.0.0.1:$port/")" eph-page "... and the page is served there"
like "$("$C" ls --format json)" "\"host_port\": $port" "ls --format json shows the chosen port"

MKIMAGE_EXTRA= python3 "$SRCDIR/t/integ/mkimage.py" "$W/exp.tar" test/exp:1 amd64 "$BUSYBOX" '{"ExposedPorts":{"80/tcp":{}}}' &&
	"$C" image load -i "$W/exp.tar" >/dev/null
"$C" run -d --name pall --network n1 -P test/exp:1 \
	sh -c 'mkdir -p /www && echo all-page >/www/index.html && exec httpd -f -p 80 -h /www' >/dev/null
pp=$("$C" inspect pall | python3 -c 'import json,sys; p=json.load(sys.stdin)[0]["NetworkSettings"]["Ports"]["80/tcp"][0]; print(p["HostIp"], 80, int(p["HostPort"]) > 0, p["HostPort"])' 2>/dev/null)
is "${pp% *}" "127.0.0.1 80 True" "-P publishes the image's exposed 80/tcp on an ephemeral 127.0.0.1 port"
http_wait "http://127.0.0.1:${pp##* }/"
is "$(curl -s -m 5 "http://127.0.0.1:${pp##* }/")" all-page "... and serves there"

if [ -n "${MKIMAGE_EXTRA:-}" ]; then
	"$C" run -d --name echo --network n1 -p 127.0.0.1:17007:7/udp test/bb:1 udpecho 7 >/dev/null
	out=$(python3 - <<'PY'
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(1)
for _ in range(60):
    try:
        s.sendto(b"ping-udp", ("127.0.0.1", 17007)); print(s.recv(100).decode()); break
    except (socket.timeout, ConnectionRefusedError):
        time.sleep(0.5)
PY
)
	is "$out" ping-udp "-p 127.0.0.1:17007:7/udp: a UDP echo comes back"
else
	ok "# SKIP no static C compiler for the UDP echo server"
fi

# --- removal ---------------------------------------------------------------------------
out=$("$C" network rm n1 2>&1); rc=$?
like "$rc:$out" "1:container network delete: network n1 is in use by" "network rm refuses a network in use"
"$C" rm -f db web eph echo pall >/dev/null 2>&1
is "$("$C" network inspect n1 | python3 -c 'import json,sys; print(len(json.load(sys.stdin)[0]["containers"]))')" 0 \
	"rm releases the containers' addresses"
id=$("$C" run -d --network n1 test/bb:1 sleep 100)
is "$("$C" network inspect n1 | python3 -c 'import json,sys; print(list(json.load(sys.stdin)[0]["containers"].values())[0]["ip"])')" \
	10.88.1.2 "a released address is handed out again"
"$C" rm -f "$id" >/dev/null
sleep 6   # > CONTAINER_NETWORK_IDLE_MS + the helper's 2 s tick
is "$(ls "$W"/run/network-*.pid 2>/dev/null | wc -l)" 0 "the network helpers exit once no container runs on their networks"
out=$("$C" run --rm --network bridge test/bb:1 sh -c 'ip -4 -o addr show eth0 | grep -c 192.168.64.' 2>&1)
is "$out" 1 "--network bridge (docker's name) is the default network"
is "$("$C" network rm n1 n2 n3)" "$(printf 'n1\nn2\nn3')" "network rm n1 n2 n3"
is "$(ip -o link show "$br" 2>/dev/null | wc -l)" 0 "the bridge is gone with its network"
is "$(ip -o link | grep -c ctap)" 0 "no TAP is left once the VMs ended"
is "$(qemus)" 0 "no qemu is left"
server_gone
echo "1..$n"
[ $failed -eq 0 ]
