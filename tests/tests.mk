# The test suite. `make check` runs every phase, keeps going after a
# failing phase so the report is whole, and fails at the end if any test
# failed. Phases:
#   unit    C unit tests of the agent's parsers and helpers
#   scripts the test helpers themselves (absence checks fail on runs that
#           did not happen) and the project's shell tools
#   agent   the real coco-unlock binary against LUKS image files (--dry-run)
#   secret  coco-secret (tables, enrollment)
#   plugin  the token plugin under the cryptsetup CLI, found through a
#           private mount namespace (tests/plugin/)
#   hooks   the mkinitcpio hook against mkinitcpio's documented contract, the
#           initramfs-tools hook and scripts in fake images (tests/initramfs-tools)
#   asan    unit + agent + secret + plugin again, built with ASan and UBSan
#   fuzz    each libFuzzer target for 12 s (tests/fuzz/fuzz.mk)
#   package lintian on the package the real-system boots install (tools/deb)
#   static  the agent tests again (not valgrind's), with the static build
#   boot-6.1, boot-6.12  QEMU boots with a real kernel's efi_secret, on
#           Debian 12's two kernel lines (BOOT_KERNELS)
# Other fragments add to SECRET_TESTS, PLUGIN_TESTS, BOOT_TESTS and CHECK_DEPS.

RUN_TESTS := tests/run-tests.sh
comma := ,
RESULTS = $(BUILD)/test-results
UNIT_TEST_NAMES := $(patsubst tests/unit/%.c,%,$(wildcard tests/unit/test-*.c))
UNIT_TEST_BINS = $(addprefix $(BUILD)/tests/,$(UNIT_TEST_NAMES))
AGENT_TESTS := $(sort $(wildcard tests/agent/test-*.sh))
SCRIPT_TESTS := $(sort $(wildcard tests/scripts/test-*.sh))
# The agent tests the static build (what initramfs images ship) runs too:
# all but valgrind's, now that its crypto needs nothing from the host's
# kernel (a host without AF_ALG runs them all).
STATIC_AGENT_TESTS := $(filter-out tests/agent/test-valgrind.sh,$(AGENT_TESTS))
SECRET_TESTS ?=
PLUGIN_TESTS ?=
HOOK_TESTS ?=
BOOT_TESTS ?=
# Files the boot tests need beyond boot-prereqs (the package, system.mk).
BOOT_TEST_PREREQS ?=
# The package phase's tests and what they need built (the .deb).
PACKAGE_TESTS ?=
PACKAGE_TEST_PREREQS ?=
BOOT_COCO_UNLOCK ?= $(abspath $(BUILD))/coco-unlock
CHECK_DEPS ?=
# Programs a phase's tests need built.
CHECK_PROGRAMS = $(BUILD)/coco-unlock $(UNIT_TEST_BINS) $(CHECK_EXTRA_PROGRAMS)

test_env = TOP=$(CURDIR) BUILD=$(abspath $(1)) CACHE=$(CACHE) \
	COCO_UNLOCK=$(abspath $(1))/coco-unlock COCO_SECRET=$(abspath $(1))/coco-secret \
	SANITIZED=$(2)

$(BUILD)/tests/test-%: tests/unit/test-%.c $(AGENT_LIB_OBJS) $(SHARED_LIB)
	@mkdir -p $(dir $@)
	$(say) CCLD $@
	$(Q)$(CC) $(ALL_CFLAGS) -Iagent -o $@ $< $(AGENT_LIB_OBJS) $(SHARED_LIB) $(LDFLAGS) $(AGENT_LIBS)

# LD_PRELOAD shims for the tests of what a hostile disk makes libcryptsetup
# do (tests/plugin/test-plugin-reads.sh): flip-disk.so serves another
# file to chosen opens of an image, fake-dm.so stands in for libdevmapper
# and logs the tables libcryptsetup would load. Built as the rest of the
# build is (with ASan in build-asan: preloaded after libasan there).
SHIM_CFLAGS = $(filter-out -fPIE -D_FORTIFY_SOURCE=2,$(ALL_CFLAGS)) -fPIC -fvisibility=hidden
SHIM_LDFLAGS = -shared -Wl,-z,relro,-z,now $(filter -fsanitize=%,$(LDFLAGS))
TEST_SHIMS = $(BUILD)/tests/flip-disk.so $(BUILD)/tests/fake-dm.so

$(BUILD)/tests/flip-disk.so: tests/lib/flip-disk.c
	@mkdir -p $(dir $@)
	$(say) CCLD $@
	$(Q)$(CC) $(SHIM_CFLAGS) -o $@ $< $(SHIM_LDFLAGS)

# Its own copy of shared/crypto-hash.c: the log shows keys only as their SHA-256.
$(BUILD)/tests/fake-dm.so: tests/lib/fake-dm.c shared/crypto-hash.c
	@mkdir -p $(dir $@)
	$(say) CCLD $@
	$(Q)$(CC) $(SHIM_CFLAGS) -o $@ $(filter %.c,$^) $(SHIM_LDFLAGS) $(CRYPTO_LIBS)

CHECK_EXTRA_PROGRAMS += $(TEST_SHIMS)

.PHONY: check check-programs check-phases
check-programs: $(CHECK_PROGRAMS)

