# coco-secret: the guest owner's tool for secret tables and LUKS2
# enrollment (tools/coco-secret/coco-secret.1). Links the shared/ library
# (GUIDs, locked memory, the coco-efi-secret token and its MAC) as
# coco-unlock and the token plugin do.

SECRET_LIBS_PC := libcryptsetup json-c libcrypto
SECRET_LIBS = $(shell $(PKG_CONFIG) --libs $(SECRET_LIBS_PC))
# Other tools/ fragments may add to this too.
EXTRA_CFLAGS_tools += $(shell $(PKG_CONFIG) --cflags $(SECRET_LIBS_PC))

SECRET_SRCS := $(wildcard tools/coco-secret/*.c)
SECRET_OBJS = $(patsubst %.c,$(BUILD)/%.o,$(SECRET_SRCS)) $(SHARED_LIB)

all: $(BUILD)/coco-secret

$(BUILD)/coco-secret: $(SECRET_OBJS)
	$(say) LD $@
	$(Q)$(CC) -o $@ $^ $(LDFLAGS) $(SECRET_LIBS)

CHECK_EXTRA_PROGRAMS += $(BUILD)/coco-secret
SECRET_TESTS += $(sort $(wildcard tests/secret/test-*.sh))

install: install-secret
.PHONY: install-secret
install-secret: $(BUILD)/coco-secret
	install -D -m 0755 $(BUILD)/coco-secret $(DESTDIR)$(BINDIR)/coco-secret
	install -D -m 0644 tools/coco-secret/coco-secret.1 $(DESTDIR)$(MANDIR)/man1/coco-secret.1
