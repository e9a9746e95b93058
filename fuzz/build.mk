# fuzz/build.mk - libFuzzer targets (clang, -fsanitize=fuzzer,address,undefined)
# for every parser of untrusted input; fuzz/README.md says what each one
# feeds and what it checks.
#
# Outputs: build/fuzz/fuzz_<name> (one per target), their objects under
# build/fuzz/obj/ (every source compiled again by clang with coverage and
# the sanitizers; header dependencies in the .d files beside them).
#   make fuzz [FUZZ_SECONDS=60] [FUZZ_JOBS=2]
#                 runs each target for FUZZ_SECONDS on a corpus kept in
#                 build/fuzz/corpus/<name> (seeded from fuzz/corpus/<name>),
#                 FUZZ_JOBS at a time, and prints executions per target
#   make test     runs fuzz/smoke.sh: each target for a few seconds on its
#                 committed seeds and regressions (fuzz/regress/<name>/)
# Without clang the targets are not built and the smoke test skips.

FUZZ_CC      := clang
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_CFLAGS  := -std=gnu11 -g -O1 -D_GNU_SOURCE -Wall -Wextra -Werror -Wno-unused-parameter \
                -MMD -MP $(FUZZ_SAN) -fsanitize=fuzzer-no-link
FUZZ_LDFLAGS := $(FUZZ_SAN) -fsanitize=fuzzer
FUZZ_OBJ     := $(BUILD)/fuzz/obj
FUZZ_SECONDS ?= 60
FUZZ_JOBS    ?= 2

# Host code (daemon/, dom0/, builder/, tests' fake hosts): one include set.
FUZZ_HOST_INC := -Idaemon -Idom0 -Itests/xenstore $(HOST_PUBLIC_CFLAGS) $(PVD_CFLAGS) \
                 $(shell pkg-config --cflags libnl-route-3.0 2>/dev/null)
# Hypervisor code built for the host, as tests/unit/mm does (its shim and harness).
FUZZ_HV_INC   := -Ifuzz/shim -Ifuzz -Itests/unit/evtchn/shim -Itests/unit/mm/shim -Itests/unit/mm -Ihypervisor/include \
                 -Ihypervisor/arch/x86_64/include

$(FUZZ_OBJ)/host/%.o: %.c | $(PUBLIC_LINK)
	$(Q)mkdir -p $(@D)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_HOST_INC) -c $< -o $@

$(FUZZ_OBJ)/host/gen/embedded.o: $(PVD_GEN) daemon/embedded.h
	$(Q)mkdir -p $(@D)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -Idaemon -c $< -o $@

$(FUZZ_OBJ)/hv/%.o: %.c
	$(Q)mkdir -p $(@D)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -Wno-unused-function $(FUZZ_HV_INC) -c $< -o $@

fuzz_host_objs = $(patsubst %.c,$(FUZZ_OBJ)/host/%.o,$(1))
fuzz_hv_objs   = $(patsubst %.c,$(FUZZ_OBJ)/hv/%.o,$(1))

# ---- the targets: name, objects, libraries ----------------------------
FUZZ_XS_SRCS   := dom0/dom0_error.c dom0/xs_wire.c dom0/xs_tree.c dom0/xs_watch.c \
                  dom0/xs_transaction.c dom0/xs_conn.c dom0/xs_ops.c dom0/xenstore.c dom0/xs_persist.c
FUZZ_DOM0_SRCS := $(filter-out dom0/machine%.c,$(DOM0_SRCS)) $(PVBUILD_SRC) \
                  $(filter dom0/machine%.c,$(DOM0_SRCS))
FUZZ_PVD_SRCS  := $(PVD_LIB_SRCS) $(FUZZ_DOM0_SRCS)
FUZZ_PVD_OBJS  := $(call fuzz_host_objs,$(FUZZ_PVD_SRCS)) $(FUZZ_OBJ)/host/gen/embedded.o

FUZZ_OBJS_rpc          := $(call fuzz_host_objs,fuzz/fuzz_rpc.c) $(FUZZ_PVD_OBJS)
FUZZ_LIBS_rpc          := $(PVD_LIBS) $(DOM0_LIBS)
FUZZ_OBJS_config       := $(call fuzz_host_objs,fuzz/fuzz_config.c) $(FUZZ_PVD_OBJS)
FUZZ_LIBS_config       := $(PVD_LIBS) $(DOM0_LIBS)
FUZZ_OBJS_kernel_image := $(call fuzz_host_objs,fuzz/fuzz_kernel_image.c dom0/kernel_image.c \
                          dom0/dom0_error.c $(PVBUILD_SRC))
