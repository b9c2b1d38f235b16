# shared/: what coco-unlock and coco-secret both use, in the way kmod keeps
# shared/ beside libkmod/ and tools/: GUIDs, the coco-efi-secret token,
# locked memory for secret bytes, and the portability shims. Nothing here
# logs: each program says in its own words what went wrong.

SHARED_LIBS_PC := libcryptsetup json-c
EXTRA_CFLAGS_shared = $(shell $(PKG_CONFIG) --cflags $(SHARED_LIBS_PC))
SHARED_SRCS := $(wildcard shared/*.c)
SHARED_OBJS = $(patsubst %.c,$(BUILD)/%.o,$(SHARED_SRCS))
