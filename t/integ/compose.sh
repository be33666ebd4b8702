#!/usr/bin/env bash
# t/integ/compose.sh: a real docker-compose (Debian's 1.29.2, docker-py)
# against our API (issue #7), in a network namespace of its own: a project
# with two services on a user network (web = busybox httpd, client = a loop
# fetching http://web/ and http://www/ by service name and alias through
# our DNS), a named volume and a published port reached from the host;
# up -d, ps, logs, exec, run --rm, up --force-recreate (rename), down -v,
# and nothing left behind after down.
set -u
TOTAL=23 NAME=compose
command -v docker-compose >/dev/null 2>&1 || { echo "1..0 # SKIP docker-compose not installed (build.sh installs it)"; exit 0; }
command -v curl >/dev/null 2>&1 || { echo "1..0 # SKIP curl not installed"; exit 0; }
# compose 1.29 runs `exec` and `run` through the docker CLI, as for its users
command -v docker >/dev/null 2>&1 || { echo "1..0 # SKIP docker CLI not installed"; exit 0; }
export CONTAINER_NETWORK_IDLE_MS=3000
. "$(dirname "$0")/vm_env.sh"
need_netns
trap '(cd "$W/proj" 2>/dev/null && DC down -v -t 1) >/dev/null 2>&1; cleanup' EXIT
api_server_start
DC() { timeout 300 docker-compose -p proj "$@"; }
api() { curl -s -m 60 --unix-socket "$SOCK" "http://d/v1.41$1"; }
http_wait() { # URL -> the page, after up to 60 s
	for _ in $(seq 120); do curl -sf -m 2 "$1" && return 0; sleep 0.5; done; return 1
}
mkdir -p "$W/proj" && cd "$W/proj" || exit 1
cat >docker-compose.yml <<'YML'
version: "2.4"
services:
  web:
    image: test/bb:1
    command: ["sh", "-c", "mkdir -p /www && echo page-from-web >/www/index.html && echo kept >/data/f && exec httpd -f -p 80 -h /www"]
    ports: ["127.0.0.1:18090:80"]
    volumes: ["data:/data"]
    networks:
      front:
        aliases: [www]
  client:
    image: test/bb:1
    # busybox-static's wget crashes in this image; nc speaks HTTP/1.0
    command: ["sh", "-c", "while :; do for h in web www; do printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 5 $$h 80 | tail -1 | sed \"s/^/$$h: /\"; done; sleep 1; done"]
    networks: [front]
    depends_on: [web]
volumes:
  data:
networks:
  front:
YML

out=$(DC up -d 2>&1); rc=$?
is "$rc" 0 "docker-compose up -d" || echo "$out" | sed 's/^/# /'
is "$(http_wait http://127.0.0.1:18090/)" "page-from-web" "curl 127.0.0.1:18090: the published port reaches web"
ps=$(DC ps 2>&1)
like "$ps" "proj_web_1" "docker-compose ps lists web"
like "$ps" "127.0.0.1:18090->80/tcp" "docker-compose ps shows web's published port"
like "$(echo "$ps" | grep proj_client_1)" "Up" "docker-compose ps: client is Up"
logs=
for _ in $(seq 60); do
	logs=$(DC logs --no-color client 2>&1)
	case "$logs" in *"www: page-from-web"*) break ;; esac
	sleep 1
done
like "$logs" "web: page-from-web" "client's logs: http://web/ fetched by service name"
like "$logs" "www: page-from-web" "client's logs: http://www/ fetched by the network alias"
is "$(DC exec -T web cat /data/f 2>&1)" "kept" "docker-compose exec -T web: the named volume is mounted"
is "$(DC exec -T client sh -c 'nslookup proj_web_1 >/dev/null 2>&1 && echo yes')" "yes" \
	"the container name resolves too"
is "$(api '/networks' | grep -o '"proj_front"' | head -1)" '"proj_front"' "the project network exists while up"
out=$(DC run --rm -T client sh -c "printf 'GET / HTTP/1.0\r\n\r\n' | nc -w 5 www 80 | tail -1" 2>/dev/null)
is "$out" "page-from-web" "docker-compose run --rm -T client: a one-off container reaches www"
is "$(api '/containers/json?all=1' | grep -c proj_client_run)" 0 "the one-off container is gone"

# recreate: compose stops, renames (/containers/{id}/rename) and replaces each
DC exec -T web sh -c 'echo marker >/data/m' >/dev/null 2>&1
out=$(DC up -d --force-recreate 2>&1); rc=$?
is "$rc" 0 "docker-compose up -d --force-recreate" || echo "$out" | sed 's/^/# /'
is "$(api '/containers/json?all=1' | grep -o '"Names":\["[^"]*"' | sort | tr '\n' ' ')" \
	'"Names":["/proj_client_1" "Names":["/proj_web_1" ' "after recreate: the two containers, renamed ones gone"
is "$(http_wait http://127.0.0.1:18090/)" "page-from-web" "after recreate: the published port reaches the new web"
is "$(DC exec -T web cat /data/m 2>&1)" "marker" "after recreate: the named volume kept its data"

out=$(DC down -v -t 1 2>&1); rc=$?
is "$rc" 0 "docker-compose down -v" || echo "$out" | sed 's/^/# /'
is "$(api '/containers/json?all=1')" "[]" "after down: no container"
is "$(api '/networks' | grep -c proj_)" 0 "after down: no project network"
is "$(api '/volumes' | grep -c proj_data)" 0 "after down -v: no volume"
for _ in $(seq 20); do [ "$(qemus)" = 0 ] && break; sleep 0.5; done
is "$(qemus)" 0 "after down: no QEMU left"
is "$(curl -s -m 3 -o /dev/null -w '%{http_code}' http://127.0.0.1:18090/)" 000 "after down: the port is closed"
echo "1..$n"
[ $failed -eq 0 ]
