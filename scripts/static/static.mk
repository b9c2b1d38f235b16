# make static: coco-unlock linked statically with musl, for initramfs
# images (one file, no shared libraries). The libraries come from Debian's
# source packages, built once by scripts/static/build-static-deps.sh into a
# prefix in $(CACHE) keyed by versions, flags and toolchain.
#
#   $(BUILD)/static/coco-unlock           with symbols
#   $(BUILD)/static/coco-unlock.stripped  what goes into an initramfs
#   make install-static                   installs the stripped one as
#                                         $(PREFIX)/lib/coco-unlock/coco-unlock.static
#
# Its crypto is user space: cryptsetup's libgcrypt backend and its bundled
# argon2, so it needs nothing from the kernel's crypto API (no AF_ALG
# modules); build-static-deps.sh says why libgcrypt.

STATIC_DIR = $(BUILD)/static
STATIC_CC ?= musl-gcc
STATIC_LIBDIR ?= $(PREFIX)/lib/coco-unlock
# The size target of issue 6 (1.5 MiB, stripped): a warning, not an error.
STATIC_MAX_SIZE := 1572864
STATIC_SRCS = $(wildcard agent/*.c shared/*.c)
STATIC_OBJS = $(patsubst %.c,$(STATIC_DIR)/%.o,$(STATIC_SRCS))
# Static, not PIE; musl has no _FORTIFY_SOURCE.
STATIC_CFLAGS = $(filter-out -fPIE -D_FORTIFY_SOURCE=2,$(COMMON_CFLAGS)) \
	-Os -g -ffunction-sections -fdata-sections -DCOCO_CRYPTO_GCRYPT \
	-isystem $(STATIC_PREFIX)/kernel-include \
	$(shell $(STATIC_PC) --cflags $(AGENT_LIBS_PC))
STATIC_LDFLAGS = -static -Wl,--gc-sections -Wl,-z,relro,-z,now
STATIC_PC = PKG_CONFIG_LIBDIR=$(STATIC_PREFIX)/lib/pkgconfig PKG_CONFIG_PATH= \
	$(PKG_CONFIG) --static

.PHONY: static static-binary static-tests static-test-programs install-static
# The prefix is found (or built) first, then a second make links against it.
static:
	@scripts/install-deps.sh build static
	@prefix=$$(CACHE="$(CACHE)" scripts/static/build-static-deps.sh) && \
	$(MAKE) --no-print-directory static-binary STATIC_PREFIX="$$prefix"
# What the static phase's own tests (tests/static/) link against the prefix;
# not part of `static`, which the package build runs.
static-tests:
	@prefix=$$(CACHE="$(CACHE)" scripts/static/build-static-deps.sh) && \
	$(MAKE) --no-print-directory static-test-programs STATIC_PREFIX="$$prefix"

ifneq ($(STATIC_PREFIX),)
static-binary: $(STATIC_DIR)/coco-unlock $(STATIC_DIR)/coco-unlock.stripped
static-test-programs: $(STATIC_DIR)/tests/kmod-modinfo

# Objects depend on the prefix they were built against.
$(STATIC_DIR)/prefix: static-force
	@mkdir -p $(dir $@)
	@echo '$(STATIC_PREFIX)' | cmp -s - $@ || echo '$(STATIC_PREFIX)' >$@

$(STATIC_DIR)/%.o: %.c $(STATIC_DIR)/prefix
	@mkdir -p $(dir $@)
	$(say) MUSLCC $@
	$(Q)$(STATIC_CC) $(STATIC_CFLAGS) -c -o $@ $<

$(STATIC_DIR)/coco-unlock: $(STATIC_OBJS)
	$(say) MUSLLD $@
	$(Q)$(STATIC_CC) -o $@ $^ $(STATIC_LDFLAGS) $(shell $(STATIC_PC) --libs $(AGENT_LIBS_PC))

# Test only (tests/static/test-kmod-zstd.sh): the prefix's libkmod reading
# a module file, as coco-unlock links it.
$(STATIC_DIR)/tests/kmod-modinfo: tests/static/kmod-modinfo.c $(STATIC_DIR)/prefix
	@mkdir -p $(dir $@)
	$(say) MUSLLD $@
	$(Q)$(STATIC_CC) $(STATIC_CFLAGS) -o $@ $< $(STATIC_LDFLAGS) $(shell $(STATIC_PC) --libs libkmod)

$(STATIC_DIR)/coco-unlock.stripped: $(STATIC_DIR)/coco-unlock
	$(say) STRIP $@
	$(Q)strip -o $@ $<
	@size=$$(stat -c %s $@); echo "  static  $@: $$size bytes"; \
	[ $$size -le $(STATIC_MAX_SIZE) ] || \
		echo "  static  WARNING: larger than the $(STATIC_MAX_SIZE)-byte target" >&2
else
static-binary static-test-programs:
	@echo "$@ needs STATIC_PREFIX; use 'make static' or 'make static-tests'" >&2; exit 2
endif

.PHONY: static-force
static-force:

# Not part of `make install`: installs a static build made earlier.
install-static:
	@test -x $(STATIC_DIR)/coco-unlock.stripped || \
		{ echo "run 'make static' first" >&2; exit 1; }
	install -D -m 0755 $(STATIC_DIR)/coco-unlock.stripped \
		$(DESTDIR)$(STATIC_LIBDIR)/coco-unlock.static
