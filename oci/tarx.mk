# oci/tarx.mk: file trees to and from tar streams for cp and export
# (issue #8): the writer, the extractor that keeps a hostile archive inside
# its destination, their unit tests and the extractor's fuzz target.
SRCS += oci/tarx_write.c oci/tarx_extract.c
UNIT_TESTS += t/unit/oci_tarx.c
FUZZ_TARGETS += t/fuzz/tarx_extract.c
