# coco-secret: the guest owner's tool for secret tables and LUKS2
# enrollment (man/coco-secret.1.scd). Links the shared/ library
# (GUIDs, locked memory, the coco-efi-secret token and its MAC) as
# coco-unlock and the token plugin do.

SECRET_LIBS_PC := libcryptsetup json-c libcrypto
SECRET_LIBS = $(shell $(PKG_CONFIG) --libs $(SECRET_LIBS_PC))
# Other tools/ fragments may add to this too.
EXTRA_CFLAGS_tools += $(shell $(PKG_CONFIG) --cflags $(SECRET_LIBS_PC))
# convert's edits inside the image (tools/coco-secret/convert-root.sh).
LIBEXECDIR ?= $(PREFIX)/libexec
CONVERT_HELPER_PATH = $(LIBEXECDIR)/coco-secret/convert-root
EXTRA_CFLAGS_tools += -DCONVERT_HELPER_PATH='"$(CONVERT_HELPER_PATH)"' 

SECRET_SRCS := $(wildcard tools/coco-secret/*.c)
SECRET_OBJS = $(patsubst %.c,$(BUILD)/%.o,$(SECRET_SRCS)) $(SHARED_LIB)

all: $(BUILD)/coco-secret

$(BUILD)/coco-secret: $(SECRET_OBJS)
	$(say) LD $@
	$(Q)$(CC) -o $@ $^ $(LDFLAGS) $(SECRET_LIBS)

CHECK_EXTRA_PROGRAMS += $(BUILD)/coco-secret
SECRET_TESTS += $(sort $(wildcard tests/secret/test-*.sh))
# make bench: measure on a 64 MiB initrd against sha256sum of the same file.
BENCHES += tests/bench/bench-measure.sh

install: install-secret
.PHONY: install-secret
install-secret: $(BUILD)/coco-secret $(BUILD)/man/coco-secret.1
	install -D -m 0755 $(BUILD)/coco-secret $(DESTDIR)$(BINDIR)/coco-secret
	install -D -m 0644 $(BUILD)/man/coco-secret.1 $(DESTDIR)$(MANDIR)/man1/coco-secret.1
	install -D -m 0755 tools/coco-secret/convert-root.sh $(DESTDIR)$(CONVERT_HELPER_PATH)

# C unit tests of the launch pieces against ../shared/vectors/sev
# (tests/secret/test-launch-units.sh runs them): everything but main.o.
SECRET_UNIT_OBJS = $(filter-out $(BUILD)/tools/coco-secret/main.o,$(SECRET_OBJS))

$(BUILD)/tests/secret-launch-units: tests/secret/launch-units.c $(SECRET_UNIT_OBJS)
	@mkdir -p $(dir $@)
	$(say) CCLD $@
	$(Q)$(CC) $(ALL_CFLAGS) $(EXTRA_CFLAGS_tools) -Itools/coco-secret -o $@ $< \
		$(SECRET_UNIT_OBJS) $(LDFLAGS) $(SECRET_LIBS)

CHECK_EXTRA_PROGRAMS += $(BUILD)/tests/secret-launch-units
