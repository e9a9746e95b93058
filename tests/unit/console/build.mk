# tests/unit/console/: host unit test of the guest console
# (common/console_io.c) with two vCPUs and the ring drain on host threads.
CONSOLE_UNIT_DIR := tests/unit/console

$(UNIT_BUILD)/console/test_console_io: $(CONSOLE_UNIT_DIR)/test_console_io.c \
		hypervisor/common/console_io.c hypervisor/include/hv/domain.h
	@mkdir -p $(dir $@)
	$(Q)$(HOST_CC) $(MM_UNIT_CFLAGS) -pthread -o $@ $< hypervisor/common/console_io.c -lcmocka

ALL_TARGETS += $(UNIT_BUILD)/console/test_console_io
TESTS += $(UNIT_BUILD)/console/test_console_io
