# QEMU boot tests (issue 3): a kernel built with efi_secret, coco-inject.efi
# playing the firmware, an encrypted root unlocked by coco-unlock in a
# minimal initramfs. See tests/boot/lib.sh.
#
#   make demo           boot the happy path with the console shown
#   make boot-prereqs   Debian packages, the cached kernel, the injector
#   make boot-kernel    only the kernel (cached in $(CACHE)/kernel-<hash>)
#
# The first run builds the kernel (about 4 minutes on 2 cores); later runs
# reuse it. Disk images and the initramfs go to $(BUILD)/boot/fixtures and
# are remade when their inputs change.

BOOT_TESTS += tests/boot/test-inject.sh tests/boot/test-happy.sh \
	tests/boot/test-no-area.sh tests/boot/test-bad-area.sh \
	tests/boot/test-wrong-secret.sh tests/boot/test-two-volumes.sh \
	tests/boot/test-coco-secret.sh tests/boot/test-again.sh tests/boot/test-forged.sh
# The mkinitcpio hook in an initramfs built and laid out as mkinitcpio does
# (tests/boot/mkinitcpio/): two boots.
BOOT_TESTS += tests/boot/test-mkinitcpio.sh
# The boot checks on runs whose serial logs were deleted: all not ok.
BOOT_TESTS += tests/boot/test-vacuous.sh
CHECK_DEPS += boot
# Figures from a guest: static vs dynamic start-up and keyslot times
# (needs `make static boot-prereqs`; skips with a message otherwise).
BENCHES += tests/bench/bench-boot.sh

# The initramfs gets the static build (issue 6): one file, no libraries.
BOOT_COCO_UNLOCK = $(abspath $(BUILD))/static/coco-unlock.stripped
boot_env = TOP=$(CURDIR) BUILD=$(abspath $(BUILD)) CACHE=$(CACHE) \
	COCO_UNLOCK=$(BOOT_COCO_UNLOCK) COCO_SECRET=$(abspath $(BUILD))/coco-secret

.PHONY: boot-prereqs boot-kernel demo
boot-kernel:
	@CACHE="$(CACHE)" tests/boot/build-kernel.sh >/dev/null

boot-prereqs:
	@tools/install-deps.sh build boot static
	@$(MAKE) --no-print-directory boot-kernel
	@$(MAKE) --no-print-directory $(BUILD)/coco-inject.efi $(BUILD)/coco-unlock \
		$(BUILD)/coco-secret static

demo:
	@$(MAKE) --no-print-directory boot-prereqs
	@$(boot_env) tests/boot/demo.sh
