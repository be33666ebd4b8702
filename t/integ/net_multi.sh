#!/usr/bin/env bash
# t/integ/net_multi.sh: a container on several networks (issue #7), in a
# network namespace of its own: one NIC per network (TAP + virtio-net, its
# own MAC and address, found by MAC in the guest), the default route via
# the first; c on networks a and b reaches x (only on a) and y (only on b)
# by name, through our DNS; x cannot reach y; each network resolves c to
# its own address of c.  Through the docker CLI (EndpointsConfig with two
# networks, network connect/disconnect of a created container) and our
# own `container run --network a --network b`.
set -u
TOTAL=32 NAME=netmulti
command -v docker >/dev/null 2>&1 || { echo "1..0 # SKIP docker CLI not installed"; exit 0; }
export CONTAINER_NETWORK_IDLE_MS=3000
. "$(dirname "$0")/vm_env.sh"
need_netns
IMG=test/bb:1
api_server_start
api() { curl -s -m 60 -w ' %{http_code}' --unix-socket "$SOCK" -X POST -H 'Content-Type: application/json' -d "$2" "http://d/v1.45$1"; }
WEB='mkdir -p /www && echo "page from $(hostname)" >/www/index.html && exec httpd -f -p 80 -h /www'
# busybox-static's wget crashes in this image; nc speaks HTTP/1.0
GET() { echo "printf 'GET / HTTP/1.0\r\n\r\n' | nc -w 5 $1 80 | tail -1"; }

D network create --subnet 10.88.1.0/24 na >/dev/null 2>&1
D network create --subnet 10.88.2.0/24 nb >/dev/null 2>&1
D run -d --name x --hostname x --network na $IMG sh -c "$WEB" >/dev/null 2>&1
D run -d --name y --hostname y --network nb $IMG sh -c "$WEB" >/dev/null 2>&1
yip=$(D inspect -f '{{(index .NetworkSettings.Networks "nb").IPAddress}}' y)

# --- docker run --network na --network nb: EndpointsConfig with two networks ---
out=$(D run --rm --name c --network na --network nb $IMG sh -c "$(GET x); $(GET y)" 2>&1)
is "$out" "$(printf 'page from x\npage from y')" "c on na and nb reaches x (na) and y (nb) by name"
out=$(D run --rm --network na --network nb $IMG sh -c \
	'ip -4 -o addr | grep -v " lo " | sed "s/.*inet \([0-9.]*\).*/\1/" | sort | tr "\n" " "; ip route | grep ^default' 2>&1)
case "$out" in 10.88.1.*" "10.88.2.*" default via 10.88.1.1 "*) ok "two NICs: an address on each network, the default route via the first" ;;
	*) nok "two NICs: '$out'" ;; esac
out=$(D run --rm --network na --network nb $IMG sh -c \
	'ip -4 -o addr | grep -v " lo " | awk "{print \$2, \$4}" | sort | tr "\n" " "' 2>&1)
case "$out" in "eth0 10.88.1."*" eth1 10.88.2."*) ok "the NICs are named in network order: eth0 on na, eth1 on nb" ;;
	*) nok "NIC names: '$out'" ;; esac

# --- isolation ------------------------------------------------------------------
out=$(D exec x sh -c "printf 'GET / HTTP/1.0\r\n\r\n' | nc -w 3 $yip 80 2>/dev/null | tail -1; nslookup y >/dev/null 2>&1 && echo resolved" 2>&1)
is "$out" "" "x (na only) neither reaches y's address ($yip) nor resolves y"
like "$(D exec x sh -c "$(GET x)")" "page from x" "(while x itself answers on na)"

# --- a created container with two networks; each network resolves it to its own address
D create --name c2 --network na --network nb $IMG sh -c "$WEB" >/dev/null 2>&1
is "$(D inspect -f '{{len .NetworkSettings.Networks}} {{.HostConfig.NetworkMode}}' c2)" "2 na" \
	"inspect c2: two networks, NetworkMode the first"
a2=$(D inspect -f '{{(index .NetworkSettings.Networks "na").IPAddress}}' c2)
b2=$(D inspect -f '{{(index .NetworkSettings.Networks "nb").IPAddress}}' c2)
case "$a2 $b2" in 10.88.1.*" "10.88.2.*) ok "inspect c2: an address on na ($a2) and on nb ($b2)" ;; *) nok "inspect c2: '$a2' '$b2'" ;; esac
D start c2 >/dev/null 2>&1
out=$(D exec x nslookup c2 2>&1 | sed -n 's/^Address: //p' | tail -1)
is "$out" "$a2" "na's DNS answers c2 with its na address"
out=$(D exec y nslookup c2 2>&1 | sed -n 's/^Address: //p' | tail -1)
is "$out" "$b2" "nb's DNS answers c2 with its nb address"
is "$(D exec y sh -c "$(GET c2)")" "page from $(D inspect -f '{{.Config.Hostname}}' c2)" "y reaches c2 by name on nb"
is "$(D exec c2 sh -c "$(GET x); $(GET y)")" "$(printf 'page from x\npage from y')" "c2 reaches x and y by name"

