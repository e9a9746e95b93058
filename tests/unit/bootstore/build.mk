# tests/unit/bootstore/: host unit tests of the boot-loader domains'
# xenstore (hypervisor/common/bootstore.c) with the hypervisor's own
# string and format code.
$(UNIT_BUILD)/bootstore/test_bootstore: tests/unit/bootstore/test_bootstore.c \
		hypervisor/common/bootstore.c hypervisor/include/hv/bootstore.h \
		hypervisor/lib/string.c hypervisor/lib/vsnprintf.c hypervisor/include/public/io/xs_wire.h
	@mkdir -p $(dir $@)
	$(Q)$(HOST_CC) $(UNIT_CFLAGS) -fno-builtin -o $@ tests/unit/bootstore/test_bootstore.c \
		hypervisor/common/bootstore.c hypervisor/lib/string.c hypervisor/lib/vsnprintf.c -lcmocka

ALL_TARGETS += $(UNIT_BUILD)/bootstore/test_bootstore
TESTS += $(UNIT_BUILD)/bootstore/test_bootstore
