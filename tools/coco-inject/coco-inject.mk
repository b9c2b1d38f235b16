# coco-inject.efi: the UEFI application that plays the firmware's part in
# the boot tests and the demo (see coco-inject.c). Built with Debian's
# gnu-efi (scripts/install-deps.sh boot); not part of `make all`.
#
#   make coco-inject    ->  $(BUILD)/coco-inject.efi

INJECT_DIR = $(BUILD)/coco-inject
EFI_INC ?= /usr/include/efi
EFI_LIBDIR ?= /usr/lib
EFI_CRT0 = $(EFI_LIBDIR)/crt0-efi-x86_64.o
EFI_LDS = $(EFI_LIBDIR)/elf_x86_64_efi.lds
# UEFI code: freestanding, position-independent, MS calling convention for
# firmware calls, 16-bit wchar_t for L"" strings. No stack protector or
# fortify (no libc). gnu11: gnu-efi's headers use GNU extensions.
INJECT_CFLAGS = -std=gnu11 -O2 -g -ffreestanding -fno-stack-protector \
	-fno-strict-aliasing -fpic -fshort-wchar -mno-red-zone \
	-maccumulate-outgoing-args -DGNU_EFI_USE_MS_ABI \
	-I$(EFI_INC) -I$(EFI_INC)/x86_64 -Wall -Wextra -Werror -MMD -MP
INJECT_LDFLAGS = -nostdlib -znocombreloc -T $(EFI_LDS) -shared -Bsymbolic \
	-L$(EFI_LIBDIR) $(EFI_CRT0)
INJECT_SECTIONS = -j .text -j .sdata -j .data -j .rodata -j .dynamic \
	-j .dynsym -j .rel -j .rela -j '.rel.*' -j '.rela.*' -j .reloc

.PHONY: coco-inject
coco-inject: $(BUILD)/coco-inject.efi

$(INJECT_DIR)/coco-inject.o: tools/coco-inject/coco-inject.c
	@mkdir -p $(dir $@)
	$(say) EFICC $@
	$(Q)$(CC) $(INJECT_CFLAGS) -c -o $@ $<

$(INJECT_DIR)/coco-inject.so: $(INJECT_DIR)/coco-inject.o
	$(say) EFILD $@
	$(Q)$(LD) $(INJECT_LDFLAGS) -o $@ $< -lefi -lgnuefi

$(BUILD)/coco-inject.efi: $(INJECT_DIR)/coco-inject.so
	$(say) OBJCOPY $@
	$(Q)objcopy $(INJECT_SECTIONS) --target efi-app-x86_64 --subsystem=10 $< $@
