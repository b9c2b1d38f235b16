# The test suite. `make check` runs every phase, keeps going after a
# failing phase so the report is whole, and fails at the end if any test
# failed. Phases:
#   lint    the C format of changed lines (.clang-format), shellcheck
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
#   package lintian on the package the real-system boots install (scripts/deb)
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
# Lint: the C format of changed lines, shellcheck on every shell file.
LINT_TESTS := $(sort $(wildcard tests/lint/test-*.sh))
CHECK_DEPS += lint
# The agent tests the static build (what initramfs images ship) runs too:
# all but valgrind's, now that its crypto needs nothing from the host's
# kernel (a host without AF_ALG runs them all).
STATIC_AGENT_TESTS := $(filter-out tests/agent/test-valgrind.sh,$(AGENT_TESTS))
# And the static build's own (its libraries: tests/static/).
STATIC_TESTS := $(sort $(wildcard tests/static/test-*.sh))
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

# Its own copy of shared/crypto-hash.c and hex.c: the log shows keys only as their SHA-256.
$(BUILD)/tests/fake-dm.so: tests/lib/fake-dm.c shared/crypto-hash.c shared/hex.c
	@mkdir -p $(dir $@)
	$(say) CCLD $@
	$(Q)$(CC) $(SHIM_CFLAGS) -o $@ $(filter %.c,$^) $(SHIM_LDFLAGS) $(CRYPTO_LIBS)

CHECK_EXTRA_PROGRAMS += $(TEST_SHIMS)

.PHONY: check check-programs check-phases
check-programs: $(CHECK_PROGRAMS)

# One phase, or one test: `make check PHASES="unit agent"` runs only those
# phases (boot: every kernel's; boot-6.1: one), `make check
# TESTS=tests/agent/test-wipe.sh` (or tests/unit/test-guid.c) only the phases
# that run those files, with only those files. Both together: both filters.
PHASES ?=
TESTS ?=
# $(call phase_on,NAME): NAME when that phase is wanted.
phase_on = $(if $(PHASES),$(filter $(1) $(firstword $(subst -, ,$(1))),$(PHASES)),$(1))
# $(call picked,LIST): LIST, less what TESTS does not name.
picked = $(if $(TESTS),$(filter $(TESTS),$(1)),$(1))
# $(call run_phase,PHASE,LIST): the phase's tests, if it is wanted and any are picked.
phase_tests = $(if $(call phase_on,$(1)),$(call picked,$(2)))
CHECK_UNIT = $(if $(call phase_on,unit),$(if $(TESTS),$(addprefix $(BUILD)/tests/,$(filter \
	$(UNIT_TEST_NAMES),$(patsubst tests/unit/%.c,%,$(TESTS)))),$(UNIT_TEST_BINS)))
CHECK_LINT = $(call phase_tests,lint,$(LINT_TESTS))
CHECK_SCRIPTS = $(call phase_tests,scripts,$(SCRIPT_TESTS))
CHECK_AGENT = $(call phase_tests,agent,$(AGENT_TESTS))
CHECK_SECRET = $(call phase_tests,secret,$(SECRET_TESTS))
CHECK_PLUGIN = $(call phase_tests,plugin,$(PLUGIN_TESTS))
CHECK_HOOKS = $(call phase_tests,hooks,$(HOOK_TESTS))
CHECK_ASAN_UNIT = $(if $(call phase_on,asan),$(patsubst $(BUILD)/tests/%,build-asan/tests/%,$(if \
	$(TESTS),$(addprefix $(BUILD)/tests/,$(filter $(UNIT_TEST_NAMES),$(patsubst tests/unit/%.c,%,$(TESTS)))),$(UNIT_TEST_BINS))))
CHECK_ASAN = $(CHECK_ASAN_UNIT) $(call phase_tests,asan,$(AGENT_TESTS) $(SECRET_TESTS) $(PLUGIN_TESTS))
CHECK_FUZZ = $(if $(TESTS),$(call picked,tests/fuzz/test-fuzz.sh),$(if $(call phase_on,fuzz),$(FUZZ_TARGETS)))
CHECK_PACKAGE = $(call phase_tests,package,$(PACKAGE_TESTS))
CHECK_STATIC = $(if $(BOOT_TESTS),$(call phase_tests,static,$(STATIC_AGENT_TESTS) $(STATIC_TESTS)))
CHECK_BOOT_KERNELS = $(foreach k,$(BOOT_KERNELS),$(if $(call phase_on,boot-$(k)),$(k)))
CHECK_BOOT = $(if $(CHECK_BOOT_KERNELS),$(call picked,$(BOOT_TESTS)))

