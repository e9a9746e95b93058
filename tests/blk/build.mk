# tests/blk - virtual block devices end to end: pvd's blkback with the
# test kernel build/guests/blk.elf (real QEMU, build/pvcore.iso).
TESTS        += tests/blk/blk_guests.sh

# blkback on a ring in plain memory (cmocka), also with ASan/UBSan.
BLK_TESTS    := test_blkback test_blkback_batch test_blkback_async test_blkback_connect test_blkback_iovec \
                test_blkback_engine
BLK_TEST_HDRS := dom0/blkback.h dom0/blkback_internal.h dom0/xenstore.h hypervisor/include/public/io/blkif.h \
                 tests/blk/blk_fixture.h
# the fake host and frontend both tests share
BLK_TEST_SRCS := tests/blk/blk_fixture.c
BLK_CMOCKA   := $(shell pkg-config --libs cmocka 2>/dev/null || echo -lcmocka)
ASAN_FLAGS   ?= -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

$(BUILD)/tests/blk/%: tests/blk/%.c $(BLK_TEST_SRCS) $(BLK_TEST_HDRS) $(BUILD)/dom0/libdom0.a | $(PUBLIC_LINK)
	$(Q)mkdir -p $(@D)
	$(Q)$(HOST_CC) $(HOST_CFLAGS) -Idom0 $(HOST_PUBLIC_CFLAGS) -o $@ $< $(BLK_TEST_SRCS) $(BUILD)/dom0/libdom0.a \
	    $(DOM0_LIBS) $(BLK_CMOCKA)

$(BUILD)/asan/tests/blk/%: tests/blk/%.c $(BLK_TEST_SRCS) $(BLK_TEST_HDRS) $(BUILD)/asan/dom0/libdom0.a | $(PUBLIC_LINK)
	$(Q)mkdir -p $(@D)
	$(Q)$(HOST_CC) $(HOST_CFLAGS) $(ASAN_FLAGS) -Idom0 $(HOST_PUBLIC_CFLAGS) -o $@ $< $(BLK_TEST_SRCS) \
	    $(BUILD)/asan/dom0/libdom0.a $(DOM0_LIBS) $(BLK_CMOCKA)

BLK_TEST_BINS := $(addprefix $(BUILD)/tests/blk/,$(BLK_TESTS)) $(addprefix $(BUILD)/asan/tests/blk/,$(BLK_TESTS))
ALL_TARGETS  += $(BLK_TEST_BINS)
TESTS        += $(BLK_TEST_BINS)
