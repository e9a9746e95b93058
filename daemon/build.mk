# daemon/build.mk - pvd, its ASan/UBSan twin, and the daemon unit tests.
#
# Outputs: build/bin/pvd, build/asan/bin/pvd, build/daemon/libpvd.a (all of
# pvd but main.c, linked by the unit tests), build/tests/daemon/*.
# The schema documents are embedded by daemon/embed.sh (daemon/gen).

PVD_PKGS     := libevent libevent_openssl json-c sqlite3 libxml-2.0 openssl
PVD_CFLAGS   := $(shell pkg-config --cflags $(PVD_PKGS) 2>/dev/null)
PVD_LIBS     := $(shell pkg-config --libs $(PVD_PKGS) 2>/dev/null)
CMOCKA_LIBS  := $(shell pkg-config --libs cmocka 2>/dev/null || echo -lcmocka)
ASAN_FLAGS   := -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

PVD_LIB_SRCS := daemon/log.c daemon/schema.c daemon/config.c daemon/config_xml.c daemon/store.c \
                daemon/rpc.c daemon/rpc_framing.c daemon/rpc_methods.c daemon/methods_daemon.c \
                daemon/methods_domain.c daemon/domain_cache.c daemon/events.c daemon/server.c daemon/tls.c daemon/ids.c \
                daemon/options.c daemon/hv.c daemon/hv_table.c daemon/hv_lifecycle.c \
                 daemon/hv_console.c daemon/hv_build.c daemon/hv_ops.c daemon/hv_worker.c daemon/methods_lifecycle.c daemon/methods_ops.c daemon/methods_adopt.c daemon/methods_host.c \
                 daemon/xs_host.c daemon/methods_xs.c daemon/methods_devices.c daemon/methods_disk.c daemon/methods_vol.c daemon/image_dir.c daemon/store_sync.c daemon/roles.c daemon/json_strict.c daemon/schema_size.c \
                daemon/blk_host.c daemon/pool.c daemon/net_host.c
PVD_MIGRATIONS := $(sort $(wildcard schemas/[0-9][0-9][0-9]-*.sql))
PVD_EMBED_IN := schemas/domain.schema.json schemas/domain.rng api/pvd.openrpc.json $(PVD_MIGRATIONS)
PVD_GEN      := $(BUILD)/daemon/gen/embedded.c

$(PVD_GEN): daemon/embed.sh $(PVD_EMBED_IN)
	$(Q)mkdir -p $(@D)
	$(Q)sh daemon/embed.sh $(PVD_EMBED_IN) > $@.tmp && mv $@.tmp $@

# Two flavours of every object: normal and sanitized.
PVD_OBJS      := $(patsubst %.c,$(BUILD)/%.o,$(PVD_LIB_SRCS)) $(BUILD)/daemon/gen/embedded.o
PVD_ASAN_OBJS := $(patsubst %.c,$(BUILD)/asan/%.o,$(PVD_LIB_SRCS)) $(BUILD)/asan/daemon/gen/embedded.o

# pvd links the Domain 0 library (dom0/build.mk) for the machine (hv.c).
PVD_DOM0_CFLAGS := $(HOST_PUBLIC_CFLAGS)
PVD_DOM0_HDRS   := dom0/machine.h dom0/ctl.h dom0/build.h dom0/console.h $(PVBUILD_HDR) \
                   dom0/xenstore.h dom0/xs_wire.h dom0/blkback.h

