# libFuzzer targets for what the host controls (and what the guest owner
# writes, parsed defensively): the token, LUKS headers as bytes, LUKS2
# metadata behind valid checksums (header policy and MAC), the kernel
# command line and crypttab. Built with clang, ASan and UBSan.
#
#   make fuzz                 every target for FUZZ_SECONDS (default 60) each
#   make fuzz FUZZ_RUNS=N     every target for N executions each
#   make fuzz-build           only build them ($(BUILD)/fuzz/fuzz-*)
#
# Corpora: tests/fuzz/corpus/TARGET/ are the seeds (committed); what a run
# finds goes to $(BUILD)/fuzz/corpus-TARGET/. make check runs each target
# for about 12 s (tests/fuzz/run-fuzz.sh, phase fuzz).

FUZZ_CC ?= clang
FUZZ_DIR = $(BUILD)/fuzz
FUZZ_TARGETS := token luks-header header-policy cmdline crypttab
FUZZ_BINS = $(addprefix $(FUZZ_DIR)/fuzz-,$(FUZZ_TARGETS))
FUZZ_SANITIZE := -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS = -std=c11 -D_GNU_SOURCE -DVERSION='"$(VERSION)"' -Ishared -Iagent -Itests/fuzz \
	-g -O1 -fno-omit-frame-pointer $(FUZZ_SANITIZE) -Wall -Wextra -Werror -Wno-unused-parameter \
	$(shell $(PKG_CONFIG) --cflags $(AGENT_LIBS_PC))
FUZZ_LIB_SRCS = $(AGENT_LIB_SRCS) $(SHARED_SRCS)
FUZZ_LIB_OBJS = $(patsubst %.c,$(FUZZ_DIR)/obj/%.o,$(FUZZ_LIB_SRCS))
FUZZ_SECONDS ?= 60

$(FUZZ_DIR)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(say) FUZZCC $@
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_DIR)/fuzz-%: tests/fuzz/fuzz-%.c $(FUZZ_LIB_OBJS) tests/fuzz/fuzz.h
	@mkdir -p $(dir $@)
	$(say) FUZZLD $@
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_LIB_OBJS) $(AGENT_LIBS)

# Kept between runs (make would delete them as intermediate files).
.SECONDARY: $(FUZZ_LIB_OBJS)

.PHONY: fuzz fuzz-build
fuzz-build:
	@scripts/install-deps.sh build fuzz
	@$(MAKE) --no-print-directory $(FUZZ_BINS)

fuzz: fuzz-build
	@FUZZ_DIR=$(abspath $(FUZZ_DIR)) FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_RUNS=$(FUZZ_RUNS) \
		TOP=$(CURDIR) tests/fuzz/run-fuzz.sh $(FUZZ_TARGETS)

CHECK_DEPS += fuzz
