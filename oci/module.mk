# oci/: images, registry client, content store, tar, ext4.  Areas with
# several files have their own fragment (oci/*.mk).
SRCS += oci/digest.c
UNIT_TESTS += t/unit/oci_digest.c
