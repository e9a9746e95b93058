# tests/dom0link/build.mk - the Domain 0 link: the control client, domain
# builder and console backend of dom0/ (ctl*.c, build.c, console.c, with the
# shared builder builder/pvbuild.c, all in libdom0.a), their unit tests,
# the integration test against a real machine, and bench/create_latency.
#
# Outputs: build/tests/dom0link/* and build/asan/tests/dom0link/*,
# build/bench/create_latency (`make bench`).
# The integration test and the benchmark boot build/pvcore.iso (or
# $PVCORE_ISO) and run build/guests/*.elf.

ASAN_FLAGS ?= -O1 -fsanitize=address,undefined -fno-omit-frame-pointer \
              -fno-sanitize-recover=undefined
DOM0LINK_CMOCKA := $(shell pkg-config --libs cmocka 2>/dev/null || echo -lcmocka)
DOM0LINK_CFLAGS := -Idom0 $(HOST_PUBLIC_CFLAGS)

DOM0LINK_HDRS := dom0/ctl_ring.h dom0/ctl.h dom0/console.h dom0/build.h dom0/machine.h \
                 dom0/dom0_error.h $(PVBUILD_HDR) $(PUBLIC_HDRS)

DOM0LINK_LIBS      := $(BUILD)/dom0/libdom0.a
DOM0LINK_ASAN_LIBS := $(BUILD)/asan/dom0/libdom0.a

# Tests, each in a normal and a sanitized build: unit tests (cmocka) and
# the integration test (TAP, real QEMU).
DOM0LINK_UNIT_TESTS := test_ctl_ring test_console test_build
DOM0LINK_IT_TESTS   := test_link test_grant_batch test_ctl_async
# The port-leak test runs its 1100 start/destroy cycles once: the leak it
# guards against is the hypervisor's, so a sanitized twin adds minutes
# and nothing else.
DOM0LINK_ONCE_TESTS := test_ports
DOM0LINK_TEST_HDRS  := $(wildcard tests/dom0link/*.h)
DOM0LINK_IT_SRCS    := tests/dom0link/link_harness.c

$(BUILD)/tests/dom0link/%: tests/dom0link/%.c $(DOM0LINK_IT_SRCS) $(DOM0LINK_TEST_HDRS) \
		$(DOM0LINK_HDRS) $(DOM0LINK_LIBS)
	$(Q)mkdir -p $(@D)
	$(Q)$(HOST_CC) $(HOST_CFLAGS) $(DOM0LINK_CFLAGS) -Itests/dom0link -o $@ $< \
	    $(DOM0LINK_IT_SRCS) $(DOM0LINK_LIBS) $(DOM0_LIBS) $(DOM0LINK_CMOCKA)

$(BUILD)/asan/tests/dom0link/%: tests/dom0link/%.c $(DOM0LINK_IT_SRCS) $(DOM0LINK_TEST_HDRS) \
		$(DOM0LINK_HDRS) $(DOM0LINK_ASAN_LIBS)
	$(Q)mkdir -p $(@D)
	$(Q)$(HOST_CC) $(HOST_CFLAGS) $(ASAN_FLAGS) $(DOM0LINK_CFLAGS) -Itests/dom0link -o $@ $< \
	    $(DOM0LINK_IT_SRCS) $(DOM0LINK_ASAN_LIBS) $(DOM0_LIBS) $(DOM0LINK_CMOCKA)

DOM0LINK_TEST_BINS := $(foreach t,$(DOM0LINK_UNIT_TESTS) $(DOM0LINK_IT_TESTS), \
                        $(BUILD)/tests/dom0link/$(t) $(BUILD)/asan/tests/dom0link/$(t)) \
                      $(addprefix $(BUILD)/tests/dom0link/,$(DOM0LINK_ONCE_TESTS))

# `make bench-create`: time from CREATE_DOMAIN to the guest's first console
# line, step by step (bench/create_latency.c; BENCH_CREATE_RUNS, default 20).
$(BUILD)/bench/create_latency: bench/create_latency.c $(DOM0LINK_IT_SRCS) $(DOM0LINK_TEST_HDRS) \
		$(DOM0LINK_HDRS) $(DOM0LINK_LIBS)
	$(Q)mkdir -p $(@D)
	$(Q)$(HOST_CC) $(HOST_CFLAGS) $(DOM0LINK_CFLAGS) -Itests/dom0link -o $@ $< \
	    $(DOM0LINK_IT_SRCS) $(DOM0LINK_LIBS) $(DOM0_LIBS)

.PHONY: bench-create
bench: bench-create
bench-create: $(BUILD)/bench/create_latency $(BUILD)/pvcore.iso $(BUILD)/guests/ticker.elf
	$(BUILD)/bench/create_latency $(BENCH_CREATE_RUNS)

ALL_TARGETS  += $(DOM0LINK_TEST_BINS) $(BUILD)/bench/create_latency
TESTS        += $(DOM0LINK_TEST_BINS)
DEB_PACKAGES += libcmocka-dev pkg-config qemu-system-x86
