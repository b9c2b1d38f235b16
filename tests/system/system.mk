# Real-system boots (issue 12): a Debian 12 system made with debootstrap,
# coco-unlock's package installed in it with apt, the initramfs made there
# by update-initramfs (cryptsetup-initramfs) or by dracut, the root file
# system in LUKS2, booted with the injected secret. See tests/system/lib.sh.
# The debootstrapped roots are cached in $(CACHE)/debian-root-VARIANT-KEY
# (about a minute each to make), the systems built from them in
# $(BUILD)/system. They run on kernel 6.1 only (each boot costs half a
# minute to a minute under TCG; on 6.12 they say so and skip).
BOOT_TESTS += tests/system/test-initramfs-tools.sh tests/system/test-dracut.sh
# Ubuntu 24.04 LTS on Ubuntu's own kernel (issue 25): its roots (a test
# root with the kernel, a build root for the package built for noble) are
# cached as $(CACHE)/ubuntu-root-noble-*; the first run makes them and
# the noble package (about 10 minutes), then three boots.
BOOT_TESTS += tests/system/test-ubuntu.sh
# Made before the boot phase, outside the test's time limit.
BOOT_TEST_PREREQS += system-noble
.PHONY: system-noble system-trixie system-resolute
system-noble:
	@$(boot_env) tests/system/prepare.sh noble initramfs-tools
# Ubuntu 26.04 LTS the same way, only with SYSTEM_RESOLUTE=1 (CI's time):
#   make check PHASES=boot-6.1 TESTS=tests/system/test-ubuntu-resolute.sh SYSTEM_RESOLUTE=1
SYSTEM_RESOLUTE ?=
ifeq ($(SYSTEM_RESOLUTE),1)
BOOT_TESTS += tests/system/test-ubuntu-resolute.sh
BOOT_TEST_PREREQS += system-resolute
endif
system-resolute:
	@$(boot_env) tests/system/prepare.sh resolute initramfs-tools
# Debian 13 (trixie) with each generator, on the 6.12 test kernel (built
# from Debian 12's linux-source-6.12, not trixie's): in the boot-6.12
# phase only, and only with SYSTEM_TRIXIE=1 for now:
#   make check BOOT_KERNELS="6.1 6.12" SYSTEM_TRIXIE=1
# CI measured 46 minutes without the distributions' systems; Ubuntu's add
# about 13 and Debian 13's (a build root, the package, two systems, six
# boots) about 19 more, too close to CI's 90 for now.
SYSTEM_TRIXIE ?=
ifeq ($(SYSTEM_TRIXIE),1)
BOOT_TESTS += tests/system/test-trixie-initramfs-tools.sh tests/system/test-trixie-dracut.sh
BOOT_TEST_PREREQS += $(if $(filter 6.12,$(BOOT_KERNELS)),system-trixie)
endif
system-trixie:
	@$(boot_env) KERNEL_SERIES=6.12 tests/system/prepare.sh trixie initramfs-tools
	@$(boot_env) KERNEL_SERIES=6.12 tests/system/prepare.sh trixie dracut
# debootstrap, and the generators' listers on this machine (lsinitramfs,
# lsinitrd: the initramfs-tools and dracut groups).
CHECK_DEPS += system

# The package the systems install: made again only when a file of the
# tree changed (make deb always starts from nothing).
SYS_DEB = $(BUILD)/deb/coco-unlock_$(VERSION)_amd64.deb
BOOT_TEST_PREREQS += $(SYS_DEB)
$(SYS_DEB): $(wildcard $(shell git ls-files -co --exclude-standard 2>/dev/null))
	@$(MAKE) --no-print-directory deb >$(BUILD)/deb.log 2>&1 || \
		{ tail -n 30 $(BUILD)/deb.log; echo "make deb failed (log: $(BUILD)/deb.log)"; exit 1; }
	@echo "  DEB     $@"
