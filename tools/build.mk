# tools/build.mk - host tools built from the Domain 0 library.
#
# Outputs: build/bin/pvcore-extract-kernel (the ELF out of a bzImage, for
# boot-loader domains: see tools/pvcore-extract-kernel.c).

$(BUILD)/bin/pvcore-extract-kernel: tools/pvcore-extract-kernel.c dom0/kernel_image.h \
		$(BUILD)/dom0/libdom0.a
	$(Q)mkdir -p $(@D)
	$(Q)$(HOST_CC) $(HOST_CFLAGS) -Idom0 -o $@ $< $(BUILD)/dom0/libdom0.a $(DOM0_LIBS)

ALL_TARGETS += $(BUILD)/bin/pvcore-extract-kernel
TESTS       += tests/dom0/extract_kernel_test.sh
