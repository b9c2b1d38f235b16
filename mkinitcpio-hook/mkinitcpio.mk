# The mkinitcpio hook coco-unlock (Arch Linux and others using mkinitcpio):
# install/coco-unlock (build time, bash) and hooks/coco-unlock (run time,
# busybox ash), under $(PREFIX)/lib/initcpio/.
INITCPIO_DIR ?= $(PREFIX)/lib/initcpio

# Shell tests of the hook against mkinitcpio's documented contract (no
# mkinitcpio needed); the lead wires them into `make check`.
HOOK_TESTS += $(sort $(wildcard tests/mkinitcpio/test-*.sh))

install: install-mkinitcpio
.PHONY: install-mkinitcpio
install-mkinitcpio:
	install -D -m 0644 mkinitcpio-hook/install/coco-unlock $(DESTDIR)$(INITCPIO_DIR)/install/coco-unlock
	install -D -m 0644 mkinitcpio-hook/hooks/coco-unlock $(DESTDIR)$(INITCPIO_DIR)/hooks/coco-unlock
