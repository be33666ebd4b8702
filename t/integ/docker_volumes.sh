#!/usr/bin/env bash
# t/integ/docker_volumes.sh: volumes and mounts through the Docker API
# (issue #8) with the REAL docker CLI against our API server, on scratch
# data/run dirs and the busybox image test/bb:1 (t/integ/vm_env.sh); every
# container boots the guest kernel under QEMU.  Covers docker volume
# create/ls (filters)/inspect/rm (refused while in use)/prune, -v NAME:/p
# shared by two containers in turn, -v HOSTDIR (both ways, owner, :ro),
# --mount bind/volume/tmpfs, --tmpfs, anonymous volumes (-v /p) with
# rm -v and --rm, inspect's Mounts, and a missing bind source refused as
# the client's error (no pull attempted); hostile raw requests to the
# volume endpoints answered 400/404 without touching the store.
set -u
TOTAL=53 NAME=dockervol
command -v docker >/dev/null 2>&1 || { echo "1..0 # SKIP docker CLI not installed"; exit 0; }
. "$(dirname "$0")/vm_env.sh"
IMG=test/bb:1
api_server_start
vols() { D volume ls -q "$@" | sort | tr '\n' ' '; }

# --- the volume endpoints -----------------------------------------------------
is "$(D volume create v1 2>&1)" v1 "docker volume create v1"
is "$(D volume create --label tier=db -o size=100m v2 2>&1)" v2 "docker volume create --label -o size=100m v2"
is "$(D volume inspect -f '{{.Name}} {{.Driver}} {{.Labels.tier}} {{.Options.size}}' v2 2>&1)" \
	"v2 local db 100m" "docker volume inspect v2: name, driver, label, option"
is "$(D volume create v1 2>&1)" v1 "creating an existing volume answers it (as docker)"
is "$(vols)" "v1 v2 " "docker volume ls -q"
is "$(vols --filter label=tier=db)" "v2 " "docker volume ls --filter label=tier=db"
is "$(vols --filter name=1)" "v1 " "docker volume ls --filter name=1"
is "$(vols --filter dangling=true)" "v1 v2 " "docker volume ls --filter dangling=true: both unused"
out=$(D volume inspect nosuch 2>&1); rc=$?
[ $rc -ne 0 ] && like "$out" "no such volume" "docker volume inspect nosuch: no such volume" || nok "inspect nosuch: $rc $out"
out=$(D volume create -o type=nfs bad1 2>&1); rc=$?
[ $rc -ne 0 ] && like "$out" "unsupported volume option" "a local-driver mount option is refused" || nok "-o type: $rc $out"
out=$(D volume create 'a/b' 2>&1); rc=$?
[ $rc -ne 0 ] && like "$out" "invalid volume name" "an invalid volume name is refused" || nok "bad name: $rc $out"
# label filters are ANDed, in the list and in prune (Docker's rule)
D volume create --label a=1 --label b=2 fab >/dev/null 2>&1
D volume create --label a=1 fa >/dev/null 2>&1
is "$(vols --filter label=a=1 --filter label=b=2)" "fab " "docker volume ls with two label filters: only the volume with both"
out=$(D volume prune -af --filter label=a=1 --filter label=b=2 2>&1)
is "$(vols)" "fa v1 v2 " "docker volume prune -a with two label filters removes only the volume with both"
like "$out" "fab" "the prune names what it removed"
D volume rm fa >/dev/null 2>&1

