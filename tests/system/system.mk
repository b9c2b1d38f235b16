# Real-system boots (issue 12): a Debian 12 system made with debootstrap,
# coco-unlock's package installed in it with apt, the initramfs made there
# by update-initramfs (cryptsetup-initramfs) or by dracut, the root file
# system in LUKS2, booted with the injected secret. See tests/system/lib.sh.
# The debootstrapped roots are cached in $(CACHE)/debian-root-VARIANT-KEY
# (about a minute each to make), the systems built from them in
# $(BUILD)/system. They run on kernel 6.1 only (each boot costs half a
# minute to a minute under TCG; on 6.12 they say so and skip).
BOOT_TESTS += tests/system/test-initramfs-tools.sh tests/system/test-dracut.sh
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
