# shared/: the internal library of coco-unlock, coco-secret and the token
# plugin, in the way kmod keeps shared/ beside libkmod/ and tools/: GUIDs,
# the coco-efi-secret token and its MAC, locked memory for secret bytes,
# reading a secret from efi_secret's directory, loading modules, reading
# a LUKS header the host wrote and the header policy, and the
# portability shims. Nothing here logs: each program says in its own
# words what went wrong.
#
# Linked as an archive, so each program takes only what it uses
# (coco-secret needs no libkmod). The plugin, a shared object, builds the
# same sources again as position-independent code (plugin/plugin.mk).

SHARED_LIBS_PC := libcryptsetup json-c libkmod
# SHA-256 and HMAC (crypto-hash.c): libcrypto here; the static build
# defines COCO_CRYPTO_GCRYPT and takes libgcrypt (scripts/static/static.mk).
CRYPTO_PC := libcrypto
CRYPTO_LIBS = $(shell $(PKG_CONFIG) --libs $(CRYPTO_PC))
EXTRA_CFLAGS_shared = $(shell $(PKG_CONFIG) --cflags $(SHARED_LIBS_PC))
SHARED_SRCS := $(wildcard shared/*.c)
SHARED_OBJS = $(patsubst %.c,$(BUILD)/%.o,$(SHARED_SRCS))
SHARED_LIB = $(BUILD)/shared/libcoco-shared.a

$(SHARED_LIB): $(SHARED_OBJS)
	$(say) AR $@
	$(Q)rm -f $@ && $(AR) rcs $@ $^
