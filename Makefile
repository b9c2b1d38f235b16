# coco-unlock: boot-time disk unlocker for confidential VMs.
#
#   make            build coco-unlock and coco-secret (dynamic), the token
#                   plugin and the man pages (man/)
#   make check      install what the tests need, run every test
#   make demo       boot an encrypted disk in QEMU, unlocked by an injected secret
#   make bench      print speed and size figures
#   make install    DESTDIR=... PREFIX=/usr
#   make deb        the Debian package, in build/deb/
#
# Everything built goes to $(BUILD); slow artifacts (kernel, static
# libraries) are cached in $(CACHE), keyed by their inputs.

VERSION := 0.1
PREFIX ?= /usr
BINDIR ?= $(PREFIX)/bin
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
DESTDIR ?=
BUILD ?= build
CACHE ?= $(HOME)/.cache/coco-unlock
CC ?= cc
PKG_CONFIG ?= pkg-config

WARNINGS := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wmissing-prototypes \
	-Wstrict-prototypes -Wno-unused-parameter
COMMON_CFLAGS := -std=c11 -D_GNU_SOURCE -Ishared -DVERSION='"$(VERSION)"' $(WARNINGS) \
	-fstack-protector-strong -D_FORTIFY_SOURCE=2 -fPIE -MMD -MP
OPT_CFLAGS ?= -O2 -g
LDFLAGS ?= -pie -Wl,-z,relro,-z,now

# SANITIZE=1 builds with ASan and UBSan (make check does that in build-asan).
ifeq ($(SANITIZE),1)
OPT_CFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
	-fno-sanitize-recover=all
LDFLAGS += -fsanitize=address,undefined
COMMON_CFLAGS := $(filter-out -D_FORTIFY_SOURCE=2,$(COMMON_CFLAGS))
endif

# V=1 shows whole compiler command lines.
ifeq ($(V),1)
Q :=
say = @true
else
Q := @
say = @printf '  %-7s %s\n'
endif

CFLAGS ?=
ALL_CFLAGS = $(COMMON_CFLAGS) $(OPT_CFLAGS) $(CFLAGS)

.PHONY: all deps check demo bench install clean
all:

deps:
	@scripts/install-deps.sh build

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(say) CC $@
	$(Q)$(CC) $(ALL_CFLAGS) $(EXTRA_CFLAGS_$(firstword $(subst /, ,$<))) -c -o $@ $<

include shared/shared.mk
include agent/agent.mk
include man/man.mk
-include plugin/plugin.mk
-include tools/coco-secret/coco-secret.mk
-include tools/coco-inject/coco-inject.mk
-include scripts/static/static.mk
-include scripts/deb/deb.mk
-include tests/boot/boot.mk
-include dracut-module/dracut.mk
-include mkinitcpio-hook/mkinitcpio.mk
-include initramfs-tools/initramfs-tools.mk
-include tests/system/system.mk
-include tests/convert/convert.mk
-include tests/fuzz/fuzz.mk
include tests/tests.mk

clean:
	rm -rf build build-asan

# The compilers' dependency files (-MMD), not what else build/ holds (the
# real-system boots keep whole root trees there, with /usr/sbin/invoke-rc.d).
-include $(shell find $(BUILD) -path '$(BUILD)/system' -prune -o -path '$(BUILD)/fresh' -prune \
	-o -type f -name '*.d' -print 2>/dev/null)
