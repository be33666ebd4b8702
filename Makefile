# container — build, test, check, fuzz, bench.
#
# ./build.sh installs the toolchains and dependencies and writes
# .build/config.mk (zig and the per-target dependency prefixes); this
# Makefile only compiles.  Each source directory describes itself in
# <dir>/*.mk by appending to SRCS, SRCS_linux, SRCS_darwin, UNIT_TESTS,
# FUZZ_TARGETS, SHELL_TESTS and TEST_TOOLS.
#
#   make            the host binary, out/<host-target>/container (static)
#   make cross      every target: linux-amd64, linux-arm64, darwin-arm64
#   make test       unit tests, fuzz corpus replay, CLI and integration tests
#   make check      unit tests built with ASan + UBSan (dynamic build)
#   make fuzz       libFuzzer targets (clang), FUZZ_SECONDS each
#   make kernel     the guest kernel(s), KERNEL_ARCHES="x86_64 arm64" (cached)
#   make release    out/release/<target>/container: stripped, kernels embedded
#   make bench      benchmarks, as tables
#   make clean

VERSION := 0.1.0
BUILD := .build
OUT := out
-include $(BUILD)/config.mk

SRCS :=
SRCS_linux :=
SRCS_darwin :=
UNIT_TESTS :=
FUZZ_TARGETS :=
SHELL_TESTS :=
TEST_TOOLS :=
BENCHES :=
include $(sort $(wildcard lib/*.mk applets/*.mk oci/*.mk vm/*.mk initrd/*.mk net/*.mk t/*.mk))

HOST_ARCH := $(shell uname -m)
HOST_TARGET := $(if $(filter aarch64 arm64,$(HOST_ARCH)),linux-arm64,linux-amd64)
TARGETS := linux-amd64 linux-arm64 darwin-arm64
triple_linux-amd64 := x86_64-linux-musl
triple_linux-arm64 := aarch64-linux-musl
triple_darwin-arm64 := aarch64-macos
os_linux-amd64 := linux
os_linux-arm64 := linux
os_darwin-arm64 := darwin

WARN := -Wall -Wextra -Werror -Wformat=2 -Wshadow -Wvla
CSTD := -std=gnu11 -D_GNU_SOURCE
CPPFLAGS := -I. -I$(BUILD)
OPT ?= -O2 -g
LIBS := -luv -lmbedtls -lmbedx509 -lmbedcrypto -ljansson -lzstd -lz -lpthread

GEN_VERSION := $(BUILD)/gen/version.h
# A copy of config.mk rewritten only when its content changes: every object
# depends on it, so new dependency builds (a changed deps key) recompile
# everything, while build.sh rewriting the same config recompiles nothing.
CONFIG_STAMP := $(BUILD)/gen/config-stamp

.PHONY: all cross release test check fuzz bench clean kernel need-config FORCE
all: $(OUT)/$(HOST_TARGET)/container
cross: $(foreach t,$(TARGETS),$(OUT)/$(t)/container)

need-config:
	@test -n "$(ZIG)" || { echo "Makefile: $(BUILD)/config.mk is missing: run ./build.sh first" >&2; exit 1; }

$(CONFIG_STAMP): FORCE
	@mkdir -p $(@D)
	@cat $(BUILD)/config.mk > $@.tmp 2>/dev/null; cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@

# Build facts; the header is rewritten only when they change, so a rebuild
# with nothing new relinks nothing.
$(GEN_VERSION): FORCE
	@mkdir -p $(@D)
	@commit=$$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown); \
	 git diff --quiet HEAD -- 2>/dev/null || commit="$$commit-dirty"; \
	 day=$$(date -u $${SOURCE_DATE_EPOCH:+-d @$$SOURCE_DATE_EPOCH} +%Y-%m-%d); \
	 printf '#define CONTAINER_VERSION "%s"\n#define CONTAINER_COMMIT "%s"\n#define CONTAINER_BUILD_DATE "%s"\n' \
	   "$(VERSION)" "$$commit" "$$day" > $@.tmp; \
	 cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@

# --- embedded blobs (initrd/blobs.h) ---------------------------------------
# Each linux target also links a blob-less, stripped container-guest from
# the same objects: it is /init of the initramfs for its architecture.  The
# host binaries embed the initramfs of every guest arch they can run (and,
# in `make release`, the kernels) through initrd/blobs_data.S, assembled
# once per variant: none (guest binaries, native tests), dev, release.
BLOBS_S := initrd/blobs_data.S
guest_target_x86_64 := linux-amd64
guest_target_aarch64 := linux-arm64
blob_arches_linux-amd64 := x86_64 aarch64
blob_arches_linux-arm64 := aarch64
blob_arches_darwin-arm64 := aarch64
kernel_arch_x86_64 := x86_64
kernel_arch_aarch64 := arm64
blob_sym_x86_64 := X86_64
blob_sym_aarch64 := AARCH64
# The embedded initramfs is the raw cpio: gzip halves it (1.5 MiB -> 0.7
# MiB per arch) but the kernel's gunzip added ~40 ms to the time to /init
# under TCG (aarch64 median 0.228 s -> 0.271 s; x86_64 0.270 s -> 0.309 s),
# and boot time is the product.  INITRAMFS_COMPRESS=gzip embeds .cpio.gz
# (the kernel has CONFIG_RD_GZIP and CONFIG_RD_ZSTD).
INITRAMFS_COMPRESS ?= none
$(if $(filter-out none gzip,$(INITRAMFS_COMPRESS)),$(error INITRAMFS_COMPRESS must be none or gzip))
initramfs_ext := $(if $(filter gzip,$(INITRAMFS_COMPRESS)),.gz,)
initramfs = $(BUILD)/initramfs-$(1).cpio$(initramfs_ext)
# Rewritten only when the setting changes, so switching it rebuilds the blobs.
INITRAMFS_STAMP := $(BUILD)/gen/initramfs-compress
$(INITRAMFS_STAMP): FORCE
	@mkdir -p $(@D)
	@echo "$(INITRAMFS_COMPRESS)" > $@.tmp; cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@

MKINITRAMFS := $(BUILD)/tools/mkinitramfs
MKINITRAMFS_SRCS := initrd/mkinitramfs.c initrd/cpio.c lib/buf.c lib/err.c lib/fs.c lib/mem.c
$(MKINITRAMFS): $(MKINITRAMFS_SRCS) initrd/cpio.h lib/buf.h lib/err.h lib/fs.h lib/mem.h
	@mkdir -p $(@D)
	@echo "  CC [tool] $@"
	@$(NATIVE_CC) $(CSTD) $(WARN) -O2 $(CPPFLAGS) -o $@ $(MKINITRAMFS_SRCS)

define initramfs_rules
$$(BUILD)/initramfs-$(1).cpio: $$(BUILD)/$$(guest_target_$(1))/container-guest $$(MKINITRAMFS)
	@echo "  CPIO $$@"
	@$$(MKINITRAMFS) $$@ $$<

$$(BUILD)/initramfs-$(1).cpio.gz: $$(BUILD)/initramfs-$(1).cpio
	@echo "  GZIP $$@"
	@gzip -9 -n -c $$< > $$@.tmp && mv $$@.tmp $$@

# The release kernel, copied from initrd/kernel/build.sh's cache whenever
# it differs (so the blob object is rebuilt exactly when the kernel changed).
$$(BUILD)/release/kernel-$(1): FORCE
	@mkdir -p $$(@D)
	@k=$$$$(initrd/kernel/build.sh --cached $$(kernel_arch_$(1))) || { \
		echo "Makefile: no $(1) kernel built: run 'make kernel KERNEL_ARCHES=\"$$(kernel_arch_$(1))\"' first" >&2; \
		exit 1; }; \
	 cmp -s "$$$$k" $$@ || { cp "$$$$k" $$@.tmp && mv $$@.tmp $$@; }
endef
$(foreach a,x86_64 aarch64,$(eval $(call initramfs_rules,$(a))))

# asm_blobs TARGET-CC OUT DEFINES: assemble the blob stub.
# zig caches objects by their preprocessed source, which does not show the
# .incbin'd files: a checksum of those on the command line makes a changed
# blob a new cache key (else a stale guest is embedded).
asm_blobs = $(1) -c -x assembler-with-cpp $(BLOBS_S) -o $(2) $(3) \
	-DBLOBS_KEY=$$(cat $(filter-out $(BLOBS_S),$^) /dev/null | cksum | tr ' ' _)
blob_def = -D$(1)_$(blob_sym_$(2))='"$(abspath $(3))"'

# --- cross-compiled static product binaries (zig cc) -----------------------
define target_rules
$(1)_CC := $$(ZIG) cc -target $$(triple_$(1))
$(1)_DEPS := $$(DEPS_$$(triple_$(1)))
$(1)_SRCS := main.c $$(SRCS) $$(SRCS_$$(os_$(1)))
$(1)_OBJS := $$(patsubst %.c,$$(BUILD)/$(1)/%.o,$$($(1)_SRCS))
$(1)_LDFLAGS := $$(if $$(filter linux,$$(os_$(1))),-static,)
$(1)_INITRAMFS := $$(foreach a,$$(blob_arches_$(1)),$$(call initramfs,$$(a)))
$(1)_KERNELS := $$(foreach a,$$(blob_arches_$(1)),$$(BUILD)/release/kernel-$$(a))

$$(BUILD)/$(1)/%.o: %.c $$(CONFIG_STAMP) | need-config $$(GEN_VERSION)
	@mkdir -p $$(@D)
	@echo "  CC [$(1)] $$<"
	@$$($(1)_CC) $$(CSTD) $$(WARN) $$(OPT) $$(CPPFLAGS) -I$$($(1)_DEPS)/include \
		-DCONTAINER_TARGET='"$(1)"' -MMD -MP -c $$< -o $$@

$$(BUILD)/$(1)/applets/version.o: $$(GEN_VERSION)

$$(BUILD)/$(1)/blobs/none.o: $$(BLOBS_S) | need-config
	@mkdir -p $$(@D)
	@$$(call asm_blobs,$$($(1)_CC),$$@,)

$$(BUILD)/$(1)/blobs/dev.o: $$(BLOBS_S) $$($(1)_INITRAMFS) $$(INITRAMFS_STAMP) | need-config
	@mkdir -p $$(@D)
	@echo "  AS [$(1)] $$@ ($$(blob_arches_$(1)) initramfs)"
	@$$(call asm_blobs,$$($(1)_CC),$$@,$$(foreach a,$$(blob_arches_$(1)),$$(call blob_def,INITRAMFS,$$(a),$$(call initramfs,$$(a)))))

$$(BUILD)/$(1)/blobs/release.o: $$(BLOBS_S) $$($(1)_INITRAMFS) $$($(1)_KERNELS) $$(INITRAMFS_STAMP) | need-config
	@mkdir -p $$(@D)
	@echo "  AS [$(1)] $$@ ($$(blob_arches_$(1)) initramfs + kernel)"
	@$$(call asm_blobs,$$($(1)_CC),$$@,$$(foreach a,$$(blob_arches_$(1)),$$(call blob_def,INITRAMFS,$$(a),$$(call initramfs,$$(a))) $$(call blob_def,KERNEL,$$(a),$$(BUILD)/release/kernel-$$(a))))

$$(BUILD)/$(1)/container-guest: $$($(1)_OBJS) $$(BUILD)/$(1)/blobs/none.o
	@echo "  LD [$(1)] $$@ (guest)"
	@$$($(1)_CC) $$($(1)_LDFLAGS) -s -o $$@ $$^ -L$$($(1)_DEPS)/lib $$(LIBS)

$$(OUT)/$(1)/container: $$($(1)_OBJS) $$(BUILD)/$(1)/blobs/dev.o
	@mkdir -p $$(@D)
	@echo "  LD [$(1)] $$@"
	@$$($(1)_CC) $$($(1)_LDFLAGS) -o $$@ $$^ -L$$($(1)_DEPS)/lib $$(LIBS)

$$(OUT)/release/$(1)/container: $$($(1)_OBJS) $$(BUILD)/$(1)/blobs/release.o
	@mkdir -p $$(@D)
	@echo "  LD [$(1)] $$@ (release)"
	@$$($(1)_CC) $$($(1)_LDFLAGS) -s -o $$@ $$^ -L$$($(1)_DEPS)/lib $$(LIBS)

-include $$($(1)_OBJS:.o=.d)
endef
$(foreach t,$(TARGETS),$(eval $(call target_rules,$(t))))

release: $(foreach t,$(TARGETS),$(OUT)/release/$(t)/container)

# --- native dynamic builds for tests: plain and sanitized -------------------
# `native` links Debian's shared libraries (fast to build, what unit tests
# use); `asan` is the same with ASan + UBSan for `make check` (STYLE.md 12).
NATIVE_CC ?= cc
define native_rules
$(1)_OBJS := $$(patsubst %.c,$$(BUILD)/$(1)/%.o,$$(SRCS) $$(SRCS_linux)) \
	$$(BUILD)/$(1)/blobs/none.o

$$(BUILD)/$(1)/%.o: %.c $$(CONFIG_STAMP) | $$(GEN_VERSION)
	@mkdir -p $$(@D)
	@echo "  CC [$(1)] $$<"
	@$$(NATIVE_CC) $$(CSTD) $$(WARN) $$(OPT) $$(CPPFLAGS) $(2) \
		-DCONTAINER_TARGET='"native"' -MMD -MP -c $$< -o $$@

# No blobs in test builds: blobs_initramfs() says -ENOENT.
$$(BUILD)/$(1)/blobs/none.o: $$(BLOBS_S)
	@mkdir -p $$(@D)
	@$$(NATIVE_CC) $(2) -c -x assembler-with-cpp $$(BLOBS_S) -o $$@

$$(BUILD)/$(1)/libcontainer.a: $$($(1)_OBJS)
	@rm -f $$@
	@ar rcs $$@ $$^

$$(BUILD)/$(1)/t/%: t/%.c $$(BUILD)/$(1)/libcontainer.a
	@mkdir -p $$(@D)
	@echo "  CC [$(1)] $$<"
	@$$(NATIVE_CC) $$(CSTD) $$(WARN) $$(OPT) $$(CPPFLAGS) $(2) -MMD -MP -o $$@ $$< \
		$$(BUILD)/$(1)/libcontainer.a $$(LIBS)

# Fuzz targets linked with the replay main(), so `make test` replays corpora.
$$(BUILD)/$(1)/fuzz/%: t/fuzz/%.c t/fuzz/replay.c $$(BUILD)/$(1)/libcontainer.a
	@mkdir -p $$(@D)
	@echo "  CC [$(1)] $$< (replay)"
	@$$(NATIVE_CC) $$(CSTD) $$(WARN) $$(OPT) $$(CPPFLAGS) $(2) -o $$@ $$< t/fuzz/replay.c \
		$$(BUILD)/$(1)/libcontainer.a $$(LIBS)

-include $$($(1)_OBJS:.o=.d)
endef
SAN := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
$(eval $(call native_rules,native,))
$(eval $(call native_rules,asan,$(SAN)))

unit_bins = $(patsubst t/%.c,$(BUILD)/$(1)/t/%,$(UNIT_TESTS))
tool_bins = $(patsubst t/%.c,$(BUILD)/$(1)/t/%,$(TEST_TOOLS))
fuzz_bins = $(patsubst t/fuzz/%.c,$(BUILD)/$(1)/fuzz/%,$(FUZZ_TARGETS))

# --- tests -----------------------------------------------------------------
# t/run.sh runs everything under prove and ends with "N passed, N failed".
TEST_ENV = CONTAINER_BIN=$(abspath $(OUT)/$(HOST_TARGET)/container) \
	CONTAINER_BIN_ARM64=$(abspath $(OUT)/linux-arm64/container) \
	BUSYBOX_ARM64=$(BUSYBOX_ARM64) \
	TOOLS_DIR=$(abspath $(BUILD)/native/t/tools) \
	FUZZ_DIR=$(abspath $(BUILD)/native/fuzz) \
	SRCDIR=$(CURDIR)

test: all $(call unit_bins,native) $(call tool_bins,native) $(call fuzz_bins,native)
	@$(TEST_ENV) t/run.sh $(call unit_bins,native) \
		$(if $(FUZZ_TARGETS),t/fuzz/replay.sh) $(SHELL_TESTS)

check: $(call unit_bins,asan)
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		t/run.sh $(call unit_bins,asan)

# --- fuzzing (libFuzzer, clang) --------------------------------------------
FUZZ_SECONDS ?= 60
FUZZ_CC ?= clang
$(BUILD)/fuzz/%: t/fuzz/%.c $(SRCS) $(SRCS_linux) | $(GEN_VERSION)
	@mkdir -p $(@D)
	@echo "  FUZZ $<"
	@$(FUZZ_CC) $(CSTD) $(CPPFLAGS) -g -O1 -fsanitize=fuzzer,address,undefined \
		-DCONTAINER_TARGET='"fuzz"' -o $@ $< $(SRCS) $(SRCS_linux) $(BLOBS_S) $(LIBS)
fuzz: $(patsubst t/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_TARGETS))
	@for f in $^; do n=$$(basename $$f); mkdir -p $(BUILD)/fuzz-corpus/$$n; \
		echo "fuzz $$n for $(FUZZ_SECONDS)s"; \
		$$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
			$(BUILD)/fuzz-corpus/$$n t/fuzz/corpus/$$n || exit 1; done

# --- guest kernel ------------------------------------------------------------
# Built from Debian's linux-source with initrd/kernel/<arch>.config, cached
# outside the tree keyed by a hash of its inputs; prints the kernel's path.
KERNEL_ARCHES ?= $(if $(filter linux-arm64,$(HOST_TARGET)),arm64,x86_64)
kernel:
	@for a in $(KERNEL_ARCHES); do initrd/kernel/build.sh $$a || exit 1; done

# --- benchmarks ------------------------------------------------------------
bench: all $(call tool_bins,native)
	@$(TEST_ENV) t/bench/run.sh $(BENCHES)

clean:
	rm -rf $(OUT) $(BUILD)/linux-* $(BUILD)/darwin-* $(BUILD)/native $(BUILD)/asan \
		$(BUILD)/fuzz $(BUILD)/gen $(BUILD)/tools $(BUILD)/release $(BUILD)/initramfs-*
