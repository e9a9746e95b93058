# tests/unit/domain/: host unit tests of the domain state changes
# (common/domain_state.c) with the hypervisor's own ticket spinlocks on
# real atomics and pthreads racing them; tests/unit/evtchn's shim only
# makes interrupt masking a no-op.
DOMAIN_UNIT_DIR  := tests/unit/domain
DOMAIN_UNIT_SRCS := hypervisor/common/domain_state.c tests/unit/hv_panic.c
DOMAIN_UNIT_DEPS := $(DOMAIN_UNIT_SRCS) $(wildcard tests/unit/mm/shim/asm/*.h \
	tests/unit/evtchn/shim/asm/*.h) hypervisor/include/hv/domain.h \
	hypervisor/include/hv/spinlock.h hypervisor/include/public/sched.h

$(UNIT_BUILD)/domain/test_domain_state: $(DOMAIN_UNIT_DIR)/test_domain_state.c $(DOMAIN_UNIT_DEPS)
	@mkdir -p $(dir $@)
	$(Q)$(HOST_CC) $(HOST_CFLAGS) -fsanitize=address,undefined -fno-omit-frame-pointer -pthread \
	    -Itests/unit/evtchn/shim -Itests/unit/mm/shim -Ihypervisor/include \
	    -Ihypervisor/arch/x86_64/include -o $@ $< $(DOMAIN_UNIT_SRCS) -lcmocka

ALL_TARGETS += $(UNIT_BUILD)/domain/test_domain_state
TESTS += $(UNIT_BUILD)/domain/test_domain_state