FUZZ_LIBS_kernel_image := $(DOM0_LIBS)
FUZZ_OBJS_xs_ring      := $(call fuzz_host_objs,fuzz/fuzz_xs_ring.c $(FUZZ_XS_SRCS))
FUZZ_LIBS_xs_ring      :=
FUZZ_OBJS_blkif        := $(call fuzz_host_objs,fuzz/fuzz_blkif.c $(FUZZ_DOM0_SRCS))
FUZZ_LIBS_blkif        := $(DOM0_LIBS)
FUZZ_OBJS_netif        := $(call fuzz_host_objs,fuzz/fuzz_netif.c $(FUZZ_DOM0_SRCS))
FUZZ_LIBS_netif        := $(DOM0_LIBS)
FUZZ_OBJS_ctl          := $(call fuzz_hv_objs,fuzz/fuzz_ctl.c fuzz/ctl_host.c hypervisor/common/control.c \
                          hypervisor/arch/x86_64/serial.c \
                          tests/unit/mm/harness.c tests/unit/hv_panic.c hypervisor/mm/buddy.c hypervisor/arch/x86_64/mm.c \
                          hypervisor/arch/x86_64/mm_linear.c hypervisor/arch/x86_64/pv/mmu.c \
                          hypervisor/common/memory.c hypervisor/common/unimplemented.c \
                          hypervisor/arch/x86_64/mm_teardown.c hypervisor/common/batch.c \
                          hypervisor/common/event_channel.c hypervisor/common/evtchn_2l.c \
                          hypervisor/common/evtchn_fifo.c hypervisor/common/grant_table.c \
                          hypervisor/common/grant_pin.c hypervisor/common/grant_map.c \
                          hypervisor/common/grant_copy.c hypervisor/common/grant_version.c)
FUZZ_LIBS_ctl          := -lcmocka

# Dictionaries (-dict, fuzz/options.sh) from the documents that define
# the formats (fuzz/mkdict.py): method and parameter names, config keys.
FUZZ_DICTS   := $(BUILD)/fuzz/rpc.dict $(BUILD)/fuzz/config.dict

$(BUILD)/fuzz/rpc.dict: fuzz/mkdict.py api/pvd.openrpc.json
	$(Q)mkdir -p $(@D)
	$(Q)python3 fuzz/mkdict.py rpc api/pvd.openrpc.json > $@.tmp && mv $@.tmp $@

$(BUILD)/fuzz/config.dict: fuzz/mkdict.py schemas/domain.schema.json
	$(Q)mkdir -p $(@D)
	$(Q)python3 fuzz/mkdict.py config schemas/domain.schema.json > $@.tmp && mv $@.tmp $@

FUZZ_NAMES   := rpc config kernel_image ctl xs_ring blkif netif
FUZZ_TARGETS := $(addprefix $(BUILD)/fuzz/fuzz_,$(FUZZ_NAMES))

define FUZZ_LINK
$(BUILD)/fuzz/fuzz_$(1): $(FUZZ_OBJS_$(1))
	$(Q)mkdir -p $$(@D)
	$(Q)$(FUZZ_CC) $(FUZZ_LDFLAGS) -o $$@ $(FUZZ_OBJS_$(1)) $(FUZZ_LIBS_$(1))
endef

ifneq ($(shell command -v $(FUZZ_CC) 2>/dev/null),)
$(foreach n,$(FUZZ_NAMES),$(eval $(call FUZZ_LINK,$(n))))

ALL_TARGETS  += $(FUZZ_TARGETS) $(FUZZ_DICTS)
-include $(shell find $(FUZZ_OBJ) -name '*.d' 2>/dev/null)
endif

.PHONY: fuzz
fuzz: $(FUZZ_TARGETS) $(FUZZ_DICTS)
	$(Q)BUILD=$(BUILD) sh fuzz/run-fuzz.sh $(FUZZ_SECONDS) $(FUZZ_JOBS) $(FUZZ_NAMES)

TESTS        += fuzz/smoke.sh
DEB_PACKAGES += clang libclang-rt-14-dev libcmocka-dev   # libFuzzer and the sanitizer runtimes: only recommended by clang
