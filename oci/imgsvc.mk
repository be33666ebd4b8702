# oci/imgsvc.mk: the image service (issue #3, part 3): pull, push,
# credentials, save/load, and the `image` and `registry` commands.
#   pull.c    reference -> manifest -> parallel verified, resumable downloads
#   push.c    blobs (HEAD, mount, monolithic/chunked), manifests, indexes
#   creds.c   Docker config.json, credential helpers, registry connections
#   layout.c  save/load: OCI image-layout tar writer, OCI + docker-save reader
# Integration tests need docker-registry, openssl, htpasswd, node, skopeo,
# umoci and busybox-static (apt); they skip, saying which, when missing.
SRCS += oci/creds.c oci/pull.c oci/push.c oci/layout.c
SRCS += applets/image.c applets/registry.c
UNIT_TESTS += t/unit/oci_creds.c t/unit/oci_layout.c
SHELL_TESTS += t/integ/image_pull.sh t/integ/image_token.sh t/integ/image_hostile.sh
BENCHES += t/bench/pull.sh
