# api/build.mk - libpvdclient and the API tests.
PVDC_CFLAGS := $(shell pkg-config --cflags json-c openssl 2>/dev/null)
PVDC_LIBS   := $(shell pkg-config --libs json-c openssl 2>/dev/null)

$(BUILD)/api/%.o: api/%.c api/pvdclient.h api/pvd_api.h api/pvdc_io.h
	$(Q)mkdir -p $(@D)
	$(Q)$(HOST_CC) $(HOST_CFLAGS) $(PVDC_CFLAGS) -c $< -o $@

$(BUILD)/lib/libpvdclient.a: $(BUILD)/api/pvdclient.o $(BUILD)/api/pvdclient_tls.o
	$(Q)mkdir -p $(@D)
	$(Q)rm -f $@ && ar rcs $@ $^

ALL_TARGETS  += $(BUILD)/lib/libpvdclient.a

# libpvdclient against a scripted server, normal and sanitized; malloc is
# wrapped to count the library's own allocations per call.
PVDC_TEST_SRCS := tests/api/test_pvdclient.c api/pvdclient.c api/pvdclient_tls.c
$(BUILD)/tests/api/test_pvdclient: $(PVDC_TEST_SRCS) api/pvdclient.h api/pvd_api.h api/pvdc_io.h
	$(Q)mkdir -p $(@D)
	$(Q)$(HOST_CC) $(HOST_CFLAGS) $(PVDC_CFLAGS) -Wl,--wrap=malloc -o $@ $(PVDC_TEST_SRCS) $(PVDC_LIBS)

$(BUILD)/asan/tests/api/test_pvdclient: $(PVDC_TEST_SRCS) api/pvdclient.h api/pvd_api.h api/pvdc_io.h
	$(Q)mkdir -p $(@D)
	$(Q)$(HOST_CC) $(HOST_CFLAGS) $(ASAN_FLAGS) $(PVDC_CFLAGS) -Wl,--wrap=malloc -o $@ $(PVDC_TEST_SRCS) $(PVDC_LIBS)

PVDC_UNIT_BINS := $(BUILD)/tests/api/test_pvdclient $(BUILD)/asan/tests/api/test_pvdclient
ALL_TARGETS  += $(PVDC_UNIT_BINS)
TESTS        += $(PVDC_UNIT_BINS)
TESTS        += tests/api/test_api.py tests/api/test_domain_race.py tests/api/test_machine_loss.py tests/api/test_crash_loop.py tests/api/test_random_client.py tests/api/test_pvdclient_py.py tests/api/test_image_dirs.py tests/api/test_half_built.py tests/api/test_disk_dirs.py

# `make bench-rpc`: pvd's JSON-RPC side by side with libvirtd's test driver
# (bench/rpc_bench.c; not part of `make test`). The libvirtd side needs
# libvirt-dev to build and libvirt-daemon to run; without them its rows say
# what is missing. `rpc-bench` is the old name.
RPC_BENCH_LIBVIRT := $(shell pkg-config --exists libvirt 2>/dev/null && echo -DHAVE_LIBVIRT $$(pkg-config --cflags libvirt))
RPC_BENCH_LIBVIRT_LIBS := $(if $(RPC_BENCH_LIBVIRT),$(shell pkg-config --libs libvirt))
$(BUILD)/bench/rpc_bench: bench/rpc_bench.c $(BUILD)/lib/libpvdclient.a
	$(Q)mkdir -p $(@D)
	$(Q)$(HOST_CC) $(HOST_CFLAGS) $(PVDC_CFLAGS) $(RPC_BENCH_LIBVIRT) -pthread -o $@ $^ $(PVDC_LIBS) \
	    $(RPC_BENCH_LIBVIRT_LIBS)

.PHONY: bench bench-rpc rpc-bench
bench: bench-rpc
bench-rpc rpc-bench: $(BUILD)/bench/rpc_bench $(BUILD)/bin/pvd
	$(BUILD)/bench/rpc_bench $(BUILD)/bin/pvd

# `make bench-info`: domain.info latency while four 512 MiB domains are
# built, beside the same with no builds (bench/info_bench.py).
.PHONY: bench-info
bench: bench-info
bench-info: $(BUILD)/bin/pvd $(BUILD)/pvcore.iso $(BUILD)/guests/ticker.elf
	$(Q)BUILD=$(BUILD) nice python3 bench/info_bench.py
