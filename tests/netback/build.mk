# tests/netback/build.mk - unit tests of netback (dom0/netback*.c) against a
# fake host, in a normal and an ASan/UBSan build, linked against libdom0.a;
# and the Debian Linux network test (tests/linux/linux-net.sh, in
# make test-linux).
#
# Outputs: build/tests/netback/test_netback{,_share} and their ASan twins
# (the fake host they share: tests/netback/nb_fake.c).

ASAN_FLAGS ?= -O1 -fsanitize=address,undefined -fno-omit-frame-pointer \
              -fno-sanitize-recover=undefined
NB_TEST_HDRS := dom0/netback.h dom0/netback_tap.h dom0/netback_internal.h hypervisor/include/public/io/netif.h \
                tests/netback/nb_fake.h tests/netback/nb_fake.c
NB_CMOCKA    := $(shell pkg-config --libs cmocka 2>/dev/null || echo -lcmocka)

$(BUILD)/tests/netback/%: tests/netback/%.c $(NB_TEST_HDRS) $(BUILD)/dom0/libdom0.a | $(PUBLIC_LINK)
	$(Q)mkdir -p $(@D)
	$(Q)$(HOST_CC) $(HOST_CFLAGS) -Idom0 $(HOST_PUBLIC_CFLAGS) -o $@ $< tests/netback/nb_fake.c \
	    $(BUILD)/dom0/libdom0.a $(NB_CMOCKA)

$(BUILD)/asan/tests/netback/%: tests/netback/%.c $(NB_TEST_HDRS) $(BUILD)/asan/dom0/libdom0.a | $(PUBLIC_LINK)
	$(Q)mkdir -p $(@D)
	$(Q)$(HOST_CC) $(HOST_CFLAGS) $(ASAN_FLAGS) -Idom0 $(HOST_PUBLIC_CFLAGS) -o $@ $< tests/netback/nb_fake.c \
	    $(BUILD)/asan/dom0/libdom0.a $(NB_CMOCKA)

NB_TESTS     := test_netback test_netback_share test_netback_async test_netback_connect
NB_TEST_BINS := $(addprefix $(BUILD)/tests/netback/,$(NB_TESTS)) $(addprefix $(BUILD)/asan/tests/netback/,$(NB_TESTS))

ALL_TARGETS  += $(NB_TEST_BINS)
TESTS        += $(NB_TEST_BINS)

# netfront and the IPv4 stack of the test kernels against pvd's netback on
# a real machine: ping, a hostile netfront, a SIGKILL of pvd, weighted
# shares (tests/netback/net_guests.sh, needs build/guests/net.elf).
TESTS        += tests/netback/net_guests.sh
