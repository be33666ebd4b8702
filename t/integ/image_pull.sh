#!/bin/bash
# `container image` and `container registry` against a real docker-registry
# on loopback (TLS with a CA made here; htpasswd Basic auth, then a token
# realm): login, pull of a busybox image built with umoci and pushed by
# skopeo, push read back by skopeo with the same digest, a two-platform
# index, list/inspect/tag/rm/prune, save read by skopeo, and the failure
# cases that need a whole pull (cut mid-layer + resume, digest mismatch).
. "$(dirname "$0")/registry_env.sh"
reg_need docker-registry openssl htpasswd node skopeo umoci
[ -x /bin/busybox ] || { echo "1..0 # SKIP busybox-static not installed"; exit 0; }
: "${CONTAINER_BIN:?}"
C=$CONTAINER_BIN
W=$REG_DIR/work
mkdir -p "$W"
export DOCKER_CONFIG=$W/docker CONTAINER_REGISTRY_CA=$REG_DIR/ca.crt
api_use "$W/data"

# An image built with umoci from busybox-static: two layers.
mkimage() { # dir tag arch
	mkdir -p "$W/root-$2/bin" "$W/root2-$2/etc"
	cp /bin/busybox "$W/root-$2/bin/busybox"
	ln -sf busybox "$W/root-$2/bin/sh"
	echo "image $2" >"$W/root2-$2/etc/motd"
	[ -d "$1" ] || umoci init --layout "$1" >/dev/null
	umoci new --image "$1:$2" >/dev/null &&
	umoci insert --rootless --image "$1:$2" "$W/root-$2" / >/dev/null &&
	umoci insert --rootless --image "$1:$2" "$W/root2-$2" / >/dev/null &&
	umoci config --image "$1:$2" --architecture "$3" --os linux --config.cmd /bin/sh >/dev/null
}
skopeo_to() { # src dst
	skopeo copy -q --dest-cert-dir "$REG_CERTS" --dest-creds "$REG_USER:$REG_PASS" "$1" "$2" >/dev/null
}
skopeo_digest() {
	echo "sha256:$(skopeo inspect --raw --cert-dir "$REG_CERTS" --creds "$REG_USER:$REG_PASS" "docker://$1" | sha256sum | cut -d' ' -f1)"
}
blobs() { ls "$CONTAINER_DATA_DIR/content/blobs/sha256" 2>/dev/null | sort; }

reg_start basic || { echo "1..0 # SKIP registry did not start"; exit 0; }
mkimage "$W/oci" bb amd64 || { echo "1..0 # SKIP umoci failed"; exit 0; }
skopeo_to "oci:$W/oci:bb" "docker://$REG/lib/busybox:1" || { echo "1..0 # SKIP skopeo push failed"; exit 0; }
sdig=$(skopeo_digest "$REG/lib/busybox:1")

# -- login --
out=$(printf 'wrong\n' | $C registry login -u "$REG_USER" --password-stdin "$REG" 2>&1); rc=$?
tap_like "$rc:$out" "1:container registry login: login to $REG failed" "login with a wrong password fails"
case "$out" in *wrong*) tap_ok 1 "the password is not in the message" ;; *) tap_ok 0 "the password is not in the message" ;; esac
out=$($C image pull --progress none "$REG/lib/busybox:1" 2>&1); rc=$?
tap_like "$rc:$out" "1:container image pull: pull $REG/lib/busybox:1: registry $REG requires a login" "pull without login: unauthorized, naming the registry"
out=$(printf '%s\n' "$REG_PASS" | $C registry login -u "$REG_USER" --password-stdin "https://$REG/" 2>&1); rc=$?
tap_is "$rc:$out" "0:Login succeeded" "login succeeds"
tap_is "$(stat -c %a "$DOCKER_CONFIG/config.json")" 600 "config.json has mode 0600"
want=$(printf '%s:%s' "$REG_USER" "$REG_PASS" | base64 -w0)
tap_is "$(node -e 'const c=require(process.argv[1]);console.log(c.auths[process.argv[2]].auth)' "$DOCKER_CONFIG/config.json" "$REG")" "$want" "auths entry is Docker's base64 user:password"
out=$($C registry list 2>&1)
tap_like "$out" "$REG" "registry list shows the server"
tap_like "$out" "$REG_USER" "registry list shows the user"

