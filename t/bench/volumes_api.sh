#!/bin/bash
# The volume endpoints with many volumes and containers: V volumes, C
# created containers (never started) each mounting one of them; the
# dangling filter, the plain list and prune -a through the real docker
# CLI.  Each request looks at every volume's users once (one scan of the
# containers), so the filtered list costs about what the plain one does.
# In a private network namespace (the server starts nothing there).
set -u
: "${CONTAINER_BIN:?}" "${SRCDIR:?}"
if [ -z "${BENCH_IN_NS:-}" ]; then
	command -v docker >/dev/null || { echo "# SKIP docker CLI not installed"; exit 0; }
	[ "$(id -u)" = 0 ] && unshare -n true 2>/dev/null || { echo "# SKIP needs root and unshare -n"; exit 0; }
	BENCH_IN_NS=1 exec unshare -n bash "$0" "$@"
fi
B=$CONTAINER_BIN V=${BENCH_VOLUMES:-200} C=${BENCH_CONTAINERS:-100}
W=$(mktemp -d "${TMPDIR:-/tmp}/volumes_api.XXXXXX")
export CONTAINER_DATA_DIR=$W/data CONTAINER_RUN_DIR=$W/run DOCKER_HOST=unix://$W/run/container.sock
trap '"$B" system stop >/dev/null 2>&1; rm -rf "$W"' EXIT
ip link set lo up
"$B" system start >/dev/null 2>&1 || { echo "# SKIP the API server does not start"; exit 0; }
python3 "$SRCDIR/t/integ/mkimage.py" "$W/bb.tar" test/bb:1 amd64 /bin/busybox >/dev/null &&
	"$B" image load -i "$W/bb.tar" >/dev/null || { echo "# SKIP no test image"; exit 0; }
for i in $(seq "$V"); do "$B" volume create -s 16M "v$i" >/dev/null; done
for i in $(seq "$C"); do docker create --name "c$i" --network none -v "v$i:/d" test/bb:1 true >/dev/null; done
ms() { local s e; s=$(date +%s%N); "$@" >/dev/null; e=$(date +%s%N); echo $(( (e - s) / 1000000 )); }
printf '%-44s %8s\n' "$V volumes, $C containers using $C of them" "ms"
printf '%-44s %8s\n' "docker volume ls -f dangling=true" "$(ms docker volume ls -q -f dangling=true)"
printf '%-44s %8s\n' "docker volume ls" "$(ms docker volume ls -q)"
printf '%-44s %8s\n' "container volume ls" "$(ms "$B" volume ls -q)"
printf '%-44s %8s\n' "docker volume prune -af ($((V - C)) go)" "$(ms docker volume prune -af)"
