# tests/xenstore/build.mk - unit tests of the xenstore server in dom0/
# (xs_wire.c, xs_tree.c, xs_watch.c, xs_transaction.c, xs_conn.c, xs_ops.c,
# xenstore.c, xs_persist.c), each in a normal and an ASan/UBSan build,
# linked against libdom0.a.
#
# Outputs: build/tests/xenstore/*, build/asan/tests/xenstore/*.

ASAN_FLAGS ?= -O1 -fsanitize=address,undefined -fno-omit-frame-pointer \
              -fno-sanitize-recover=undefined
XS_TESTS   := test_xs_wire test_xs_tree test_xs_server test_xs_persist
XS_TEST_HDRS := $(wildcard tests/xenstore/*.h) $(wildcard dom0/xs_*.h) dom0/xenstore.h \
                hypervisor/include/public/io/xs_wire.h
XS_CMOCKA  := $(shell pkg-config --libs cmocka 2>/dev/null || echo -lcmocka)

$(BUILD)/tests/xenstore/%: tests/xenstore/%.c $(XS_TEST_HDRS) $(BUILD)/dom0/libdom0.a | $(PUBLIC_LINK)
	$(Q)mkdir -p $(@D)
	$(Q)$(HOST_CC) $(HOST_CFLAGS) -Idom0 $(HOST_PUBLIC_CFLAGS) -Itests/xenstore -o $@ $< \
	    $(BUILD)/dom0/libdom0.a $(XS_CMOCKA)

$(BUILD)/asan/tests/xenstore/%: tests/xenstore/%.c $(XS_TEST_HDRS) $(BUILD)/asan/dom0/libdom0.a | $(PUBLIC_LINK)
	$(Q)mkdir -p $(@D)
	$(Q)$(HOST_CC) $(HOST_CFLAGS) $(ASAN_FLAGS) -Idom0 $(HOST_PUBLIC_CFLAGS) -Itests/xenstore \
	    -o $@ $< $(BUILD)/asan/dom0/libdom0.a $(XS_CMOCKA)

XS_TEST_BINS := $(addprefix $(BUILD)/tests/xenstore/,$(XS_TESTS)) \
                $(addprefix $(BUILD)/asan/tests/xenstore/,$(XS_TESTS))

ALL_TARGETS  += $(XS_TEST_BINS)
TESTS        += $(XS_TEST_BINS)
DEB_PACKAGES += libcmocka-dev pkg-config

# The server in pvd with the guest kernel build/guests/xenstore.elf (real
# QEMU, build/pvcore.iso).
TESTS        += tests/xenstore/xenstore_guests.sh tests/xenstore/xenstore_guests-asan.sh
# pvd killed with SIGKILL 20 times under two xenstore guest loops (~50 s).
TESTS        += tests/xenstore/xenstore_sigkill.sh

# `make bench`: xenstore round trips from 1 and 16 guests through pvd.
.PHONY: xenstore-bench
bench: xenstore-bench
xenstore-bench: $(BUILD)/bin/pvd $(BUILD)/bin/pvctl $(BUILD)/pvcore.iso $(BUILD)/guests/xenstore_bench.elf
	BUILD=$(BUILD) sh bench/xenstore_bench.sh

# The libFuzzer target of the ring stream is fuzz/fuzz_xs_ring.c (fuzz/build.mk).
