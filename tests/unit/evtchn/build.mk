# tests/unit/evtchn/: host unit tests of the event channels (common/
# event_channel.c, evtchn_2l.c, evtchn_fifo.c) with the page references
# they take (arch/x86_64/mm.c), on tests/unit/mm's harness (fake machine
# memory, the real heap and frame table). shim/ only silences cli/sti.
EVTCHN_UNIT_DIR  := tests/unit/evtchn
EVTCHN_UNIT_SRCS := tests/unit/mm/harness.c tests/unit/hv_panic.c hypervisor/mm/buddy.c hypervisor/arch/x86_64/mm.c \
	hypervisor/arch/x86_64/mm_linear.c hypervisor/common/unimplemented.c \
	hypervisor/common/event_channel.c hypervisor/common/evtchn_2l.c \
	hypervisor/common/evtchn_fifo.c
EVTCHN_UNIT_DEPS := $(EVTCHN_UNIT_SRCS) $(wildcard tests/unit/mm/*.h tests/unit/mm/shim/asm/*.h \
	$(EVTCHN_UNIT_DIR)/shim/asm/*.h) hypervisor/include/hv/event.h \
	hypervisor/include/public/event_channel.h hypervisor/include/hv/pagetype.h

$(UNIT_BUILD)/evtchn/test_evtchn_fifo: $(EVTCHN_UNIT_DIR)/test_evtchn_fifo.c $(EVTCHN_UNIT_DEPS)
	@mkdir -p $(dir $@)
	$(Q)$(HOST_CC) $(HOST_CFLAGS) -fsanitize=address,undefined -fno-omit-frame-pointer \
	    -I$(EVTCHN_UNIT_DIR)/shim -Itests/unit/mm/shim -Itests/unit/mm -Ihypervisor/include \
	    -Ihypervisor/arch/x86_64/include -o $@ $< $(EVTCHN_UNIT_SRCS) -lcmocka

ALL_TARGETS += $(UNIT_BUILD)/evtchn/test_evtchn_fifo
TESTS += $(UNIT_BUILD)/evtchn/test_evtchn_fifo
