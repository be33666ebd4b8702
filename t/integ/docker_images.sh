#!/bin/bash
# t/integ/docker_images.sh: the REAL docker CLI's image commands against our
# API server (issue #6), with a loopback TLS docker-registry behind htpasswd
# (t/integ/registry_env.sh).  docker load of a busybox image, images, tag,
# push (credentials only in the docker CLI's config.json, sent as
# X-Registry-Auth: the server has none of its own), pull back, rmi, save
# read by skopeo and loaded again, image prune -f / -af; hostile requests:
# a malformed X-Registry-Auth (400), a cut or garbage load body (refused,
# the store unchanged), save of an unknown image (404).  With the guest
# kernel built, the image loaded from docker save runs.
. "$(dirname "$0")/registry_env.sh"
reg_need docker-registry openssl htpasswd node skopeo docker curl python3
[ -x /bin/busybox ] || { echo "1..0 # SKIP busybox-static not installed"; exit 0; }
: "${CONTAINER_BIN:?}" "${SRCDIR:=.}"
C=$CONTAINER_BIN
W=$REG_DIR/work
mkdir -p "$W/client" "$W/server-docker"
reg_start basic || { echo "1..0 # SKIP registry did not start"; exit 0; }
python3 "$SRCDIR/t/integ/mkimage.py" "$W/bb.tar" test/bb:1 amd64 /bin/busybox >/dev/null ||
	{ echo "1..0 # SKIP cannot build the test image"; exit 0; }
# the server: our CA, no credentials of its own
DOCKER_CONFIG=$W/server-docker CONTAINER_REGISTRY_CA=$REG_CA api_use "$W/data"
export DOCKER_HOST=unix://$CONTAINER_RUN_DIR/container.sock
D() { DOCKER_CONFIG=$W/client timeout 120 docker "$@"; }
Danon() { DOCKER_CONFIG=$W/anon timeout 120 docker "$@"; }
curl_api() { curl -s --unix-socket "$CONTAINER_RUN_DIR/container.sock" "$@"; }
blobs() { ls "$CONTAINER_DATA_DIR/content/blobs/sha256" 2>/dev/null | sort | tr '\n' ' '; }
state() { echo "$(blobs)|$(cat "$CONTAINER_DATA_DIR/images.json" 2>/dev/null)"; }

out=$(D load -i "$W/bb.tar" 2>&1); rc=$?
tap_is "$rc:$out" "0:Loaded image: test/bb:1" "docker load -i: the image is loaded"
tap_is "$(D images --format '{{.Repository}}:{{.Tag}}')" "test/bb:1" "docker images lists it"
id=$(D images -q --no-trunc test/bb:1)
tap_like "$("$C" image ls)" "test/bb" "container image ls (through the same server) lists it too"
out=$(CONTAINER_NO_AUTOSTART=1 CONTAINER_RUN_DIR=$W/nowhere "$C" image ls 2>&1); rc=$?
tap_like "$rc:$out" "1:container image list: the API server is not running" "image ls with no server and CONTAINER_NO_AUTOSTART=1: the command to run"
[ ! -e "$W/nowhere/container.sock" ]; tap_ok $? "  and no server was started"

tap_like "$id" "sha256:" "docker images -q --no-trunc: a digest"

# -- push: the credentials come from the docker CLI only --
D tag test/bb:1 "$REG/lib/bb:1" >/dev/null 2>&1; tap_ok $? "docker tag"
tap_is "$(D images --format '{{.Repository}}:{{.Tag}}' | sort | tr '\n' ' ')" "$REG/lib/bb:1 test/bb:1 " "both names listed"
out=$(Danon push "$REG/lib/bb:1" 2>&1); rc=$?
tap_is "$rc" 1 "docker push without credentials fails"
tap_like "$out" "requires a login" "  the registry's refusal is passed on"
printf '{"auths":{"%s":{"auth":"%s"}}}\n' "$REG" "$(printf '%s:%s' "$REG_USER" "$REG_PASS" | base64 -w0)" >"$W/client/config.json"
out=$(D push "$REG/lib/bb:1" 2>&1); rc=$?
tap_is "$rc" 0 "docker push with the CLI's credentials (X-Registry-Auth)"
dig=$(echo "$out" | sed -n 's/^1: digest: \(sha256:[0-9a-f]*\).*/\1/p')
tap_like "$dig" "sha256:" "docker push prints the tag's digest: $dig"
sdig=$(skopeo inspect --cert-dir "$REG_CERTS" --creds "$REG_USER:$REG_PASS" --format '{{.Digest}}' "docker://$REG/lib/bb:1" 2>/dev/null)
tap_is "$sdig" "$dig" "skopeo finds the pushed manifest under that digest"
grep -q "$REG_PASS" "$CONTAINER_DATA_DIR/apiserver.log" 2>/dev/null
tap_ok $((! $?)) "the password is not in the server's log"
[ ! -e "$W/server-docker/config.json" ]; tap_ok $? "the server stored no credentials"

