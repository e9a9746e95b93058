# tests/unit/builder/: host unit test of the shared domain builder
# (builder/pvbuild.c) with crafted ELF kernels, cmocka, ASan/UBSan.
# One test reads $(BUILD)/guests/ticker.elf (skipped when it is missing).
PVBUILD_UNIT := $(BUILD)/tests/unit/builder/test_pvbuild

$(PVBUILD_UNIT): tests/unit/builder/test_pvbuild.c $(PVBUILD_SRC) $(PVBUILD_HDR) \
		$(PUBLIC_HDRS) | $(PUBLIC_LINK)
	@mkdir -p $(dir $@)
	$(Q)$(HOST_CC) $(HOST_CFLAGS) -fsanitize=address,undefined -fno-omit-frame-pointer \
		-fno-sanitize-recover=undefined $(HOST_PUBLIC_CFLAGS) -o $@ \
		tests/unit/builder/test_pvbuild.c $(PVBUILD_SRC) -lcmocka

ALL_TARGETS += $(PVBUILD_UNIT)
TESTS += $(PVBUILD_UNIT)