check:
	@tools/install-deps.sh build test $(CHECK_DEPS)
	@rm -f $(RESULTS)
	@$(MAKE) --no-print-directory check-programs
	@$(MAKE) --no-print-directory BUILD=build-asan SANITIZE=1 check-programs
	-@$(RUN_TESTS) --phase unit --results $(RESULTS) $(UNIT_TEST_BINS)
	-@$(call test_env,$(BUILD),0) $(RUN_TESTS) --phase scripts --results $(RESULTS) $(SCRIPT_TESTS)
	-@$(call test_env,$(BUILD),0) $(RUN_TESTS) --phase agent --results $(RESULTS) $(AGENT_TESTS)
	$(if $(SECRET_TESTS),-@$(call test_env,$(BUILD),0) $(RUN_TESTS) --phase secret --results $(RESULTS) $(SECRET_TESTS))
	$(if $(PLUGIN_TESTS),-@$(call test_env,$(BUILD),0) $(RUN_TESTS) --phase plugin --results $(RESULTS) $(PLUGIN_TESTS))
	$(if $(HOOK_TESTS),-@$(call test_env,$(BUILD),0) $(RUN_TESTS) --phase hooks --results $(RESULTS) $(HOOK_TESTS))
	-@$(MAKE) --no-print-directory check-late
	@$(RUN_TESTS) --total --results $(RESULTS)

# The long phases. Boot guests are TCG with one vCPU, so one core runs
# them while the other runs the host-side phases (asan, fuzz, package,
# static); what both need is built first, one at a time. The host phases'
# output is shown after the boots'.
HOST_LOG = $(BUILD)/check-host-phases.log
.PHONY: check-late
check-late:
	@fz=1 pk=1 bt=1; \
	$(if $(FUZZ_TARGETS),$(MAKE) --no-print-directory fuzz-build >/dev/null || fz=0;) \
	$(if $(PACKAGE_TESTS),$(MAKE) --no-print-directory $(PACKAGE_TEST_PREREQS) || pk=0;) \
	$(if $(BOOT_TESTS),$(MAKE) --no-print-directory boot-prereqs || bt=0;) \
	$(if $(BOOT_TEST_PREREQS),$(MAKE) --no-print-directory $(BOOT_TEST_PREREQS) || \
		echo "boot: $(BOOT_TEST_PREREQS) could not be built: the tests that need it fail";) \
	{ \
		$(call test_env,build-asan,1) $(RUN_TESTS) --phase asan --results $(RESULTS) \
			$(addprefix build-asan/tests/,$(UNIT_TEST_NAMES)) $(AGENT_TESTS) $(SECRET_TESTS) $(PLUGIN_TESTS); \
		$(if $(FUZZ_TARGETS),if [ $$fz = 1 ]; then \
			TOP=$(CURDIR) FUZZ_DIR=$(abspath $(BUILD))/fuzz FUZZ_SECONDS=12 FUZZ_TARGETS="$(FUZZ_TARGETS)" \
			$(RUN_TESTS) --phase fuzz --results $(RESULTS) tests/fuzz/test-fuzz.sh; \
		else echo "fuzz 0 1 0" >>$(RESULTS); echo "fuzz: building the fuzz targets failed"; fi;) \
		$(if $(PACKAGE_TESTS),if [ $$pk = 1 ]; then \
			$(call test_env,$(BUILD),0) $(RUN_TESTS) --phase package --results $(RESULTS) $(PACKAGE_TESTS); \
		else echo "package 0 1 0" >>$(RESULTS); echo "package: building the package failed"; fi;) \
		$(if $(BOOT_TESTS),if [ $$bt = 1 ]; then \
			$(call test_env,$(BUILD),0) COCO_UNLOCK=$(BOOT_COCO_UNLOCK) $(RUN_TESTS) --phase static --results $(RESULTS) $(STATIC_AGENT_TESTS); \
		fi;) \
	} >$(HOST_LOG) 2>&1 & host=$$!; \
	$(if $(BOOT_TESTS),if [ $$bt = 1 ]; then \
		for k in $(BOOT_KERNELS); do \
			KERNEL_SERIES=$$k $(call test_env,$(BUILD),0) COCO_UNLOCK=$(BOOT_COCO_UNLOCK) \
				$(RUN_TESTS) --phase boot-$$k --timeout 1800 --results $(RESULTS) $(BOOT_TESTS); \
		done; \
		$(if $(filter 6.12,$(BOOT_KERNELS)),,echo "boot-6.12 0 0 1" >>$(RESULTS); \
			echo "boot-6.12: skipped (BOOT_KERNELS=$(BOOT_KERNELS); make check BOOT_KERNELS=\"6.1 6.12\" runs both$(comma) as .ci/run does)";) \
	else echo "boot 0 1 0" >>$(RESULTS); echo "boot: building the boot prerequisites failed"; fi;) \
	wait $$host; cat $(HOST_LOG)

# The README's test command in a fresh Debian 12 root (debootstrap), on a
# clone of the committed tree: what .ci/run runs. See tests/fresh-machine.sh.
.PHONY: check-fresh
check-fresh:
	@CACHE="$(CACHE)" tests/fresh-machine.sh 'make check BOOT_KERNELS="$(BOOT_KERNELS)"'

# Figures, not tests: sizes and times printed for the record. BENCH_DEPS:
# install-deps.sh groups some benches need beyond boot-prereqs; without
# them (not root) those benches skip, each with a line saying so.
BENCHES ?=
BENCH_DEPS ?=
.PHONY: bench
bench:
	@tools/install-deps.sh build test
	$(if $(BENCH_DEPS),@tools/install-deps.sh $(sort $(BENCH_DEPS)) || \
		echo "bench: missing packages (groups: $(sort $(BENCH_DEPS))): the benches that need them skip")
	@$(MAKE) --no-print-directory $(BUILD)/coco-unlock
	$(if $(BENCHES),@$(MAKE) --no-print-directory boot-prereqs)
	@for b in tests/bench/bench-agent.sh $(BENCHES); do \
		$(call test_env,$(BUILD),0) $$b || exit 1; \
	done

