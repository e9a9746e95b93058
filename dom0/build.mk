# dom0/build.mk - the Domain 0 library (libdom0.a), its ASan/UBSan twin, and
# the dom0 tests.
#
# Outputs: build/dom0/libdom0.a, build/asan/dom0/libdom0.a,
# build/tests/dom0/test_machine, build/asan/tests/dom0/test_machine.
# The machine test boots the real hypervisor under QEMU: it uses
# $(BUILD)/pvcore.iso and $(BUILD)/hypervisor/pvcore.elf (override with
# PVCORE_ISO / PVCORE_HV_ELF in the environment).

# Same sanitizer flags as daemon/build.mk (defined there when included first).
ASAN_FLAGS ?= -O1 -fsanitize=address,undefined -fno-omit-frame-pointer \
              -fno-sanitize-recover=undefined

DOM0_SRCS := dom0/dom0_error.c dom0/statefile.c dom0/process.c dom0/machine_layout.c \
             dom0/machine_iso.c dom0/machine_supervisor.c dom0/machine_status.c \
             dom0/machine_monitor.c dom0/machine.c \
             dom0/ctl_ring.c dom0/ctl.c dom0/ctl_ops.c dom0/console.c dom0/build.c \
             dom0/kernel_image.c \
             dom0/xs_wire.c dom0/xs_tree.c dom0/xs_watch.c dom0/xs_transaction.c \
             dom0/xs_conn.c dom0/xs_ops.c dom0/xenstore.c dom0/xs_persist.c \
             dom0/blkback.c dom0/blkback_grant.c dom0/blkback_ring.c dom0/blkback_io.c dom0/blkback_limit.c \
             dom0/blkback_quota.c \
             dom0/netback.c dom0/netback_xs.c dom0/netback_ring.c dom0/netback_switch.c \
             dom0/netback_csum.c dom0/netback_tap.c dom0/netback_rate.c \
             dom0/netback_share.c dom0/netback_filter.c
