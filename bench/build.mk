# bench/: the benchmark guest kernel of writable page tables, and its run;
# the side-by-side PV benchmark against Xen 4.17 (bench-pv)
# (`make bench` also runs the JSON-RPC and create-latency benchmarks whose
# rules sit beside the code they measure: api/, tests/dom0link/).
# This fragment is read before guests/build.mk: prerequisites name the
# guest library through hello.elf (built with all of it); the recipe, run
# later, uses the library's variables.
PTWR_BENCH_ELF := $(BUILD)/bench/ptwr_bench.elf

$(PTWR_BENCH_ELF): bench/ptwr_bench.c $(BUILD)/guests/hello.elf guests/lib/lib.h \
		guests/lib/evtime.h guests/lib/kernel.ld
	@mkdir -p $(dir $@)
	$(Q)$(GUEST_CC) $(GUEST_CFLAGS) -c $< -o $(BUILD)/bench/ptwr_bench.o
	$(Q)$(GUEST_LD) -nostdlib -static -z max-page-size=4096 --no-warn-rwx-segments \
	    -T guests/lib/kernel.ld -o $@ $(BUILD)/bench/ptwr_bench.o $(GUEST_LIB_OBJS)

.PHONY: ptwr-bench
bench: ptwr-bench
ptwr-bench: $(PTWR_BENCH_ELF) $(BUILD)/hypervisor/pvcore.elf
	$(Q)BUILD=$(BUILD) sh bench/ptwr_bench.sh

ALL_TARGETS += $(PTWR_BENCH_ELF)

# `make bench-pv`: guests/kernels/bench_pv.c on pvcore and on Xen 4.17, side
# by side (bench/bench_pv.sh; BENCH_RUNS=N runs each, default 3), then a
# xenstore READ through pvd on pvcore alone (bench/xenstore_bench.sh).
.PHONY: bench-pv
bench: bench-pv
bench-pv: $(BUILD)/guests/bench_pv.elf $(BUILD)/hypervisor/pvcore.elf \
	  $(BUILD)/guests/xenstore_bench.elf $(BUILD)/bin/pvd $(BUILD)/bin/pvctl $(BUILD)/pvcore.iso
	$(Q)BUILD=$(BUILD) sh bench/bench_pv.sh $(BENCH_PV_ARGS)

DEB_PACKAGES += gdb

# `make bench-density`: domains of 4 MiB created one after another through
# pvd until 1,000 exist (bench/density_bench.py; DENSITY_COUNT,
# DENSITY_MEM_MIB), on a machine above 4 GiB (the PCI-hole split).
.PHONY: bench-density
bench: bench-density
bench-density: $(BUILD)/guests/ticker.elf $(BUILD)/bin/pvd $(BUILD)/pvcore.iso
	$(Q)BUILD=$(BUILD) python3 bench/density_bench.py

# `make blk-bench`: a virtual block device through blkfront and pvd's
# blkback against the same I/O natively on the host (bench/blk_bench.sh).
.PHONY: blk-bench
bench: blk-bench
blk-bench: $(BUILD)/guests/blk.elf $(BUILD)/bin/pvd $(BUILD)/bin/pvctl $(BUILD)/pvcore.iso \
	   $(BUILD)/bench/blk_native
	$(Q)BUILD=$(BUILD) sh bench/blk_bench.sh

# The native side of blk-bench: the guest's pattern with its depth, on the host.
$(BUILD)/bench/blk_native: bench/blk_native.c
	@mkdir -p $(dir $@)
	$(Q)$(HOST_CC) $(HOST_CFLAGS) -o $@ $< -lpthread
ALL_TARGETS += $(BUILD)/bench/blk_native

# `make net-bench`: virtual network interfaces through the `net` test
# kernel and pvd's netback against the host's own veth pair
# (bench/net_bench.sh; needs root for its network namespaces).
.PHONY: net-bench
bench: net-bench
net-bench: $(BUILD)/guests/net.elf $(BUILD)/bin/pvd $(BUILD)/bin/pvctl $(BUILD)/pvcore.iso
	$(Q)BUILD=$(BUILD) sh bench/net_bench.sh
