# The mkinitcpio hooks (Arch Linux and others using mkinitcpio), under
# $(PREFIX)/lib/initcpio/: coco-unlock for the busybox init
# (install/coco-unlock, build time, bash; hooks/coco-unlock, run time,
# busybox ash) and sd-coco-unlock for the systemd init (install/ only; its
# units in coco-unlock/, outside the host's systemd unit directories).
INITCPIO_DIR ?= $(PREFIX)/lib/initcpio

# Shell tests of the hooks against mkinitcpio's documented contract (no
# mkinitcpio needed); the lead wires them into `make check`.
HOOK_TESTS += $(sort $(wildcard tests/mkinitcpio/test-*.sh))

install: install-mkinitcpio
.PHONY: install-mkinitcpio
install-mkinitcpio:
	install -D -m 0644 mkinitcpio-hook/install/coco-unlock $(DESTDIR)$(INITCPIO_DIR)/install/coco-unlock
	install -D -m 0644 mkinitcpio-hook/install/sd-coco-unlock $(DESTDIR)$(INITCPIO_DIR)/install/sd-coco-unlock
	install -D -m 0644 mkinitcpio-hook/hooks/coco-unlock $(DESTDIR)$(INITCPIO_DIR)/hooks/coco-unlock
	install -D -m 0644 mkinitcpio-hook/coco-unlock/coco-unlock.service $(DESTDIR)$(INITCPIO_DIR)/coco-unlock/coco-unlock.service
	install -D -m 0644 mkinitcpio-hook/coco-unlock/coco-unlock-wipe.service $(DESTDIR)$(INITCPIO_DIR)/coco-unlock/coco-unlock-wipe.service
	install -D -m 0755 mkinitcpio-hook/coco-unlock/coco-unlock-fail-closed $(DESTDIR)$(INITCPIO_DIR)/coco-unlock/coco-unlock-fail-closed
