# The initramfs-tools integration (Debian, Ubuntu): a hook run by
# mkinitramfs and two boot scripts, under $(PREFIX)/share/initramfs-tools/.
INITRAMFS_TOOLS_DIR ?= $(PREFIX)/share/initramfs-tools
# mkinitramfs copies all of scripts/ into the image, the local-top
# script's helper scripts/coco-unlock/fail-closed too.
INITRAMFS_TOOLS_FILES := hooks/coco-unlock scripts/local-top/coco-unlock \
	scripts/init-bottom/coco-unlock scripts/coco-unlock/fail-closed

# Contract tests: fake root trees, recording stand-ins (tests/initramfs-tools/).
HOOK_TESTS += $(sort $(wildcard tests/initramfs-tools/test-*.sh))
# Their fake images run initramfs-tools' own scripts/functions and
# cache_run_scripts, and cryptsetup-initramfs's cryptroot prereqs.
CHECK_DEPS += initramfs-tools

install: install-initramfs-tools
.PHONY: install-initramfs-tools
install-initramfs-tools:
	for f in $(INITRAMFS_TOOLS_FILES); do \
		install -D -m 0755 initramfs-tools/$$f $(DESTDIR)$(INITRAMFS_TOOLS_DIR)/$$f; \
	done
