# tests/dom0link/build.mk - the Domain 0 link: the control client, domain
# builder and console backend of dom0/ (ctl*.c, build.c, console.c, with the
# shared builder hypervisor/common/pvbuild.c compiled for the host), their
# unit tests, the integration test against a real machine, and
# bench/create_latency.
#
# Outputs: build/tests/dom0link/* and build/asan/tests/dom0link/*
# (and build/dom0link/libdom0link.a + its ASan twin while dom0/build.mk
# does not build the link's sources into libdom0.a),
# build/bench/create_latency (`make bench`).
# The integration test and the benchmark boot build/pvcore.iso (or
# $PVCORE_ISO) and run build/guests/*.elf.

ASAN_FLAGS ?= -O1 -fsanitize=address,undefined -fno-omit-frame-pointer \
              -fno-sanitize-recover=undefined
DOM0LINK_CMOCKA := $(shell pkg-config --libs cmocka 2>/dev/null || echo -lcmocka)
DOM0LINK_CFLAGS := -Idom0 -Ihypervisor/include

DOM0LINK_HDRS := dom0/ctl_ring.h dom0/ctl.h dom0/console.h dom0/build.h dom0/machine.h \
                 dom0/dom0_error.h hypervisor/include/hv/pvbuild.h \
                 hypervisor/include/public/pvcore_ctl.h hypervisor/include/public/io/console.h

# Until dom0/build.mk puts the link's sources into libdom0.a, they are
# built here into libdom0link.a (linked before libdom0.a); once DOM0_SRCS
# has them, only libdom0.a is used.
ifeq ($(filter dom0/ctl.c,$(DOM0_SRCS)),)
DOM0LINK_SRCS := dom0/ctl_ring.c dom0/ctl.c dom0/ctl_ops.c dom0/console.c dom0/build.c
DOM0LINK_OBJS := $(patsubst dom0/%.c,$(BUILD)/dom0link/%.o,$(DOM0LINK_SRCS)) \
                 $(BUILD)/dom0link/pvbuild.o
DOM0LINK_ASAN_OBJS := $(patsubst $(BUILD)/%,$(BUILD)/asan/%,$(DOM0LINK_OBJS))

$(BUILD)/dom0link/%.o: dom0/%.c $(DOM0LINK_HDRS)
	$(Q)mkdir -p $(@D)
	$(Q)$(HOST_CC) $(HOST_CFLAGS) $(DOM0LINK_CFLAGS) -c $< -o $@

$(BUILD)/asan/dom0link/%.o: dom0/%.c $(DOM0LINK_HDRS)
	$(Q)mkdir -p $(@D)
	$(Q)$(HOST_CC) $(HOST_CFLAGS) $(ASAN_FLAGS) $(DOM0LINK_CFLAGS) -c $< -o $@

$(BUILD)/dom0link/pvbuild.o: hypervisor/common/pvbuild.c $(DOM0LINK_HDRS)
	$(Q)mkdir -p $(@D)
	$(Q)$(HOST_CC) $(HOST_CFLAGS) $(DOM0LINK_CFLAGS) -DPVBUILD_HOST -c $< -o $@

$(BUILD)/asan/dom0link/pvbuild.o: hypervisor/common/pvbuild.c $(DOM0LINK_HDRS)
	$(Q)mkdir -p $(@D)
	$(Q)$(HOST_CC) $(HOST_CFLAGS) $(ASAN_FLAGS) $(DOM0LINK_CFLAGS) -DPVBUILD_HOST -c $< -o $@

$(BUILD)/dom0link/libdom0link.a: $(DOM0LINK_OBJS)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/asan/dom0link/libdom0link.a: $(DOM0LINK_ASAN_OBJS)
	$(Q)rm -f $@ && ar rcs $@ $^

DOM0LINK_LIBS      := $(BUILD)/dom0link/libdom0link.a $(BUILD)/dom0/libdom0.a
DOM0LINK_ASAN_LIBS := $(BUILD)/asan/dom0link/libdom0link.a $(BUILD)/asan/dom0/libdom0.a
else
DOM0LINK_LIBS      := $(BUILD)/dom0/libdom0.a
DOM0LINK_ASAN_LIBS := $(BUILD)/asan/dom0/libdom0.a
endif

# Tests, each in a normal and a sanitized build: unit tests (cmocka) and
# the integration test (TAP, real QEMU).
DOM0LINK_UNIT_TESTS := test_ctl_ring test_console test_build
DOM0LINK_IT_TESTS   := test_link
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
                        $(BUILD)/tests/dom0link/$(t) $(BUILD)/asan/tests/dom0link/$(t))

# `make bench`: time from CREATE_DOMAIN to the guest's first console line.
$(BUILD)/bench/create_latency: bench/create_latency.c $(DOM0LINK_IT_SRCS) $(DOM0LINK_TEST_HDRS) \
		$(DOM0LINK_HDRS) $(DOM0LINK_LIBS)
	$(Q)mkdir -p $(@D)
	$(Q)$(HOST_CC) $(HOST_CFLAGS) $(DOM0LINK_CFLAGS) -Itests/dom0link -o $@ $< \
	    $(DOM0LINK_IT_SRCS) $(DOM0LINK_LIBS) $(DOM0_LIBS)

.PHONY: create-latency-bench
bench: create-latency-bench
create-latency-bench: $(BUILD)/bench/create_latency $(BUILD)/pvcore.iso $(BUILD)/guests/ticker.elf
	$(BUILD)/bench/create_latency

ALL_TARGETS  += $(DOM0LINK_TEST_BINS) $(BUILD)/bench/create_latency
TESTS        += $(DOM0LINK_TEST_BINS)
DEB_PACKAGES += libcmocka-dev pkg-config qemu-system-x86
