# libcryptsetup-token-coco-efi-secret.so: the coco-efi-secret token
# handler for libcryptsetup (plugin/coco-efi-secret.c), so that
# `cryptsetup open` and systemd-cryptsetup open coco volumes themselves.
# It links the shared/ library built again as position-independent code,
# and exports only the six symbols of the CRYPTSETUP_TOKEN_1.0 ABI.
#
#   $(BUILD)/libcryptsetup-token-coco-efi-secret.so   what is installed
#   $(BUILD)/tests/plugin/libcryptsetup-token-...     the test build: the same
#       source with COCO_PLUGIN_TESTING, which reads a plain directory named
#       by $$COCO_PLUGIN_SECRETS_DIR (as coco-unlock's --secrets-dir)
#   make install   puts it in TOKENDIR, where Debian's libcryptsetup looks
#       (/lib/x86_64-linux-gnu/cryptsetup, /usr/lib/... with merged /usr)

PLUGIN_NAME := libcryptsetup-token-coco-efi-secret.so
PLUGIN_LIBS_PC := libcryptsetup json-c libkmod libcrypto
PLUGIN_LIBS = $(shell $(PKG_CONFIG) --libs $(PLUGIN_LIBS_PC))
EXTRA_CFLAGS_plugin = $(shell $(PKG_CONFIG) --cflags $(PLUGIN_LIBS_PC))
MULTIARCH ?= $(shell $(CC) -print-multiarch 2>/dev/null)
TOKENDIR ?= $(PREFIX)/lib/$(MULTIARCH)/cryptsetup

PIC_DIR = $(BUILD)/pic
PLUGIN_PIC_CFLAGS = $(filter-out -fPIE,$(ALL_CFLAGS)) -fPIC -fvisibility=hidden \
	$(EXTRA_CFLAGS_shared) $(EXTRA_CFLAGS_plugin)
PLUGIN_PIC_OBJS = $(patsubst %.c,$(PIC_DIR)/%.o,$(SHARED_SRCS))
PLUGIN_LDFLAGS = -shared -Wl,--version-script=plugin/coco-efi-secret.sym \
	-Wl,-z,relro,-z,now -Wl,-z,defs -Wl,-soname,$(PLUGIN_NAME)
ifeq ($(SANITIZE),1)
PLUGIN_LDFLAGS += -fsanitize=address,undefined
endif
PLUGIN = $(BUILD)/$(PLUGIN_NAME)
PLUGIN_TEST = $(BUILD)/tests/plugin/$(PLUGIN_NAME)

$(PIC_DIR)/%.o: %.c
	@mkdir -p $(dir $@)
	$(say) CC $@
	$(Q)$(CC) $(PLUGIN_PIC_CFLAGS) -c -o $@ $<

$(PIC_DIR)/test/plugin/%.o: plugin/%.c
	@mkdir -p $(dir $@)
	$(say) CC $@
	$(Q)$(CC) $(PLUGIN_PIC_CFLAGS) -DCOCO_PLUGIN_TESTING -c -o $@ $<

$(PLUGIN): $(PIC_DIR)/plugin/coco-efi-secret.o $(PLUGIN_PIC_OBJS) plugin/coco-efi-secret.sym
	$(say) LD $@
	$(Q)$(CC) -o $@ $(filter %.o,$^) $(PLUGIN_LDFLAGS) $(PLUGIN_LIBS)

$(PLUGIN_TEST): $(PIC_DIR)/test/plugin/coco-efi-secret.o $(PLUGIN_PIC_OBJS) plugin/coco-efi-secret.sym
	@mkdir -p $(dir $@)
	$(say) LD $@
	$(Q)$(CC) -o $@ $(filter %.o,$^) $(PLUGIN_LDFLAGS) $(PLUGIN_LIBS)

all: $(PLUGIN)
CHECK_EXTRA_PROGRAMS += $(PLUGIN) $(PLUGIN_TEST)
PLUGIN_TESTS += $(sort $(wildcard tests/plugin/test-*.sh))

install: install-plugin
.PHONY: install-plugin
install-plugin: $(PLUGIN)
	install -D -m 0644 $(PLUGIN) $(DESTDIR)$(TOKENDIR)/$(PLUGIN_NAME)
	install -D -m 0644 plugin/$(basename $(PLUGIN_NAME)).8 \
		$(DESTDIR)$(MANDIR)/man8/$(basename $(PLUGIN_NAME)).8

# The bare harness boot: cryptsetup open through the plugin
# (tests/boot/test-plugin.sh; the dracut one is in dracut-module/dracut.mk).
BOOT_TESTS += tests/boot/test-plugin.sh
# Built by boot-prereqs after it has installed the packages (a
# prerequisite would be built before, on a machine without a compiler).
BOOT_PROGRAMS += $(PLUGIN)
