#!/bin/bash
# `container registry login`, `image pull` and `image push` against a
# docker-registry behind a token realm (t/tools/token_server.js): the
# credentials stored by login are used for token fetches, an anonymous
# pull of a private repository is refused, and skopeo reads what we push.
. "$(dirname "$0")/registry_env.sh"
reg_need docker-registry openssl node skopeo umoci
: "${CONTAINER_BIN:?}"
C=$CONTAINER_BIN
W=$REG_DIR/work
mkdir -p "$W/root/etc"
export DOCKER_CONFIG=$W/docker CONTAINER_REGISTRY_CA=$REG_DIR/ca.crt
reg_start token || { echo "1..0 # SKIP registry did not start"; exit 0; }
api_use "$W/data"
head -c 300000 /dev/urandom >"$W/root/etc/data.bin"
umoci init --layout "$W/oci" >/dev/null && umoci new --image "$W/oci:t" >/dev/null &&
	umoci insert --rootless --image "$W/oci:t" "$W/root" / >/dev/null &&
	umoci config --image "$W/oci:t" --architecture amd64 --os linux >/dev/null ||
	{ echo "1..0 # SKIP umoci failed"; exit 0; }
skopeo copy -q --dest-cert-dir "$REG_CERTS" --dest-creds "$REG_USER:$REG_PASS" "oci:$W/oci:t" \
	"docker://$REG/team/app:v1" >/dev/null || { echo "1..0 # SKIP skopeo push failed"; exit 0; }
sdig=sha256:$(skopeo inspect --raw --cert-dir "$REG_CERTS" --creds "$REG_USER:$REG_PASS" "docker://$REG/team/app:v1" | sha256sum | cut -d' ' -f1)

out=$($C image pull --progress none "$REG/team/app:v1" 2>&1); rc=$?
tap_like "$rc:$out" "1:container image pull: pull $REG/team/app:v1: registry $REG: unauthorized" "anonymous pull of a private repository is refused"
out=$(printf 'bad\n' | $C registry login -u "$REG_USER" --password-stdin "$REG" 2>&1); rc=$?
tap_like "$rc:$out" "1:container registry login: login to $REG failed" "login with a wrong password is refused by the token server"
out=$(printf '%s\n' "$REG_PASS" | $C registry login -u "$REG_USER" --password-stdin "$REG" 2>&1); rc=$?
tap_is "$rc:$out" "0:Login succeeded" "login through the token realm"
tap_like "$(cat "$TOKEN_LOG")" "auth=basic" "the token was fetched with the stored credentials"
out=$($C image pull --progress none "$REG/team/app:v1" 2>&1); rc=$?
tap_is "$rc:$out" "0:Pulled $REG/team/app:v1
Digest: $sdig" "pull with a token"
out=$($C image push --progress none "$REG/team/app:v1" "$REG/team/copy:v2" 2>&1); rc=$?
tap_is "$rc:$out" "0:Pushed $REG/team/copy:v2
Digest: $sdig" "push with a token (cross-repository mount)"
got=sha256:$(skopeo inspect --raw --cert-dir "$REG_CERTS" --creds "$REG_USER:$REG_PASS" "docker://$REG/team/copy:v2" | sha256sum | cut -d' ' -f1)
tap_is "$got" "$sdig" "skopeo reads our push with the same digest"
tap_done
