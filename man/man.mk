# The man pages: written once in man/*.scd (scdoc's format, as kmod's
# man/), built into $(BUILD)/man/ by `make` and installed from there by
# each program's install rule. scdoc is Debian's package of that name
# (scripts/install-deps.sh build). The pages say the version the Makefile
# does: @VERSION@ in a page's first line.
#
#   coco-unlock(8), coco-unlock.cmdline(7)   agent/agent.mk installs them
#   coco-secret(1)                           tools/coco-secret/coco-secret.mk
#   libcryptsetup-token-coco-efi-secret(8)   plugin/plugin.mk
#
# tests/scripts/test-man.sh checks the sources against the programs.

SCDOC ?= scdoc
MAN_SRCS := $(wildcard man/*.scd)
MAN_PAGES = $(patsubst man/%.scd,$(BUILD)/man/%,$(MAN_SRCS))

$(BUILD)/man/%: man/%.scd Makefile
	@mkdir -p $(dir $@)
	$(say) SCDOC $@
	$(Q)sed 's/@VERSION@/$(VERSION)/g' $< | $(SCDOC) >$@.tmp && mv $@.tmp $@

all: $(MAN_PAGES)