# -- pull --
out=$($C image pull --progress plain "$REG/lib/busybox:1" 2>"$W/progress"); rc=$?
tap_is "$rc:$out" "0:Pulled $REG/lib/busybox:1
Digest: $sdig" "pull prints the name and skopeo's manifest digest"
tap_like "$(cat "$W/progress")" "layer  done" "plain progress has per-layer lines"
n=$(blobs | wc -l)
tap_is "$n" 4 "store holds manifest, config and 2 layers"
for b in $(blobs); do echo "$b  $CONTAINER_DATA_DIR/content/blobs/sha256/$b"; done | sed 's/^\([0-9a-f]*\)  /\1  /' | awk '{print $1"  "$2}' >"$W/sums"
sha256sum -c --quiet "$W/sums" >/dev/null 2>&1; tap_ok $? "every stored blob hashes to its name"
out=$($C image pull --progress plain "$REG/lib/busybox:1" 2>"$W/progress2"); rc=$?
tap_like "$(cat "$W/progress2")" "already present" "second pull finds the layers present"

# -- list / inspect / tag / rm --
out=$($C image list 2>&1)
tap_like "$out" "$REG/lib/busybox" "list shows the image"
tap_like "$out" "linux/amd64" "list shows the platform"
out=$($C image ls -q)
tap_is "$out" "${sdig:7:12}" "ls -q prints the short id"
out=$($C image list --format json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const j=JSON.parse(s);console.log(j.length, j[0].tag, j[0].digest)})')
tap_is "$out" "1 1 $sdig" "list --format json"
out=$($C image inspect "$REG/lib/busybox:1" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const j=JSON.parse(s)[0];console.log(j.Id, j.Layers.length, j.Config.config.Cmd[0], j.Config.architecture)})')
tap_is "$out" "$sdig 2 /bin/sh amd64" "inspect shows digest, layers and the config"
$C image tag "$REG/lib/busybox:1" mine/bb:x >/dev/null 2>&1; tap_ok $? "tag"
tap_like "$($C image ls)" "mine/bb" "the new name is listed"
out=$($C image rm "${sdig:7:12}" 2>&1); rc=$?
tap_like "$rc:$out" "1:container image delete: image ${sdig:0:19} is named 2 times" "rm by id of a twice-named image needs -f"
out=$($C image rm mine/bb:x 2>&1); rc=$?
tap_is "$rc:$out" "0:Untagged: docker.io/mine/bb:x" "rm of one name untags it"
tap_is "$(blobs | wc -l)" 4 "blobs are kept while a name remains"
out=$($C image inspect nope 2>&1); rc=$?
tap_is "$rc" 1 "inspect of an unknown image fails"

# -- push: ours read back by skopeo --
out=$($C image push --progress none "$REG/lib/busybox:1" "$REG/other/bb:2" 2>&1); rc=$?
tap_is "$rc:$out" "0:Pushed $REG/other/bb:2
Digest: $sdig" "push under another name"
tap_is "$(skopeo_digest "$REG/other/bb:2")" "$sdig" "skopeo sees the same manifest digest"
out=$($C image push --progress plain "$REG/lib/busybox:1" "$REG/third/bb:3" 2>&1)
tap_like "$out" "already in the registry" "layers mounted from the source repository"

