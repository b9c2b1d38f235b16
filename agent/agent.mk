# coco-unlock, the initramfs agent. Every agent/*.c but main.c also goes
# into the unit tests, so each concern can be tested on its own. It links
# shared/ (shared/shared.mk), the library it shares with coco-secret and
# the token plugin.

AGENT_LIBS_PC := libcryptsetup libkmod json-c
AGENT_LIBS = $(shell $(PKG_CONFIG) --libs $(AGENT_LIBS_PC)) $(CRYPTO_LIBS)
EXTRA_CFLAGS_agent = $(shell $(PKG_CONFIG) --cflags $(AGENT_LIBS_PC))
EXTRA_CFLAGS_tests = $(EXTRA_CFLAGS_agent)

AGENT_LIB_SRCS := $(filter-out agent/main.c,$(wildcard agent/*.c))
AGENT_LIB_OBJS = $(patsubst %.c,$(BUILD)/%.o,$(AGENT_LIB_SRCS))

all: $(BUILD)/coco-unlock

$(BUILD)/coco-unlock: $(BUILD)/agent/main.o $(AGENT_LIB_OBJS) $(SHARED_LIB)
	$(say) LD $@
	$(Q)$(CC) -o $@ $^ $(LDFLAGS) $(AGENT_LIBS)

install: install-agent
.PHONY: install-agent
install-agent: $(BUILD)/coco-unlock
	install -D -m 0755 $(BUILD)/coco-unlock $(DESTDIR)$(SBINDIR)/coco-unlock
	install -D -m 0644 agent/coco-unlock.8 $(DESTDIR)$(MANDIR)/man8/coco-unlock.8