$(BUILD)/daemon/%.o: daemon/%.c daemon/*.h api/pvd_api.h $(PVD_DOM0_HDRS) | $(PUBLIC_LINK)
	$(Q)mkdir -p $(@D)
	$(Q)$(HOST_CC) $(HOST_CFLAGS) $(PVD_CFLAGS) $(PVD_DOM0_CFLAGS) -Idaemon -c $< -o $@

$(BUILD)/asan/daemon/%.o: daemon/%.c daemon/*.h api/pvd_api.h $(PVD_DOM0_HDRS) | $(PUBLIC_LINK)
	$(Q)mkdir -p $(@D)
	$(Q)$(HOST_CC) $(HOST_CFLAGS) $(ASAN_FLAGS) $(PVD_CFLAGS) $(PVD_DOM0_CFLAGS) -Idaemon -c $< -o $@

$(BUILD)/daemon/gen/embedded.o: $(PVD_GEN) daemon/embedded.h
	$(Q)$(HOST_CC) $(HOST_CFLAGS) -Idaemon -c $< -o $@

$(BUILD)/asan/daemon/gen/embedded.o: $(PVD_GEN) daemon/embedded.h
	$(Q)mkdir -p $(@D)
	$(Q)$(HOST_CC) $(HOST_CFLAGS) $(ASAN_FLAGS) -Idaemon -c $< -o $@

$(BUILD)/daemon/libpvd.a: $(PVD_OBJS)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/asan/daemon/libpvd.a: $(PVD_ASAN_OBJS)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/bin/pvd: $(BUILD)/daemon/main.o $(BUILD)/daemon/libpvd.a $(BUILD)/dom0/libdom0.a
	$(Q)mkdir -p $(@D)
	$(Q)$(HOST_CC) $(HOST_CFLAGS) -o $@ $^ $(PVD_LIBS) $(DOM0_LIBS)

$(BUILD)/asan/bin/pvd: $(BUILD)/asan/daemon/main.o $(BUILD)/asan/daemon/libpvd.a $(BUILD)/asan/dom0/libdom0.a
	$(Q)mkdir -p $(@D)
	$(Q)$(HOST_CC) $(HOST_CFLAGS) $(ASAN_FLAGS) -o $@ $^ $(PVD_LIBS) $(DOM0_LIBS)

# Unit tests (cmocka), each in a normal and a sanitized build.
PVD_UNIT_TESTS := test_store test_schema test_rpc
PVD_TEST_HDRS  := tests/daemon/unit.h

$(BUILD)/tests/daemon/%: tests/daemon/%.c $(PVD_TEST_HDRS) $(BUILD)/daemon/libpvd.a $(BUILD)/dom0/libdom0.a
	$(Q)mkdir -p $(@D)
	$(Q)$(HOST_CC) $(HOST_CFLAGS) $(PVD_CFLAGS) -Idaemon -Itests/daemon -o $@ $< \
	    $(BUILD)/daemon/libpvd.a $(BUILD)/dom0/libdom0.a $(PVD_LIBS) $(DOM0_LIBS) $(CMOCKA_LIBS)

$(BUILD)/asan/tests/daemon/%: tests/daemon/%.c $(PVD_TEST_HDRS) $(BUILD)/asan/daemon/libpvd.a \
		$(BUILD)/asan/dom0/libdom0.a
	$(Q)mkdir -p $(@D)
	$(Q)$(HOST_CC) $(HOST_CFLAGS) $(ASAN_FLAGS) $(PVD_CFLAGS) -Idaemon -Itests/daemon -o $@ $< \
	    $(BUILD)/asan/daemon/libpvd.a $(BUILD)/asan/dom0/libdom0.a $(PVD_LIBS) $(DOM0_LIBS) $(CMOCKA_LIBS)

PVD_UNIT_BINS := $(addprefix $(BUILD)/tests/daemon/,$(PVD_UNIT_TESTS)) \
                 $(addprefix $(BUILD)/asan/tests/daemon/,$(PVD_UNIT_TESTS))

ALL_TARGETS  += $(BUILD)/bin/pvd $(BUILD)/asan/bin/pvd $(PVD_UNIT_BINS)
TESTS        += $(PVD_UNIT_BINS) tests/configs/check-configs.sh tests/daemon/blackbox.sh \
                tests/daemon/blackbox-asan.sh tests/daemon/test_roles.py tests/daemon/test_strict_json.py tests/daemon/test_dos.py \
                tests/daemon/test_console_log.py tests/daemon/test_store_sync.py tests/daemon/test_loop_async.py \
                tests/daemon/test_domain_cache.py
DEB_PACKAGES += libevent-dev libjson-c-dev libsqlite3-dev libssl-dev libxml2-dev pkg-config \
                libcmocka-dev openssl python3 libxml2-utils strace
