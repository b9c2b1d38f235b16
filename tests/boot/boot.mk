# QEMU boot tests (issue 3): a kernel built with efi_secret, coco-inject.efi
# playing the firmware, an encrypted root unlocked by coco-unlock in a
# minimal initramfs. See tests/boot/lib.sh.
#
#   make demo           boot the happy path with the console shown
#   make boot-prereqs   Debian packages, the cached kernel, the injector
#   make boot-kernel    only the kernel (cached in $(CACHE)/kernel-<hash>)
#
# The first run builds the kernels (about 4 minutes for 6.1, 8 for 6.12 on
# 2 cores); later runs reuse them. Disk images and the initramfs go to $(BUILD)/boot/fixtures and
# are remade when their inputs change.

BOOT_TESTS += tests/boot/test-inject.sh tests/boot/test-happy.sh \
	tests/boot/test-no-area.sh tests/boot/test-bad-area.sh \
	tests/boot/test-wrong-secret.sh tests/boot/test-two-volumes.sh \
	tests/boot/test-coco-secret.sh tests/boot/test-again.sh tests/boot/test-forged.sh
# The mkinitcpio hook in an initramfs built and laid out as mkinitcpio does
# (tests/boot/mkinitcpio/): two boots.
BOOT_TESTS += tests/boot/test-mkinitcpio.sh
# sd-coco-unlock in an image laid out as mkinitcpio's systemd hook does
# (systemd 252 as /init): three boots, and the refused builds. It takes
# systemd, udev and dmsetup from the host and the dracut tests' root image:
# the `dracut` group of scripts/install-deps.sh (CHECK_DEPS, dracut.mk).
BOOT_TESTS += tests/boot/test-mkinitcpio-systemd.sh
# Whole-memory scans for copies of consumed secrets, and the fault boots
# (I/O errors, SIGKILL mid-keyslot, 256 MiB, hot-plug, a full area).
BOOT_TESTS += tests/boot/test-ramscan.sh tests/boot/test-faults.sh
# Figures from the fault boots' hot-plug case: virtio_blk's line to "unlocked".
BENCHES += tests/bench/bench-hotplug.sh
# The owner's SEV launch (coco-secret session and launch) against
# tests/boot/sev-host.py, the host and PSP in front of a paused QEMU: one
# boot, and five hosts that get nothing and are never continued.
BOOT_TESTS += tests/boot/test-launch.sh
# The initramfs the owner measures: dracut and initramfs-tools images built
# twice with the README's settings are byte-identical (no boot; about 80 s).
BOOT_TESTS += tests/boot/test-reproducible.sh
# The boot checks on runs whose serial logs were deleted: all not ok.
BOOT_TESTS += tests/boot/test-vacuous.sh
CHECK_DEPS += boot
# The RAM scans' counter (tests/boot/test-ramscan.sh).
CHECK_EXTRA_PROGRAMS += $(BUILD)/ramscan
$(BUILD)/ramscan: tests/boot/ramscan.c
	@mkdir -p $(dir $@)
	$(say) CCLD $@
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $< $(LDFLAGS)
# Figures from a guest: static vs dynamic start-up and keyslot times
# (needs `make static boot-prereqs`; skips with a message otherwise).
BENCHES += tests/bench/bench-boot.sh
# Several volumes at once against --serial, in one guest with 2 vCPUs.
BENCHES += tests/bench/bench-parallel.sh

# The initramfs gets the static build (issue 6): one file, no libraries.
BOOT_COCO_UNLOCK = $(abspath $(BUILD))/static/coco-unlock.stripped
boot_env = TOP=$(CURDIR) BUILD=$(abspath $(BUILD)) CACHE=$(CACHE) \
	COCO_UNLOCK=$(BOOT_COCO_UNLOCK) COCO_SECRET=$(abspath $(BUILD))/coco-secret

# The kernels the boot tests run on. Debian 12 has two LTS lines; every
# boot test passes on both, but both take a warm `make check` past its
# 15 minutes, so it runs 6.1 and says it skipped 6.12. .ci/run (and
# `make check BOOT_KERNELS="6.1 6.12"`) runs both.
# Debian 13 has only linux-source-6.12: there make check boots on 6.12.
OS_CODENAME := $(shell . /etc/os-release 2>/dev/null && echo "$$VERSION_CODENAME")
BOOT_KERNELS ?= $(if $(filter-out bookworm,$(OS_CODENAME)),6.12,6.1)

.PHONY: boot-prereqs boot-kernel demo
boot-kernel:
	@for k in $(BOOT_KERNELS); do \
		CACHE="$(CACHE)" KERNEL_SERIES=$$k tests/boot/build-kernel.sh >/dev/null || exit 1; \
	done

boot-prereqs:
	@scripts/install-deps.sh build boot static
	@$(MAKE) --no-print-directory boot-kernel
	@$(MAKE) --no-print-directory $(BUILD)/coco-inject.efi $(BUILD)/coco-unlock \
		$(BUILD)/coco-secret static static-tests $(BOOT_PROGRAMS)

demo:
	@$(MAKE) --no-print-directory boot-prereqs
	@$(boot_env) tests/boot/demo.sh
