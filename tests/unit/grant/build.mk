# tests/unit/grant/: host unit tests of the grant tables (common/grant_*.c)
# with the guest memory code they build on (arch/x86_64/mm.c, pv/mmu.c,
# common/memory.c), on tests/unit/mm's harness (fake machine memory, the
# real buddy heap and frame table), compiled in rather than copied.
# This fragment is read before tests/unit/mm/build.mk, so it names the
# harness files itself; MM_UNIT_CFLAGS is only used in the recipe.
GRANT_UNIT_DIR  := tests/unit/grant
GRANT_UNIT_SRCS := tests/unit/mm/harness.c tests/unit/hv_panic.c hypervisor/mm/buddy.c hypervisor/arch/x86_64/mm.c hypervisor/arch/x86_64/mm_linear.c hypervisor/arch/x86_64/mm_teardown.c \
	hypervisor/arch/x86_64/pv/mmu.c hypervisor/common/memory.c hypervisor/common/grant_table.c \
	hypervisor/common/grant_pin.c hypervisor/common/grant_map.c hypervisor/common/grant_copy.c \
	hypervisor/common/grant_version.c \
	hypervisor/common/unimplemented.c hypervisor/common/batch.c
GRANT_UNIT_DEPS := $(GRANT_UNIT_SRCS) $(wildcard tests/unit/mm/*.h tests/unit/mm/shim/asm/*.h) \
	hypervisor/common/grant_priv.h \
	hypervisor/include/hv/grant_table.h hypervisor/include/public/grant_table.h \
	hypervisor/include/hv/pagetype.h hypervisor/arch/x86_64/include/asm/guest_mm.h \
	hypervisor/include/hv/batch.h

$(UNIT_BUILD)/grant/test_grant_table: $(GRANT_UNIT_DIR)/test_grant_table.c $(GRANT_UNIT_DEPS)
	@mkdir -p $(dir $@)
	$(Q)$(HOST_CC) $(MM_UNIT_CFLAGS) -o $@ $< $(GRANT_UNIT_SRCS) -lcmocka

ALL_TARGETS += $(UNIT_BUILD)/grant/test_grant_table
TESTS += $(UNIT_BUILD)/grant/test_grant_table
