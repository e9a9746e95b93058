# tests/unit/sched/: host unit tests of the credit scheduler's policy
# (common/sched_credit.c) with the hypervisor's own ticket spinlocks;
# tests/unit/evtchn's shim only makes interrupt masking a no-op.
SCHED_UNIT_DIR  := tests/unit/sched
SCHED_UNIT_SRCS := hypervisor/common/sched_credit.c tests/unit/hv_panic.c
SCHED_UNIT_DEPS := $(SCHED_UNIT_SRCS) $(wildcard tests/unit/mm/shim/asm/*.h \
	tests/unit/evtchn/shim/asm/*.h) hypervisor/include/hv/domain.h \
	hypervisor/include/hv/sched_credit.h hypervisor/include/hv/schedule.h \
	hypervisor/include/hv/spinlock.h

$(UNIT_BUILD)/sched/test_sched_credit: $(SCHED_UNIT_DIR)/test_sched_credit.c $(SCHED_UNIT_DEPS)
	@mkdir -p $(dir $@)
	$(Q)$(HOST_CC) $(HOST_CFLAGS) -fsanitize=address,undefined -fno-omit-frame-pointer \
	    -Itests/unit/evtchn/shim -Itests/unit/mm/shim -Ihypervisor/include \
	    -Ihypervisor/arch/x86_64/include -o $@ $< $(SCHED_UNIT_SRCS) -lcmocka

ALL_TARGETS += $(UNIT_BUILD)/sched/test_sched_credit
TESTS += $(UNIT_BUILD)/sched/test_sched_credit
