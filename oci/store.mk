# oci/: image references, OCI/Docker documents, the content store and the
# images index (issue #3, part 1).
#   ref.c       parse/normalize image references (distribution grammar)
#   manifest.c  index/manifest/config parsing, media types, --platform
#   store.c     content store: verified blobs, resumable ingest, GC
#   images.c    images.json: name -> top-level digest, quarantine
# Data-driven cases: t/data/manifest/{valid,invalid}/*.json.
SRCS += oci/ref.c oci/manifest.c oci/store.c oci/images.c
UNIT_TESTS += t/unit/oci_ref.c t/unit/oci_manifest.c t/unit/oci_store.c t/unit/oci_images.c
FUZZ_TARGETS += t/fuzz/ref_parse.c t/fuzz/manifest_parse.c
