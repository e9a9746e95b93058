# tests/unit/mm/: host unit tests of the guest memory code (arch/x86_64/mm.c,
# pv/mmu.c, common/memory.c, pv/ptwr.c) against a harness with fake machine memory.
# shim/ comes first on the include path: it replaces the direct-map
# conversions and CR3/INVLPG of the hypervisor's asm headers, nothing else.
MM_UNIT_DIR    := tests/unit/mm
MM_UNIT_CFLAGS := $(HOST_CFLAGS) -fsanitize=address,undefined -fno-omit-frame-pointer \
	-I$(MM_UNIT_DIR)/shim -I$(MM_UNIT_DIR) -Ihypervisor/include -Ihypervisor/arch/x86_64/include
MM_UNIT_COMMON := $(MM_UNIT_DIR)/harness.c tests/unit/hv_panic.c hypervisor/mm/buddy.c hypervisor/arch/x86_64/mm.c hypervisor/arch/x86_64/mm_linear.c hypervisor/arch/x86_64/mm_teardown.c \
	hypervisor/common/unimplemented.c hypervisor/common/batch.c
MM_UNIT_DEPS   := $(MM_UNIT_COMMON) $(wildcard $(MM_UNIT_DIR)/*.h $(MM_UNIT_DIR)/shim/asm/*.h) \
	hypervisor/include/hv/pagetype.h hypervisor/arch/x86_64/include/asm/guest_mm.h \
	hypervisor/include/hv/batch.h

$(UNIT_BUILD)/mm/test_pagetype: $(MM_UNIT_DIR)/test_pagetype.c $(MM_UNIT_DEPS)
	@mkdir -p $(dir $@)
	$(Q)$(HOST_CC) $(MM_UNIT_CFLAGS) -o $@ $< $(MM_UNIT_COMMON) -lcmocka

$(UNIT_BUILD)/mm/test_hypercalls: $(MM_UNIT_DIR)/test_hypercalls.c $(MM_UNIT_DEPS) \
		hypervisor/arch/x86_64/pv/mmu.c hypervisor/common/memory.c
	@mkdir -p $(dir $@)
	$(Q)$(HOST_CC) $(MM_UNIT_CFLAGS) -o $@ $< $(MM_UNIT_COMMON) \
		hypervisor/arch/x86_64/pv/mmu.c hypervisor/common/memory.c -lcmocka

$(UNIT_BUILD)/mm/test_ptwr: $(MM_UNIT_DIR)/test_ptwr.c $(MM_UNIT_DEPS) \
		hypervisor/arch/x86_64/pv/mmu.c hypervisor/common/memory.c \
		hypervisor/arch/x86_64/pv/ptwr.c hypervisor/arch/x86_64/pv/ptwr_insn.c \
		hypervisor/include/hv/ptwr.h hypervisor/arch/x86_64/include/asm/ptwr_insn.h
	@mkdir -p $(dir $@)
	$(Q)$(HOST_CC) $(MM_UNIT_CFLAGS) -o $@ $< $(MM_UNIT_COMMON) \
		hypervisor/arch/x86_64/pv/mmu.c hypervisor/common/memory.c \
		hypervisor/arch/x86_64/pv/ptwr.c hypervisor/arch/x86_64/pv/ptwr_insn.c -lcmocka

MM_UNIT_TESTS := $(UNIT_BUILD)/mm/test_pagetype $(UNIT_BUILD)/mm/test_hypercalls \
	$(UNIT_BUILD)/mm/test_ptwr
ALL_TARGETS += $(MM_UNIT_TESTS)
TESTS += $(MM_UNIT_TESTS)
