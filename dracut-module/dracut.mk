# The dracut module 91coco-unlock.
DRACUT_MODULE_DIR ?= $(PREFIX)/lib/dracut/modules.d/91coco-unlock
DRACUT_FILES := module-setup.sh coco-unlock-dracut.sh coco-unlock-settled.sh \
	coco-unlock-wipe.sh coco-unlock-fail-closed.sh coco-unlock.service

install: install-dracut
.PHONY: install-dracut
install-dracut:
	install -d $(DESTDIR)$(DRACUT_MODULE_DIR)
	for f in $(DRACUT_FILES); do \
		mode=0644; case $$f in *.sh) mode=0755 ;; esac; \
		install -m $$mode dracut-module/91coco-unlock/$$f $(DESTDIR)$(DRACUT_MODULE_DIR)/$$f; \
	done

# Boot tests (issue 5): images built by the host's dracut with this module,
# booted in the QEMU harness (tests/boot/lib.sh). See tests/dracut/lib.sh.
BOOT_TESTS += tests/dracut/test-shell.sh tests/dracut/test-systemd.sh tests/dracut/test-systemd-plugin.sh \
	tests/dracut/test-hostonly.sh tests/dracut/test-systemd-killed.sh
CHECK_DEPS += dracut
# The module's scripts on this machine, without dracut or a boot: install(),
# and rd.coco.on-failure=poweroff whatever ends coco-unlock, in both modes.
HOOK_TESTS += tests/dracut/test-scripts.sh
# Boot-time figures (issue 14): kernel start to switch_root in the systemd
# image with coco-unlock against the same image opening the root with an
# rd.luks.key key file. It needs the dracut group too (BENCH_DEPS) and
# skips with one line when something is missing.
BENCHES += tests/dracut/bench-dracut.sh
BENCH_DEPS += dracut
