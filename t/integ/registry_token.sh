#!/bin/bash
# docker-registry behind a token realm (t/tools/token_server.js, RS256 JWTs
# trusted through rootcertbundle): token auth with credentials over GET and
# oauth POST, anonymous pull of a public repository, refusals; and an image
# built with umoci and pushed by skopeo, pulled blob by blob by us.
. "$(dirname "$0")/registry_env.sh"
reg_need docker-registry openssl node
reg_start token || { echo "1..0 # SKIP registry did not start"; exit 0; }
export REGCLI_PASSWORD=$REG_PASS
W=$REG_DIR/work
mkdir -p "$W"

head -c 100000 /dev/urandom >"$W/layer"
layer=sha256:$(sha256sum "$W/layer" | cut -d' ' -f1)
out=$(regcli --user "$REG_USER" push-blob "$REG" team/app "$W/layer" 2>&1)
tap_is "$out" "$layer" "blob pushed with a token (GET + Basic)"
tap_like "$(cat "$TOKEN_LOG")" "GET /token auth=basic" "token fetched by GET with Basic credentials"
out=$(regcli --user "$REG_USER" --oauth get-blob "$REG" team/app "$layer" "$W/b1" 2>&1)
tap_is "$out" "$layer" "blob pulled with an oauth POST token"
tap_like "$(cat "$TOKEN_LOG")" "POST /token auth=none" "token fetched by POST"
out=$(regcli --user "$REG_USER" --chunk 30000 push-blob "$REG" public/lib "$W/layer" 2>&1)
tap_is "$out" "$layer" "chunked upload with a token"
out=$(REGCLI_PASSWORD= regcli get-blob "$REG" public/lib "$layer" "$W/b2" 2>&1)
tap_is "$out" "$layer" "anonymous pull of a public repository"
out=$(REGCLI_PASSWORD= regcli get-blob "$REG" team/app "$layer" "$W/b3" 2>&1); rc=$?
tap_like "$rc:$out" "1:regcli: registry $REG: unauthorized to access repository team/app" "anonymous pull of a private repository: unauthorized"
out=$(REGCLI_PASSWORD=bad regcli --user "$REG_USER" get-blob "$REG" team/app "$layer" "$W/b4" 2>&1); rc=$?
tap_is "$rc:$out" "1:regcli: registry $REG: the token server refused the credentials (401)" "wrong password refused by the token server"
case "$out" in *bad*) tap_ok 1 "password not echoed" ;; *) tap_ok 0 "password not echoed" ;; esac

if command -v skopeo >/dev/null && command -v umoci >/dev/null; then
	mkdir -p "$W/root"
	head -c 50000 /dev/urandom >"$W/root/data.bin"
	echo hello >"$W/root/hello.txt"
	umoci init --layout "$W/oci" >/dev/null 2>&1 &&
	umoci new --image "$W/oci:v1" >/dev/null 2>&1 &&
	umoci insert --rootless --image "$W/oci:v1" "$W/root" /app >/dev/null 2>&1 &&
	umoci config --image "$W/oci:v1" --config.cmd /app/hello.txt >/dev/null 2>&1
	tap_ok $? "umoci built an image"
	skopeo copy -q --dest-cert-dir "$REG_CERTS" --dest-creds "$REG_USER:$REG_PASS" \
		"oci:$W/oci:v1" "docker://$REG/team/umoci:v1" >/dev/null 2>"$W/skopeo.err"
	tap_ok $? "skopeo pushed it"
	sdig=sha256:$(skopeo inspect --raw --cert-dir "$REG_CERTS" --creds "$REG_USER:$REG_PASS" \
		"docker://$REG/team/umoci:v1" | sha256sum | cut -d' ' -f1)
	out=$(regcli --user "$REG_USER" get-manifest "$REG" team/umoci v1 "$W/m.json" 2>&1)
	tap_like "$out" "$sdig" "our manifest digest equals skopeo's"
	ok=0 n=0
	for d in $(grep -o 'sha256:[0-9a-f]\{64\}' "$W/m.json"); do
		n=$((n + 1))
		got=$(regcli --user "$REG_USER" get-blob "$REG" team/umoci "$d" "$W/blob.$n" 2>&1) || ok=1
		[ "$got" = "$d" ] || ok=1
	done
	tap_ok $ok "config and $((n - 1)) layer(s) pulled and verified"
else
	for i in 1 2 3 4; do TAP_N=$((TAP_N + 1)); echo "ok $TAP_N # SKIP skopeo or umoci not installed"; done
fi
tap_done