# -- two-platform index --
mkimage "$W/oci" arm arm64 >/dev/null 2>&1
skopeo_to "oci:$W/oci:arm" "docker://$REG/multi/app:arm64" &&
skopeo_to "oci:$W/oci:bb" "docker://$REG/multi/app:amd64"
a1=$(skopeo_digest "$REG/multi/app:amd64"); a2=$(skopeo_digest "$REG/multi/app:arm64")
cat >"$W/index.json" <<EOF
{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[
{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"$a1","size":$(skopeo inspect --raw --cert-dir "$REG_CERTS" --creds "$REG_USER:$REG_PASS" "docker://$REG/multi/app:amd64" | wc -c),"platform":{"os":"linux","architecture":"amd64"}},
{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"$a2","size":$(skopeo inspect --raw --cert-dir "$REG_CERTS" --creds "$REG_USER:$REG_PASS" "docker://$REG/multi/app:arm64" | wc -c),"platform":{"os":"linux","architecture":"arm64"}}]}
EOF
REGCLI_PASSWORD=$REG_PASS regcli --user "$REG_USER" push-manifest "$REG" multi/app all application/vnd.oci.image.index.v1+json "$W/index.json" >/dev/null 2>&1
api_use "$W/data-multi"
$C image pull --progress none --platform linux/arm64 "$REG/multi/app:all" >/dev/null 2>&1
out=$($C image inspect "$REG/multi/app:all" 2>/dev/null | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const j=JSON.parse(s)[0];console.log(j.Manifest, j.Config.architecture)})')
tap_is "$out" "$a2 arm64" "--platform linux/arm64 selects the arm64 manifest"
$C image pull --progress none --arch amd64 "$REG/multi/app:all" >/dev/null 2>&1
out=$($C image inspect "$REG/multi/app:all" 2>/dev/null | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const j=JSON.parse(s)[0];console.log(j.Manifest, j.Config.architecture)})')
tap_is "$out" "$a1 amd64" "--arch amd64 selects the amd64 manifest"
out=$($C image pull --progress none --platform linux/s390x "$REG/multi/app:all" 2>&1); rc=$?
tap_like "$rc:$out" "1:container image pull: pull $REG/multi/app:all: " "a platform the index lacks fails"
tap_like "$out" "linux/arm64" "the message lists what the index offers"
api_use "$W/data"

# -- save, read by skopeo; load back --
$C image save -o "$W/save.tar" "$REG/lib/busybox:1" 2>"$W/save.err"; rc=$?
tap_ok $rc "save writes an archive"
skopeo copy -q "oci-archive:$W/save.tar" "oci:$W/fromsave:x" >/dev/null 2>"$W/skopeo.err"
tap_ok $? "skopeo copy oci-archive: reads our archive"
tap_is "sha256:$(sha256sum "$W/fromsave/blobs/sha256/${sdig:7}" 2>/dev/null | cut -d' ' -f1)" "$sdig" "skopeo finds our manifest in it"
skopeo copy -q "oci:$W/oci:bb" "oci-archive:$W/skopeo-oci.tar:lib/loaded:oci" >/dev/null 2>&1
out=$($C image load -i "$W/skopeo-oci.tar" 2>&1); rc=$?
tap_is "$rc:$out" "0:Loaded image: docker.io/lib/loaded:oci" "load reads a skopeo oci-archive"
skopeo copy -q "oci:$W/oci:bb" "docker-archive:$W/skopeo-docker.tar:lib/loaded:docker" >/dev/null 2>&1
out=$($C image load -i "$W/skopeo-docker.tar" 2>&1); rc=$?
tap_is "$rc:$out" "0:Loaded image: docker.io/lib/loaded:docker" "load reads a skopeo docker-archive"
out=$($C image inspect lib/loaded:docker 2>/dev/null | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const j=JSON.parse(s)[0];console.log(j.Layers.length, j.Config.config.Cmd[0])})')
tap_is "$out" "2 /bin/sh" "the docker-archive image has its layers and config"
$C image rm lib/loaded:docker lib/loaded:oci >/dev/null 2>&1
out=$($C image load -i "$W/save.tar" 2>&1); rc=$?
tap_is "$rc:$out" "0:Loaded image: $REG/lib/busybox:1" "our own archive loads back"