check:
	@scripts/install-deps.sh build test $(CHECK_DEPS)
	@rm -f $(RESULTS)
	@$(MAKE) --no-print-directory check-programs
	$(if $(strip $(CHECK_ASAN)),@$(MAKE) --no-print-directory BUILD=build-asan SANITIZE=1 check-programs)
	$(if $(CHECK_LINT),-@$(call test_env,$(BUILD),0) $(RUN_TESTS) --phase lint --results $(RESULTS) $(CHECK_LINT))
	$(if $(CHECK_UNIT),-@$(RUN_TESTS) --phase unit --results $(RESULTS) $(CHECK_UNIT))
	$(if $(CHECK_SCRIPTS),-@$(call test_env,$(BUILD),0) $(RUN_TESTS) --phase scripts --results $(RESULTS) $(CHECK_SCRIPTS))
	$(if $(CHECK_AGENT),-@$(call test_env,$(BUILD),0) $(RUN_TESTS) --phase agent --results $(RESULTS) $(CHECK_AGENT))
	$(if $(CHECK_SECRET),-@$(call test_env,$(BUILD),0) $(RUN_TESTS) --phase secret --results $(RESULTS) $(CHECK_SECRET))
	$(if $(CHECK_PLUGIN),-@$(call test_env,$(BUILD),0) $(RUN_TESTS) --phase plugin --results $(RESULTS) $(CHECK_PLUGIN))
	$(if $(CHECK_HOOKS),-@$(call test_env,$(BUILD),0) $(RUN_TESTS) --phase hooks --results $(RESULTS) $(CHECK_HOOKS))
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
	$(if $(strip $(CHECK_FUZZ)),$(MAKE) --no-print-directory fuzz-build >/dev/null || fz=0;) \
	$(if $(CHECK_PACKAGE),$(MAKE) --no-print-directory $(PACKAGE_TEST_PREREQS) || pk=0;) \
	$(if $(strip $(CHECK_BOOT) $(CHECK_STATIC)),$(MAKE) --no-print-directory boot-prereqs || bt=0;) \
	$(if $(and $(CHECK_BOOT),$(BOOT_TEST_PREREQS)),$(MAKE) --no-print-directory $(BOOT_TEST_PREREQS) || \
		echo "boot: $(BOOT_TEST_PREREQS) could not be built: the tests that need it fail";) \
	{ :; \
		$(if $(strip $(CHECK_ASAN)),$(call test_env,build-asan,1) $(RUN_TESTS) --phase asan --results $(RESULTS) \
			$(CHECK_ASAN);) \
		$(if $(strip $(CHECK_FUZZ)),if [ $$fz = 1 ]; then \
			TOP=$(CURDIR) FUZZ_DIR=$(abspath $(BUILD))/fuzz FUZZ_SECONDS=12 FUZZ_TARGETS="$(FUZZ_TARGETS)" \
			$(RUN_TESTS) --phase fuzz --results $(RESULTS) tests/fuzz/test-fuzz.sh; \
		else echo "fuzz 0 1 0" >>$(RESULTS); echo "fuzz: building the fuzz targets failed"; fi;) \
		$(if $(CHECK_PACKAGE),if [ $$pk = 1 ]; then \
			$(call test_env,$(BUILD),0) $(RUN_TESTS) --phase package --results $(RESULTS) $(CHECK_PACKAGE); \
		else echo "package 0 1 0" >>$(RESULTS); echo "package: building the package failed"; fi;) \
		$(if $(CHECK_STATIC),if [ $$bt = 1 ]; then \
			$(call test_env,$(BUILD),0) COCO_UNLOCK=$(BOOT_COCO_UNLOCK) $(RUN_TESTS) --phase static --results $(RESULTS) $(CHECK_STATIC); \
		fi;) \
	} >$(HOST_LOG) 2>&1 & host=$$!; \
	$(if $(CHECK_BOOT),if [ $$bt = 1 ]; then \
		for k in $(CHECK_BOOT_KERNELS); do \
			KERNEL_SERIES=$$k $(call test_env,$(BUILD),0) COCO_UNLOCK=$(BOOT_COCO_UNLOCK) \
				$(RUN_TESTS) --phase boot-$$k --timeout 1800 --results $(RESULTS) $(CHECK_BOOT); \
		done; \
		$(if $(or $(PHASES),$(TESTS),$(filter 6.12,$(BOOT_KERNELS))),,echo "boot-6.12 0 0 1" >>$(RESULTS); \
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
	@scripts/install-deps.sh build test
	$(if $(BENCH_DEPS),@scripts/install-deps.sh $(sort $(BENCH_DEPS)) || \
		echo "bench: missing packages (groups: $(sort $(BENCH_DEPS))): the benches that need them skip")
	@$(MAKE) --no-print-directory $(BUILD)/coco-unlock
	$(if $(BENCHES),@$(MAKE) --no-print-directory boot-prereqs)
	@for b in tests/bench/bench-agent.sh $(BENCHES); do \
		$(call test_env,$(BUILD),0) $$b || exit 1; \
	done

