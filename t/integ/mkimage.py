#!/usr/bin/env python3
"""Build a small test image as a `docker save` tarball, for `container image
load`: one layer holding a static busybox with its applet links, /etc/passwd
and /etc/group (root, nobody, a user "app" with a supplementary group), plus
optional image config fields.  Test-only (t/integ/run.sh, t/bench/run.sh).

usage: mkimage.py OUT.tar NAME:TAG ARCH BUSYBOX [CONFIG-JSON]
  ARCH      amd64 | arm64 (the image config's architecture)
  CONFIG    the image config's "config" object, e.g. '{"User":"nobody"}'
  MKIMAGE_EXTRA=HOST:BIN (environment): also put the executable HOST at
            /bin/BIN (t/integ/net.sh adds a static UDP echo server)
"""
import hashlib, io, json, os, sys, tarfile

APPLETS = ("sh cat echo id ls wc sleep true false stty uname head tr sha256sum dd "
           "mkdir touch rm env pwd kill ps grep sed seq hostname printf test "
           "nc httpd nslookup wget ifconfig ip ping cut timeout route").split()
PASSWD = b"root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n" \
         b"nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
GROUP = b"root:x:0:\napp:x:1000:\naudio:x:29:app\nnogroup:x:65534:\n"


def add(t, name, data=None, mode=0o644, kind=tarfile.REGTYPE, link=""):
    ti = tarfile.TarInfo(name)
    ti.mode, ti.type, ti.linkname, ti.mtime = mode, kind, link, 1700000000
    if data is not None:
        ti.size = len(data)
    t.addfile(ti, io.BytesIO(data) if data is not None else None)


def main():
    out, ref, arch, busybox = sys.argv[1:5]
    cfg = json.loads(sys.argv[5]) if len(sys.argv) > 5 else {}
    layer = io.BytesIO()
    with tarfile.open(fileobj=layer, mode="w", format=tarfile.PAX_FORMAT) as t:
        for d in ("bin", "etc", "root", "home", "home/app", "tmp", "srv", "proc", "sys", "dev"):
            add(t, d, mode=0o1777 if d == "tmp" else 0o755, kind=tarfile.DIRTYPE)
        add(t, "bin/busybox", open(busybox, "rb").read(), 0o755)
        for a in APPLETS:
            add(t, "bin/" + a, kind=tarfile.SYMTYPE, link="busybox")
        add(t, "etc/passwd", PASSWD)
        add(t, "etc/group", GROUP)
        add(t, "srv/marker", b"from the image\n")
        for extra in filter(None, os.environ.get("MKIMAGE_EXTRA", "").split(",")):
            src, name = extra.rsplit(":", 1)
            add(t, "bin/" + name, open(src, "rb").read(), 0o755)
    layer = layer.getvalue()
    diff = "sha256:" + hashlib.sha256(layer).hexdigest()
    cfg.setdefault("Env", ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"])
    cfg.setdefault("Cmd", ["/bin/sh"])
    config = json.dumps({"architecture": arch, "os": "linux", "config": cfg,
                         "rootfs": {"type": "layers", "diff_ids": [diff]}}).encode()
    cname = hashlib.sha256(config).hexdigest() + ".json"
    manifest = json.dumps([{"Config": cname, "RepoTags": [ref], "Layers": ["layer.tar"]}]).encode()
    with tarfile.open(out, "w") as t:
        add(t, cname, config)
        add(t, "layer.tar", layer)
        add(t, "manifest.json", manifest)


main()