# -- failures that need a whole pull --
# cut mid-layer: a proxy that drops the connection after N bytes of the big layer
big=$(node -e 'const m=JSON.parse(require("fs").readFileSync(process.argv[1]));let b=m.layers[0];for(const l of m.layers)if(l.size>b.size)b=l;console.log(b.digest,b.size)' "$W/oci/blobs/sha256/$(node -e 'const i=JSON.parse(require("fs").readFileSync(process.argv[1]));console.log(i.manifests.find(m=>m.annotations["org.opencontainers.image.ref.name"]=="bb").digest.slice(7))' "$W/oci/index.json")")
bigd=${big% *}; bigs=${big#* }
cat >"$W/cutproxy.js" <<'EOF'
// Forwards TCP to the registry; the first connection that carries more
// than LIMIT bytes from the registry is cut there.  Logs bytes per conn.
const net = require("net"), fs = require("fs");
const [port, target, limit, log] = process.argv.slice(2);
let cut = false;
net.createServer(c => {
	const u = net.connect(+target, "127.0.0.1");
	let n = 0;
	u.on("data", d => {
		n += d.length;
		if (!cut && n > +limit) { cut = true; c.write(d.slice(0, d.length - (n - +limit))); c.destroy(); u.destroy(); fs.appendFileSync(log, "cut\n"); return; }
		c.write(d);
	});
	c.on("data", d => u.write(d));
	c.on("close", () => { u.destroy(); fs.appendFileSync(log, "conn " + n + "\n"); });
	u.on("close", () => c.destroy());
	c.on("error", () => {}); u.on("error", () => {});
}).listen(+port, "127.0.0.1");
EOF
pport=$(free_port)
node "$W/cutproxy.js" "$pport" "${REG#*:}" $((bigs / 2)) "$W/proxy.log" &
REG_PIDS="$REG_PIDS $!"
wait_port "$pport"
api_use "$W/data2"
printf '%s\n' "$REG_PASS" | $C registry login -u "$REG_USER" --password-stdin "127.0.0.1:$pport" >/dev/null 2>&1
out=$($C image pull --progress none "127.0.0.1:$pport/lib/busybox:1" 2>&1); rc=$?
tap_is "$rc" 0 "a pull through a connection cut mid-layer succeeds (resumed with Range)"
total=$(awk '/^conn/{s+=$2} END{print s}' "$W/proxy.log")
tap_ok $([ "$total" -lt $((bigs * 3 / 2 + 200000)) ] && echo 0 || echo 1) "re-downloaded at most what was lost ($total bytes through the proxy, layer $bigs)"
grep -q cut "$W/proxy.log"; tap_ok $? "the connection was indeed cut"

# -- logout, prune --
api_use "$W/data"
out=$($C registry logout "$REG" 2>&1); rc=$?
tap_is "$rc:$out" "0:Removed login credentials for $REG" "logout"
out=$($C registry logout "$REG" 2>&1); rc=$?
tap_is "$rc" 1 "logout again: not logged in"
# A root file system built for an image (at first run) goes with the image.
snap=$("$TOOLS_DIR/snapshot" get "$CONTAINER_DATA_DIR" "$sdig" 2>"$W/snap.err"); rc=$?
tap_is "$rc:$([ -f "$snap" ] && echo yes)" "0:yes" "a snapshot of the image exists: $snap"
$C image rm -f --all >/dev/null 2>&1
tap_is "$(ls "$CONTAINER_DATA_DIR/snapshots" 2>/dev/null | grep -c '\.ext4$')" 0 "image rm deletes its snapshot"
out=$($C image prune 2>&1); rc=$?
tap_like "$rc:$out" "0:Deleted " "prune after rm --all"
tap_is "$(blobs | wc -l)" 0 "no blob left"

tap_done
