# cli/build.mk - pvctl (linked with libpvdclient) and its tests.
PVCTL_SRCS := cli/pvctl.c cli/commands.c cli/commands_host.c cli/commands_top.c cli/output.c cli/commands_xs.c cli/commands_disk.c cli/bulk.c cli/commands_devices.c
PVCTL_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(PVCTL_SRCS))

$(BUILD)/cli/%.o: cli/%.c cli/pvctl.h api/pvdclient.h api/pvd_api.h
	$(Q)mkdir -p $(@D)
	$(Q)$(HOST_CC) $(HOST_CFLAGS) $(PVDC_CFLAGS) -c $< -o $@

$(BUILD)/bin/pvctl: $(PVCTL_OBJS) $(BUILD)/lib/libpvdclient.a
	$(Q)mkdir -p $(@D)
	$(Q)$(HOST_CC) $(HOST_CFLAGS) -o $@ $^ $(PVDC_LIBS)

ALL_TARGETS += $(BUILD)/bin/pvctl
TESTS       += tests/cli/test_pvctl.py tests/cli/test_pvctl_details.py tests/cli/test_bulk.py tests/cli/test_pvctl_tls.py tests/cli/test_top_events.py tests/cli/test_errors.py tests/cli/test_install.sh