# --- hostile requests to the volume endpoints (raw HTTP) ----------------------
H() { curl -s -o /dev/null -w '%{http_code}' --unix-socket "$SOCK" "$@"; }
if command -v curl >/dev/null; then
	is "$(H 'http://d/v1.45/volumes?filters=notjson')" 400 "GET /volumes?filters=notjson: 400"
	is "$(H 'http://d/v1.45/volumes?filters=%7B%22bogus%22%3A%5B%22x%22%5D%7D')" 400 "an unknown filter: 400"
	is "$(H 'http://d/v1.45/volumes/..%2F..%2Fetc')" 404 "GET /volumes/../../etc: 404, nothing outside the store"
	is "$(H -X POST -H 'Content-Type: application/json' -d '[]' http://d/v1.45/volumes/create)" 400 "POST /volumes/create with a list: 400"
	is "$(H -X POST -H 'Content-Type: application/json' -d '{"Name":"n1","Driver":"nfs"}' http://d/v1.45/volumes/create)" 400 "another driver: 400"
	is "$(H -X POST -H 'Content-Type: application/json' -d '{"Name":"n1","Labels":{"a":1}}' http://d/v1.45/volumes/create)" 400 "a label that is not a string: 400"
	is "$(H -X DELETE http://d/v1.45/volumes/nosuch)" 404 "DELETE /volumes/nosuch: 404"
	is "$(H -X POST -H 'Content-Type: application/json' -d '{"Image":"'$IMG'","HostConfig":{"Mounts":[{"Type":"volume","Source":"v\",type=bind","Target":"/x"}]}}' http://d/v1.45/containers/create)" 400 "a quote injected into a Mounts field: 400"
else
	for i in 1 2 3 4 5 6 7 8; do n=$((n + 1)); echo "ok $n # SKIP curl not installed"; done
fi
is "$(vols)" "v1 v2 " "none of them made a volume"

# --- a named volume across containers ---------------------------------------
out=$(D run --rm -v v1:/data $IMG sh -c 'echo x > /data/f && echo wrote' 2>&1)
is "$out" wrote "docker run --rm -v v1:/data writes /data/f"
is "$(D run --rm -v v1:/data $IMG cat /data/f 2>&1)" x "another container reads it back"
id=$(D run -d --name holder -v v1:/data $IMG sleep 1000 2>&1)
is "${#id}" 64 "docker run -d with v1 mounted" || skip_rest "no holder container"
is "$(D inspect -f '{{range .Mounts}}{{.Type}} {{.Name}} {{.Destination}} {{.RW}} {{.Driver}}{{end}}' holder)" \
	"volume v1 /data true local" "docker inspect: Mounts in Docker's shape"
out=$(D volume rm v1 2>&1); rc=$?
[ $rc -ne 0 ] && like "$out" "in use" "docker volume rm of a volume in use: refused" || nok "rm in use: $rc $out"
out=$(D volume rm -f v1 2>&1); rc=$?
[ $rc -ne 0 ] && like "$out" "in use" "docker volume rm -f of a volume a running container uses: refused" || nok "rm -f in use: $rc $out"
is "$(vols --filter dangling=false)" "v1 " "docker volume ls --filter dangling=false: v1"
D rm -f holder >/dev/null 2>&1
is "$(D volume rm v1 2>&1)" v1 "once the container is gone: docker volume rm v1"

# --- bind mounts ------------------------------------------------------------
mkdir -p "$W/h"
echo hostfile >"$W/h/file"
is "$(D run --rm -v "$W/h:/w" $IMG cat /w/file 2>&1)" hostfile "docker run -v HOSTDIR:/w: the host's file inside"
D run --rm -v "$W/h:/w" $IMG sh -c 'echo from-ctr > /w/new' >/dev/null 2>&1
is "$(cat "$W/h/new" 2>&1):$(stat -c %u "$W/h/new" 2>&1)" "from-ctr:$(id -u)" \
	"a file written inside appears on the host, owned by the invoking user"
out=$(D run --rm -v "$W/h:/w:ro" $IMG sh -c 'cat /w/file; echo no > /w/ro' 2>&1); rc=$?
[ $rc -ne 0 ] && [ ! -e "$W/h/ro" ] && like "$out" "hostfile" "-v HOSTDIR:/w:ro: readable, a write refused" ||
	nok "-v :ro: $rc $out"