DOM0_HDRS := $(wildcard dom0/*.h) $(PVBUILD_HDR) $(PUBLIC_HDRS)
DOM0_OBJS      := $(patsubst %.c,$(BUILD)/%.o,$(DOM0_SRCS)) $(BUILD)/dom0/pvbuild.o
DOM0_ASAN_OBJS := $(patsubst %.c,$(BUILD)/asan/%.o,$(DOM0_SRCS)) $(BUILD)/asan/dom0/pvbuild.o
DOM0_CFLAGS    := -Idom0 $(HOST_PUBLIC_CFLAGS) $(shell pkg-config --cflags libnl-route-3.0 2>/dev/null)
# What a program linking libdom0.a also links: the decompressors of
# kernel_image.c (bzImage payloads).
DOM0_LIBS      := -lz -llzma -lzstd -llz4 -lbz2 -lpthread \
                  $(shell pkg-config --libs libnl-route-3.0 2>/dev/null || echo -lnl-route-3 -lnl-3)

$(BUILD)/dom0/%.o: dom0/%.c $(DOM0_HDRS) | $(PUBLIC_LINK)
	$(Q)mkdir -p $(@D)
	$(Q)$(HOST_CC) $(HOST_CFLAGS) $(DOM0_CFLAGS) -c $< -o $@

$(BUILD)/asan/dom0/%.o: dom0/%.c $(DOM0_HDRS) | $(PUBLIC_LINK)
	$(Q)mkdir -p $(@D)
	$(Q)$(HOST_CC) $(HOST_CFLAGS) $(ASAN_FLAGS) $(DOM0_CFLAGS) -c $< -o $@

# The domain builder shared with the hypervisor (builder/pvbuild.c),
# compiled for the host: one builder for both paths.
$(BUILD)/dom0/pvbuild.o: $(PVBUILD_SRC) $(DOM0_HDRS) | $(PUBLIC_LINK)
	$(Q)mkdir -p $(@D)
	$(Q)$(HOST_CC) $(HOST_CFLAGS) $(DOM0_CFLAGS) -c $< -o $@

$(BUILD)/asan/dom0/pvbuild.o: $(PVBUILD_SRC) $(DOM0_HDRS) | $(PUBLIC_LINK)
	$(Q)mkdir -p $(@D)
	$(Q)$(HOST_CC) $(HOST_CFLAGS) $(ASAN_FLAGS) $(DOM0_CFLAGS) -c $< -o $@

$(BUILD)/dom0/libdom0.a: $(DOM0_OBJS)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/asan/dom0/libdom0.a: $(DOM0_ASAN_OBJS)
	$(Q)rm -f $@ && ar rcs $@ $^

# Tests: each in a normal and a sanitized build.
DOM0_TESTS := test_machine
DOM0_TEST_HDRS := $(wildcard tests/dom0/*.h)

$(BUILD)/tests/dom0/%: tests/dom0/%.c $(DOM0_TEST_HDRS) $(DOM0_HDRS) $(BUILD)/dom0/libdom0.a
	$(Q)mkdir -p $(@D)
	$(Q)$(HOST_CC) $(HOST_CFLAGS) $(DOM0_CFLAGS) -Itests/dom0 -o $@ $< $(BUILD)/dom0/libdom0.a $(DOM0_LIBS)

$(BUILD)/asan/tests/dom0/%: tests/dom0/%.c $(DOM0_TEST_HDRS) $(DOM0_HDRS) \
		$(BUILD)/asan/dom0/libdom0.a
	$(Q)mkdir -p $(@D)
	$(Q)$(HOST_CC) $(HOST_CFLAGS) $(ASAN_FLAGS) $(DOM0_CFLAGS) -Itests/dom0 -o $@ $< \
	    $(BUILD)/asan/dom0/libdom0.a $(DOM0_LIBS)

DOM0_TEST_BINS := $(addprefix $(BUILD)/tests/dom0/,$(DOM0_TESTS)) \
                  $(addprefix $(BUILD)/asan/tests/dom0/,$(DOM0_TESTS))

ALL_TARGETS  += $(BUILD)/dom0/libdom0.a $(BUILD)/asan/dom0/libdom0.a $(DOM0_TEST_BINS)
TESTS        += $(DOM0_TEST_BINS)
DEB_PACKAGES += qemu-system-x86 grub-pc-bin grub-common xorriso mtools \
                zlib1g-dev liblzma-dev libzstd-dev liblz4-dev libbz2-dev

# The bzImage tests (tests/dom0/test_kernel_image.c): hello.elf compressed
# by Debian's tools with the flags Linux's build uses, plus a gzip'd text.
KPAYLOAD_DIR := $(BUILD)/tests/dom0/kernel-payloads
KPAYLOADS    := $(addprefix $(KPAYLOAD_DIR)/hello.elf.,gz xz lzma zst lz4 bz2) \
                $(KPAYLOAD_DIR)/text.gz
KPAYLOAD_CMD_gz   := gzip -n -9 -c
KPAYLOAD_CMD_xz   := xz --check=crc32 --x86 --lzma2=dict=32MiB -c
KPAYLOAD_CMD_lzma := xz --format=lzma -9 -c
KPAYLOAD_CMD_zst  := zstd -22 --ultra -q -c
KPAYLOAD_CMD_lz4  := lz4 -l -9 -q -c
KPAYLOAD_CMD_bz2  := bzip2 -9 -c

$(KPAYLOAD_DIR)/hello.elf.%: $(BUILD)/guests/hello.elf
	$(Q)mkdir -p $(@D)
	$(Q)$(KPAYLOAD_CMD_$*) <$< >$@.tmp && mv $@.tmp $@

$(KPAYLOAD_DIR)/text.gz: dom0/kernel_image.h
	$(Q)mkdir -p $(@D)
	$(Q)gzip -n -9 -c <$< >$@.tmp && mv $@.tmp $@

KIMAGE_TESTS := $(BUILD)/tests/dom0/test_kernel_image $(BUILD)/asan/tests/dom0/test_kernel_image
CMOCKA_LIBS  ?= -lcmocka

$(BUILD)/tests/dom0/test_kernel_image: tests/dom0/test_kernel_image.c $(DOM0_HDRS) \
		$(BUILD)/dom0/libdom0.a $(KPAYLOADS)
	$(Q)mkdir -p $(@D)
	$(Q)$(HOST_CC) $(HOST_CFLAGS) $(DOM0_CFLAGS) -o $@ $< $(BUILD)/dom0/libdom0.a \
	    $(DOM0_LIBS) $(CMOCKA_LIBS)

$(BUILD)/asan/tests/dom0/test_kernel_image: tests/dom0/test_kernel_image.c $(DOM0_HDRS) \
		$(BUILD)/asan/dom0/libdom0.a $(KPAYLOADS)
	$(Q)mkdir -p $(@D)
	$(Q)$(HOST_CC) $(HOST_CFLAGS) $(ASAN_FLAGS) $(DOM0_CFLAGS) -o $@ $< \
	    $(BUILD)/asan/dom0/libdom0.a $(DOM0_LIBS) $(CMOCKA_LIBS)

ALL_TARGETS  += $(KIMAGE_TESTS)
TESTS        += $(KIMAGE_TESTS)
DEB_PACKAGES += gzip xz-utils zstd lz4 bzip2
DEB_PACKAGES += libnl-route-3-dev