# --- rename: the name each network's DNS answers follows ---------------------------
D rename c2 c3 >/dev/null 2>&1
is "$(D exec x nslookup c3 2>&1 | sed -n 's/^Address: //p' | tail -1)" "$a2" "docker rename c2 c3: na's DNS answers c3"
is "$(D exec y nslookup c3 2>&1 | sed -n 's/^Address: //p' | tail -1)" "$b2" "... and nb's"
out=$(D rename c3 x 2>&1); rc=$?
[ $rc -ne 0 ] && like "$out" "already in use" "rename to a name in use: refused (409)" || nok "rename to x: $rc $out"
like "$(api '/containers/c3/rename?name=bad%20name' '')" " 400" "rename to an invalid name: 400"
D rename c3 c2 >/dev/null 2>&1

# --- network connect / disconnect of a created container ------------------------------
D create --name d --network na $IMG sh -c 'sleep 600' >/dev/null 2>&1
out=$(D network connect --alias dee nb d 2>&1); is "$?" 0 "docker network connect nb d (created, on na): a second network"
is "$(D inspect -f '{{len .NetworkSettings.Networks}} {{(index .NetworkSettings.Networks "nb").Aliases}}' d)" "2 [dee]" \
	"inspect d: two networks, the alias on nb"
D start d >/dev/null 2>&1
is "$(D exec d sh -c "$(GET x); $(GET y)")" "$(printf 'page from x\npage from y')" "d reaches x and y after the connect"
out=$(D exec y sh -c 'nslookup dee >/dev/null 2>&1 && echo yes' 2>&1)
is "$out" "yes" "nb's DNS answers d's alias dee"
out=$(D network connect na y 2>&1); rc=$?
[ $rc -ne 0 ] && like "$out" "is running" "connect of a running container: refused (409)" || nok "connect running: $rc $out"
D create --name e --network na --network nb $IMG sh -c 'sleep 600' >/dev/null 2>&1
D network disconnect na e >/dev/null 2>&1
is "$(D inspect -f '{{.HostConfig.NetworkMode}} {{len .NetworkSettings.Networks}}' e)" "nb 1" \
	"docker network disconnect na e: nb is its only (first) network"
D network disconnect nb e >/dev/null 2>&1
is "$(D inspect -f '{{.HostConfig.NetworkMode}} {{len .NetworkSettings.Networks}}' e)" "none 0" \
	"disconnect of the last network: none"
out=$(D network disconnect nb e 2>&1); rc=$?
[ $rc -ne 0 ] && like "$out" "not connected" "disconnect from a network it is not on: refused" || nok "disconnect again: $rc $out"
# a connect that fails (tiny, a /30, has one address, f holds it) leaves
# the networks the container was already on as they were
D network create --subnet 10.88.3.0/30 tiny >/dev/null 2>&1
D create --name f --network tiny $IMG true >/dev/null 2>&1
D create --name g --network na $IMG true >/dev/null 2>&1
gip=$(D inspect -f '{{(index .NetworkSettings.Networks "na").IPAddress}}' g)
out=$(D network connect tiny g 2>&1); rc=$?
[ $rc -ne 0 ] && ok "connect to a full network: refused" || nok "connect to full tiny: $rc $out"
is "$(D network inspect na -f '{{range .Containers}}{{if eq .Name "g"}}{{.IPv4Address}}{{end}}{{end}}')" "$gip/24" \
	"... and g keeps its address on na (the failed connect undid only its own attachment)"
D rm -f f g >/dev/null 2>&1
D network rm tiny >/dev/null 2>&1

# --- hostile or impossible requests -------------------------------------------------
like "$(api /containers/create "{\"Image\":\"$IMG\",\"HostConfig\":{\"NetworkMode\":\"na\"},\"NetworkingConfig\":{\"EndpointsConfig\":{\"na\":{},\"host\":{}}}}")" \
	" 400" "EndpointsConfig with host beside a network: 400"
like "$(api /containers/create "{\"Image\":\"$IMG\",\"HostConfig\":{\"NetworkMode\":\"na\"},\"NetworkingConfig\":{\"EndpointsConfig\":{\"na\":{},\"nosuch\":{}}}}")" \
	" 404" "EndpointsConfig naming a network that does not exist: 404"

# --- our own CLI ------------------------------------------------------------------------
out=$("$C" run --rm --network na --network nb $IMG sh -c "$(GET x); $(GET y)" 2>&1)
is "$out" "$(printf 'page from x\npage from y')" "container run --network na --network nb reaches x and y"
out=$("$C" run --rm --network na --network na $IMG true 2>&1); rc=$?
[ $rc -ne 0 ] && like "$out" "each network once" "container run --network na --network na: refused" || nok "twice: $rc $out"

D rm -f x y c2 d e >/dev/null 2>&1
D network rm na nb >/dev/null 2>&1; is "$?" 0 "docker network rm na nb once the containers are gone"
for _ in $(seq 20); do [ "$(ip -o link | grep -c ctap)" = 0 ] && break; sleep 0.5; done
is "$(ip -o link | grep -c ctap)" 0 "no TAP is left"
echo "1..$n"
[ $failed -eq 0 ]
