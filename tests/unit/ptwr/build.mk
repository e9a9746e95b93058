# tests/unit/ptwr/: host unit tests of writable page-table emulation: the
# instruction decoder/executor (pv/ptwr_insn.c) run against this CPU.
PTWR_UNIT_DIR := tests/unit/ptwr

$(UNIT_BUILD)/ptwr/test_ptwr_insn: $(PTWR_UNIT_DIR)/test_ptwr_insn.c \
		hypervisor/arch/x86_64/pv/ptwr_insn.c hypervisor/arch/x86_64/include/asm/ptwr_insn.h
	@mkdir -p $(dir $@)
	$(Q)$(HOST_CC) $(UNIT_CFLAGS) -o $@ $< hypervisor/arch/x86_64/pv/ptwr_insn.c -lcmocka

ALL_TARGETS += $(UNIT_BUILD)/ptwr/test_ptwr_insn
TESTS += $(UNIT_BUILD)/ptwr/test_ptwr_insn
