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

.PHONY: all cross test check fuzz bench clean kernel need-config FORCE
all: $(OUT)/$(HOST_TARGET)/container
cross: $(foreach t,$(TARGETS),$(OUT)/$(t)/container)

need-config:
	@test -n "$(ZIG)" || { echo "Makefile: $(BUILD)/config.mk is missing: run ./build.sh first" >&2; exit 1; }

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

# --- cross-compiled static product binaries (zig cc) -----------------------
define target_rules
$(1)_CC := $$(ZIG) cc -target $$(triple_$(1))
$(1)_DEPS := $$(DEPS_$$(triple_$(1)))
$(1)_SRCS := main.c $$(SRCS) $$(SRCS_$$(os_$(1)))
$(1)_OBJS := $$(patsubst %.c,$$(BUILD)/$(1)/%.o,$$($(1)_SRCS))
$(1)_LDFLAGS := $$(if $$(filter linux,$$(os_$(1))),-static,)

$$(BUILD)/$(1)/%.o: %.c | need-config $$(GEN_VERSION)
	@mkdir -p $$(@D)
	@echo "  CC [$(1)] $$<"
	@$$($(1)_CC) $$(CSTD) $$(WARN) $$(OPT) $$(CPPFLAGS) -I$$($(1)_DEPS)/include \
		-DCONTAINER_TARGET='"$(1)"' -MMD -MP -c $$< -o $$@

$$(BUILD)/$(1)/applets/version.o: $$(GEN_VERSION)

$$(OUT)/$(1)/container: $$($(1)_OBJS)
	@mkdir -p $$(@D)
	@echo "  LD [$(1)] $$@"
	@$$($(1)_CC) $$($(1)_LDFLAGS) -o $$@ $$^ -L$$($(1)_DEPS)/lib $$(LIBS)

-include $$($(1)_OBJS:.o=.d)
endef
$(foreach t,$(TARGETS),$(eval $(call target_rules,$(t))))

# --- native dynamic builds for tests: plain and sanitized -------------------
# `native` links Debian's shared libraries (fast to build, what unit tests
# use); `asan` is the same with ASan + UBSan for `make check` (STYLE.md 12).
NATIVE_CC ?= cc
define native_rules
$(1)_OBJS := $$(patsubst %.c,$$(BUILD)/$(1)/%.o,$$(SRCS) $$(SRCS_linux))

$$(BUILD)/$(1)/%.o: %.c | $$(GEN_VERSION)
	@mkdir -p $$(@D)
	@echo "  CC [$(1)] $$<"
	@$$(NATIVE_CC) $$(CSTD) $$(WARN) $$(OPT) $$(CPPFLAGS) $(2) \
		-DCONTAINER_TARGET='"native"' -MMD -MP -c $$< -o $$@

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
		-DCONTAINER_TARGET='"fuzz"' -o $@ $< $(SRCS) $(SRCS_linux) $(LIBS)
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
		$(BUILD)/fuzz $(BUILD)/gen