out=$(D run --rm --mount "type=bind,src=$W/h,dst=/m,readonly" $IMG sh -c 'cat /m/file; touch /m/x' 2>&1); rc=$?
[ $rc -ne 0 ] && [ ! -e "$W/h/x" ] && like "$out" "hostfile" "--mount type=bind,readonly: readable, a write refused" ||
	nok "--mount bind ro: $rc $out"
out=$(D run --rm --mount "type=bind,src=$W/nosuch,dst=/m" $IMG true 2>&1); rc=$?
[ $rc -ne 0 ] && like "$out" "does not exist" "--mount of a missing bind source: refused" || nok "missing source: $rc $out"
case "$out" in *"Unable to find image"*|*"pull"*) nok "... without an image pull: $out" ;; *) ok "... as the client's error, without an image pull" ;; esac

# --- tmpfs --------------------------------------------------------------------
out=$(D run --rm --tmpfs /t:size=8m $IMG sh -c 'grep " /t " /proc/mounts; df -k /t | tail -1' 2>&1)
like "$out" "tmpfs /t tmpfs" "docker run --tmpfs /t: a tmpfs on /t"
like "$out" " 8192 " "--tmpfs /t:size=8m: 8 MiB"
out=$(D run --rm --mount type=tmpfs,dst=/t2,tmpfs-size=4194304 $IMG sh -c 'df -k /t2 | tail -1' 2>&1)
like "$out" " 4096 " "--mount type=tmpfs,tmpfs-size=4194304: 4 MiB"

# --- --mount type=volume, anonymous volumes, prune -------------------------------
out=$(D run --rm --mount type=volume,src=v3,dst=/d $IMG sh -c 'echo ok > /d/f; cat /d/f' 2>&1)
is "$out" ok "--mount type=volume,src=v3: created on first use"
is "$(vols)" "v2 v3 " "v3 is listed"
D run -d --name anon -v /anon $IMG true >/dev/null 2>&1
anon=$(D inspect -f '{{range .Mounts}}{{.Name}}{{end}}' anon 2>&1)
is "${#anon}:$(vols | grep -c "$anon")" "64:1" "-v /anon: an anonymous volume, listed"
D wait anon >/dev/null 2>&1
out=$(D rm -v anon 2>&1)
is "$out:$(vols)" "anon:v2 v3 " "docker rm -v: the anonymous volume is gone"
D run -d --name anonf -v /anon3 $IMG sleep 1000 >/dev/null 2>&1
out=$(D rm -fv anonf 2>&1)
is "$out:$(vols)" "anonf:v2 v3 " "docker rm -fv of a running container: its anonymous volume goes too"
D run --rm -v /anon2 $IMG true >/dev/null 2>&1
is "$(vols)" "v2 v3 " "docker run --rm -v /anon2: the anonymous volume goes with the container"
D create --name keep -v /kept $IMG true >/dev/null 2>&1
D rm keep >/dev/null 2>&1
is "$(vols | wc -w)" 3 "docker rm without -v keeps the anonymous volume"
D volume prune -f >/dev/null 2>&1
is "$(vols)" "v2 v3 " "docker volume prune: the unused anonymous volume goes, named ones stay"
D volume prune -af >/dev/null 2>&1
is "$(vols)" "" "docker volume prune -a: every unused volume goes"
out=$(D volume ls --filter bogus=x 2>&1); rc=$?
[ $rc -ne 0 ] && like "$out" "invalid filter 'bogus'" "an unknown filter key is refused even with no volumes" || nok "unknown filter: $rc $out"
if command -v curl >/dev/null; then
	is "$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$SOCK" -X POST \
		'http://d/v1.45/volumes/prune?filters=%7B%22dangling%22%3A%5B%22true%22%5D%7D')" 400 \
		"POST /volumes/prune with a filter prune does not know: 400"
else
	n=$((n + 1)); echo "ok $n # SKIP curl not installed"
fi

sleep 1
is "$(qemus)" 0 "no QEMU left running"
echo "1..$n"
[ $failed -eq 0 ]
