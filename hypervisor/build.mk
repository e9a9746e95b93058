# hypervisor/: the bare-metal pvcore image (multiboot2 ELF) and its ISO.
HV_SRC_DIR := hypervisor
HV_BUILD   := $(BUILD)/hypervisor

HV_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wno-unused-parameter \
	-ffreestanding -fno-builtin -nostdinc -fno-stack-protector -fpie \
	-mno-red-zone -mno-mmx -mno-sse -mno-sse2 -mno-avx -mgeneral-regs-only \
	-fno-omit-frame-pointer -fno-optimize-sibling-calls -fno-asynchronous-unwind-tables \
	-fcf-protection=none -fno-common \
	-isystem $(shell $(CC) -print-file-name=include) \
	-I$(HV_SRC_DIR)/include -I$(HV_SRC_DIR)/arch/x86_64/include -Ibuilder
HV_ASFLAGS := -D__ASSEMBLER__ -I$(HV_SRC_DIR)/include -I$(HV_SRC_DIR)/arch/x86_64/include
HV_LDFLAGS := -nostdlib -static -z max-page-size=4096 -z noexecstack --no-relax \
	-T $(HV_SRC_DIR)/arch/x86_64/linker.ld

HV_C_SRCS := $(wildcard $(HV_SRC_DIR)/common/*.c $(HV_SRC_DIR)/mm/*.c \
	$(HV_SRC_DIR)/lib/*.c $(HV_SRC_DIR)/arch/x86_64/*.c $(HV_SRC_DIR)/arch/x86_64/pv/*.c)
HV_S_SRCS := $(wildcard $(HV_SRC_DIR)/arch/x86_64/*.S $(HV_SRC_DIR)/arch/x86_64/pv/*.S)

HV_ELF := $(HV_BUILD)/pvcore.elf
ISO    := $(BUILD)/pvcore.iso
# Command line of the ISO `make iso` builds; e.g. make iso HV_CMDLINE="loglevel=debug".
HV_CMDLINE ?= loglevel=info

# The debug image (tests that hunt use-after-free and refcount bugs boot it
# with HV_ELF=...): ASSERT()s checked, every freed frame poisoned.
HV_DEBUG_BUILD := $(BUILD)/hypervisor-debug
HV_DEBUG_ELF   := $(HV_DEBUG_BUILD)/pvcore.elf
# `make HV_DEBUG=1` makes the main image a debug one as well.
HV_IMAGE_CFLAGS := $(if $(HV_DEBUG),-DHV_DEBUG=1)

ALL_TARGETS += $(HV_ELF) $(ISO) $(HV_DEBUG_ELF)

# hv_image DIR EXTRA_CFLAGS: the rules for one hypervisor image under DIR.
define hv_image
$(1)_OBJS := $$(patsubst $$(HV_SRC_DIR)/%,$(1)/%,$$(HV_C_SRCS:.c=.o) $$(HV_S_SRCS:.S=.o)) \
	$(1)/builder/pvbuild.o

# Rebuild everything when the flags change.
$(1)/flags: FORCE
	@mkdir -p $$(dir $$@)
	@echo '$$(HV_CFLAGS) $(2) $$(HV_ASFLAGS) $$(HV_LDFLAGS)' > $$@.tmp
	@cmp -s $$@.tmp $$@ || mv $$@.tmp $$@; rm -f $$@.tmp

$(1)/%.o: $$(HV_SRC_DIR)/%.c $(1)/flags
	@mkdir -p $$(dir $$@)
	$$(Q)$$(CC) $$(HV_CFLAGS) $(2) -MMD -MP -c $$< -o $$@

# The domain builder shared with Domain 0 (builder/build.mk).
$(1)/builder/pvbuild.o: $$(PVBUILD_SRC) $(1)/flags
	@mkdir -p $$(dir $$@)
	$$(Q)$$(CC) $$(HV_CFLAGS) $(2) -MMD -MP -c $$< -o $$@

$(1)/%.o: $$(HV_SRC_DIR)/%.S $(1)/flags
	@mkdir -p $$(dir $$@)
	$$(Q)$$(CC) $$(HV_ASFLAGS) $(2) -MMD -MP -c $$< -o $$@

-include $$($(1)_OBJS:.o=.d)

# Two-pass link: the first image has an empty symbol table; its text symbols
# become the table of the second. The table sits in .rodata, after .text, so
# text addresses are identical in both passes (checked).
$(1)/symtab0.S: $$(HV_SRC_DIR)/tools/gensymtab.sh
	@mkdir -p $$(dir $$@)
	$$(Q)sh $$< > $$@
$(1)/pass1.elf: $$($(1)_OBJS) $(1)/symtab0.o $$(HV_SRC_DIR)/arch/x86_64/linker.ld
	$$(Q)$$(LD) $$(HV_LDFLAGS) -o $$@ $$($(1)_OBJS) $(1)/symtab0.o
$(1)/symtab1.S: $(1)/pass1.elf $$(HV_SRC_DIR)/tools/gensymtab.sh
	$$(Q)sh $$(HV_SRC_DIR)/tools/gensymtab.sh $$< > $$@
$(1)/pvcore.elf: $(1)/pass1.elf $(1)/symtab1.o
	$$(Q)$$(LD) $$(HV_LDFLAGS) -o $$@ $$($(1)_OBJS) $(1)/symtab1.o
	$$(Q)nm -n $(1)/pass1.elf | grep -i ' t ' > $$@.syms1
	$$(Q)nm -n $$@ | grep -i ' t ' > $$@.syms2
	$$(Q)cmp -s $$@.syms1 $$@.syms2 || { echo "symbol table changed text layout" >&2; rm -f $$@; exit 1; }
	@echo "  LD      $$@"
endef

$(eval $(call hv_image,$(HV_BUILD),$(HV_IMAGE_CFLAGS)))
$(eval $(call hv_image,$(HV_DEBUG_BUILD),-DHV_DEBUG=1))
HV_OBJS := $($(HV_BUILD)_OBJS)

$(HV_BUILD)/grub.cfg: $(HV_SRC_DIR)/build.mk FORCE
	@mkdir -p $(dir $@)
	@printf '%s\n' 'serial --unit=0 --speed=115200' 'terminal_input serial' \
		'terminal_output serial' 'set timeout=0' 'menuentry "pvcore" {' \
		'  multiboot2 /boot/pvcore.elf $(HV_CMDLINE)' '  boot' '}' > $@.tmp
	@cmp -s $@.tmp $@ || mv $@.tmp $@; rm -f $@.tmp

$(ISO): $(HV_ELF) $(HV_BUILD)/grub.cfg tests/lib/mkiso.sh
	$(Q)sh tests/lib/mkiso.sh $@ $(HV_BUILD)/grub.cfg $(HV_ELF)=/boot/pvcore.elf
	@echo "  ISO     $@"

.PHONY: iso FORCE
iso: $(ISO)
FORCE:
