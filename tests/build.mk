# tests/: host unit tests of hypervisor code (cmocka) and the boot tests
# that run the hypervisor under QEMU.
UNIT_BUILD := $(BUILD)/tests/unit
UNIT_CFLAGS := $(HOST_CFLAGS) -fsanitize=address,undefined -fno-omit-frame-pointer \
	-Ihypervisor/include -Ihypervisor/arch/x86_64/include

$(UNIT_BUILD)/test_buddy: tests/unit/test_buddy.c hypervisor/mm/buddy.c \
		hypervisor/include/hv/buddy.h hypervisor/include/hv/page.h
	@mkdir -p $(dir $@)
	$(Q)$(HOST_CC) $(UNIT_CFLAGS) -o $@ tests/unit/test_buddy.c hypervisor/mm/buddy.c -lcmocka

$(UNIT_BUILD)/test_hvlib: tests/unit/test_hvlib.c hypervisor/lib/vsnprintf.c hypervisor/lib/string.c \
		hypervisor/include/hv/lib.h
	@mkdir -p $(dir $@)
	$(Q)$(HOST_CC) $(UNIT_CFLAGS) -fno-builtin -o $@ tests/unit/test_hvlib.c \
		hypervisor/lib/vsnprintf.c hypervisor/lib/string.c -lcmocka

$(UNIT_BUILD)/test_usercopy: tests/unit/test_usercopy.c tests/unit/usercopy_extable.S \
		hypervisor/arch/x86_64/usercopy.S
	@mkdir -p $(dir $@)
	$(Q)$(HOST_CC) $(HOST_CFLAGS) -no-pie -Ihypervisor/arch/x86_64/include -o $@ \
		tests/unit/test_usercopy.c tests/unit/usercopy_extable.S -lcmocka

UNIT_TESTS := $(UNIT_BUILD)/test_buddy $(UNIT_BUILD)/test_hvlib $(UNIT_BUILD)/test_usercopy
ALL_TARGETS += $(UNIT_TESTS)
TESTS += $(UNIT_TESTS) tests/boot/boot_test.sh tests/boot/fault_test.sh tests/boot/poweroff_test.sh
TESTS += tests/guests/pvcore_guests.sh
TESTS += tests/guests/events_test.sh
TESTS += tests/guests/sched_test.sh
TESTS += tests/guests/bootloader_test.sh
TESTS += tests/guests/grant_test.sh
TESTS += tests/guests/hardening_test.sh
TESTS += tests/guests/batch_test.sh
TESTS += tests/guests/lifetime_test.sh
TESTS += tests/guests/soak_test.sh

# `make soak`: the soak test for SOAK_SECONDS (default an hour); SOAK_SEED
# replays a run.
.PHONY: soak
soak: real-all
	$(Q)BUILD=$(BUILD) SOAK_SECONDS=$${SOAK_SECONDS:-3600} SOAK_SEED=$${SOAK_SEED:-$$(date +%s)} \
	    TEST_TIMEOUT=$$(( $${SOAK_SECONDS:-3600} + 900 )) \
	    sh tests/run-tests.sh tests/guests/soak_test.sh

# `make lifetime-soak`: the lifetime test with 5000 rebuilds of the victim
# (LIFETIME_RESTARTS to change; 2000 took 366 s on a quiet 2-core host, an hour or
# more when it is loaded).
.PHONY: lifetime-soak
lifetime-soak: real-all
	$(Q)BUILD=$(BUILD) LIFETIME_RESTARTS=$${LIFETIME_RESTARTS:-5000} LIFETIME_TIMEOUT=$${LIFETIME_TIMEOUT:-14400} \
	    TEST_TIMEOUT=$${LIFETIME_TIMEOUT:-14400} sh tests/run-tests.sh tests/guests/lifetime_test.sh