# -- pull --
D rmi "$REG/lib/bb:1" >/dev/null 2>&1; tap_ok $? "docker rmi of one name"
out=$(Danon pull "$REG/lib/bb:1" 2>&1); rc=$?
tap_is "$rc" 1 "docker pull without credentials fails"
out=$(D pull "$REG/lib/bb:1" 2>&1); rc=$?
tap_is "$rc" 0 "docker pull with credentials"
tap_like "$out" "Digest: $dig" "  docker pull prints the digest"
tap_is "$(D images -q --no-trunc "$REG/lib/bb:1")" "$id" "the pulled image is the one pushed"
hdr=$(printf '{"username":"%s","password":"%s"}' "$REG_USER" "$REG_PASS" | base64 -w0 | tr '+/' '-_')
out=$(curl_api -X POST -H "X-Registry-Auth: $hdr" "http://d/v1.43/images/create?fromImage=$REG/lib/bb&tag=1")
tap_like "$out" "Downloaded newer image for $REG/lib/bb:1" "a pull with a hand-made X-Registry-Auth (url alphabet)"
out=$(curl_api -o /dev/null -w '%{http_code}' -X POST -H 'X-Registry-Auth: %%%not-base64' "http://d/images/create?fromImage=$REG/lib/bb&tag=1")
tap_is "$out" 400 "a malformed X-Registry-Auth: 400"
out=$(curl_api -X POST -H "X-Registry-Auth: $(printf '[1,2]' | base64 -w0)" "http://d/images/$REG/lib/bb/push?tag=1")
tap_like "$out" "not a JSON object" "X-Registry-Auth that is not an object: refused with a reason"
big=$(head -c 40000 /dev/zero | tr '\0' A)
out=$(curl_api -o /dev/null -w '%{http_code}' -X POST -H "X-Registry-Auth: $big" "http://d/images/create?fromImage=x")
tap_is "$out" 400 "a 40 kB X-Registry-Auth: 400"
out=$(curl_api -o /dev/null -w '%{http_code}' -X POST -H 'X-Registry-Auth: e30=' "http://d/images/nosuch/push")
tap_is "$out" 404 "push of an image that is not here: 404"

# -- save, load --
D save -o "$W/s.tar" test/bb:1 2>"$W/save.err"; rc=$?
tap_ok $rc "docker save -o"
skopeo inspect "docker-archive:$W/s.tar" >"$W/skopeo.json" 2>"$W/skopeo.err"
tap_ok $? "skopeo inspect docker-archive: reads the archive"
tap_like "$(cat "$W/skopeo.json")" '"Architecture": "amd64"' "  and finds the image's config"
skopeo copy -q "oci-archive:$W/s.tar" "oci:$W/fromsave:x" >/dev/null 2>&1
tap_ok $? "skopeo copy oci-archive: reads it too"
D save test/bb:1 "$REG/lib/bb:1" >"$W/two.tar"
tap_ok $? "docker save of two names to stdout"
tap_is "$(tar tf "$W/two.tar" | grep -c '^manifest.json$')" 1 "  one archive with a manifest.json"
out=$(curl_api -o /dev/null -w '%{http_code}' "http://d/images/get?names=nosuch")
tap_is "$out" 404 "save of an unknown image: 404 before any byte"
D rmi test/bb:1 "$REG/lib/bb:1" >/dev/null 2>&1; tap_ok $? "docker rmi of both names"
tap_is "$(D images -q | wc -l)" 0 "no image left"
tap_is "$(blobs)" "" "rmi of the last name collects its blobs"
out=$(D load -i "$W/s.tar" 2>&1); rc=$?
tap_is "$rc:$out" "0:Loaded image: test/bb:1" "docker load of our own docker save"
tap_is "$(D images -q --no-trunc test/bb:1)" "$id" "  the same image id"
before=$(state)
head -c 3000 "$W/s.tar" >"$W/cut.tar"
out=$(D load -i "$W/cut.tar" 2>&1); rc=$?
tap_is "$rc" 1 "docker load of a cut archive fails"
head -c 100000 /dev/urandom >"$W/junk.tar"
out=$(D load -i "$W/junk.tar" 2>&1); rc=$?
tap_is "$rc" 1 "docker load of random bytes fails"
tap_like "$out" "Error" "  with the server's message"
tap_is "$(state)" "$before" "failed loads leave the store and images.json as they were"
out=$(curl_api -X POST -H 'Content-Type: application/x-tar' --data-binary @"$W/s.tar" "http://d/images/load?quiet=1")
tap_like "$out" '"stream":"Loaded image: test/bb:1' "POST /images/load with Content-Length"

# -- a loaded image runs (needs the guest kernel) --
KERNEL=$("$SRCDIR/initrd/kernel/build.sh" --cached x86_64 2>/dev/null)
if [ -n "$KERNEL" ] && "$C" system kernel set --binary "$KERNEL" >/dev/null 2>&1; then
	out=$(D run --rm test/bb:1 echo loaded-runs 2>&1)
	tap_is "$out" "loaded-runs" "the image loaded from docker save runs"
else
	TAP_N=$((TAP_N + 1)); echo "ok $TAP_N # SKIP guest kernel not built (make kernel)"
fi

# -- prune --
out=$(D image prune -f 2>&1); rc=$?
tap_like "$rc:$out" "0:Total reclaimed space" "docker image prune -f"
tap_is "$(D images -q | wc -l)" 1 "  keeps named images"
out=$(D image prune -af --filter label=nosuch=1 2>&1)
tap_is "$(D images -q | wc -l)" 1 "prune -a with a label no image has keeps it"
out=$(D image prune -af 2>&1); rc=$?
tap_like "$rc:$out" "untagged: test/bb:1" "docker image prune -af untags"
tap_like "$out" "deleted: sha256:" "  and deletes the image"
tap_is "$(D images -q | wc -l)" 0 "  none left"
tap_is "$(blobs)" "" "  nor any blob"
out=$(curl_api -o /dev/null -w '%{http_code}' -X POST 'http://d/images/prune?filters=%7B%22bogus%22%3A%5B%22x%22%5D%7D')
tap_is "$out" 400 "prune with an unknown filter: 400"
tap_done
