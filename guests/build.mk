# PV test kernels (guests/) and `make test-xen`.
#
# Builds build/guests/<name>.elf for every guests/kernels/<name>.c, linked
# with the library in guests/lib/ at 0xffffffff80000000. `make test-xen`
# boots each kernel as dom0 of Debian's Xen 4.17 under QEMU and checks its
# expected outcome (tests/xen/), plus the ABI layout check against Debian's
# Xen headers. Both Debian packages are unpacked under $(BUILD)/xen, never
# installed.

GUEST_KERNELS := $(sort $(basename $(notdir $(wildcard guests/kernels/*.c))))
GUEST_ELFS    := $(GUEST_KERNELS:%=$(BUILD)/guests/%.elf)
GUEST_CC      ?= gcc
GUEST_LD      ?= ld
GUEST_CFLAGS  := -std=gnu11 -O2 -g -Wall -Wextra -Werror -Wshadow \
                 -Wstrict-prototypes -Wmissing-prototypes \
                 -ffreestanding -nostdlib -mno-red-zone -fno-pic -fno-pie \
                 -mcmodel=kernel -fno-stack-protector -mgeneral-regs-only \
                 -fno-asynchronous-unwind-tables -fno-omit-frame-pointer \
                 -Ihypervisor/include -Iguests/lib -MMD -MP
GUEST_LIB_SRCS := $(sort $(wildcard guests/lib/*.c guests/lib/*.S))
# The freestanding string / formatting routines are shared with the
# hypervisor rather than written twice.
GUEST_SHARED_SRCS := hypervisor/lib/string.c hypervisor/lib/vsnprintf.c
GUEST_LIB_OBJS := $(GUEST_LIB_SRCS:guests/lib/%=$(BUILD)/guests/lib/%.o) \
                  $(GUEST_SHARED_SRCS:hypervisor/lib/%=$(BUILD)/guests/shared/%.o)

ALL_TARGETS  += $(GUEST_ELFS)
DEB_PACKAGES += qemu-system-x86 grub-pc-bin xorriso

$(BUILD)/guests/lib/%.c.o: guests/lib/%.c
	@mkdir -p $(dir $@)
	$(Q)$(GUEST_CC) $(GUEST_CFLAGS) -c $< -o $@

$(BUILD)/guests/lib/%.S.o: guests/lib/%.S
	@mkdir -p $(dir $@)
	$(Q)$(GUEST_CC) $(GUEST_CFLAGS) -c $< -o $@

$(BUILD)/guests/shared/%.c.o: hypervisor/lib/%.c
	@mkdir -p $(dir $@)
	$(Q)$(GUEST_CC) $(GUEST_CFLAGS) -c $< -o $@

$(BUILD)/guests/kernels/%.c.o: guests/kernels/%.c
	@mkdir -p $(dir $@)
	$(Q)$(GUEST_CC) $(GUEST_CFLAGS) -c $< -o $@

$(BUILD)/guests/%.elf: $(BUILD)/guests/kernels/%.c.o $(GUEST_LIB_OBJS) \
                       guests/lib/kernel.ld
	$(Q)$(GUEST_LD) -nostdlib -static -z max-page-size=4096 --no-warn-rwx-segments \
	    -T guests/lib/kernel.ld -o $@ $< $(GUEST_LIB_OBJS)

.SECONDARY: $(GUEST_LIB_OBJS) $(GUEST_KERNELS:%=$(BUILD)/guests/kernels/%.c.o)

-include $(wildcard $(BUILD)/guests/lib/*.d $(BUILD)/guests/shared/*.d \
                    $(BUILD)/guests/kernels/*.d)

.PHONY: test-xen guests
guests: $(GUEST_ELFS)

test-xen: $(GUEST_ELFS)
	$(Q)BUILD=$(BUILD) TEST_TIMEOUT=900 sh tests/run-tests.sh \
	    tests/xen/abi-layout.sh tests/xen/boot-kernels.sh tests/linux/linux-xen.sh
