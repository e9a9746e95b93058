#!/bin/sh
# `make bench`, writable page tables: boot the hypervisor (TCG unless
# QEMU_ACCEL=kvm) with bench/ptwr_bench.c as its only domain and print the
# kernel's figures: the cost of a page-table entry written directly (the
# emulated #PF) and of an mmu_update of one entry, and their ratio.
# Extra arguments go to the kernel's command line (rounds=N batches=N).
. tests/lib/hvtest.sh
ELF=$BUILD/bench/ptwr_bench.elf
[ -f "$ELF" ] || { echo "ptwr_bench: $ELF not built" >&2; exit 1; }
HV_ISO_FILES="$ELF=/guests/ptwr_bench.elf" hv_iso ptwr_bench "debug-exit=0xf4 loglevel=warn" \
    "module2 /guests/ptwr_bench.elf name=bench mem=32M -- $*" || exit 1
BOOT_TIMEOUT=${BENCH_TIMEOUT:-300} hv_boot ptwr_bench -m 256 \
    -device isa-debug-exit,iobase=0xf4,iosize=0x04
line=$(grep -a 'ptwr_bench: .*ratio' "$WORK/ptwr_bench.log" | sed 's/^(bench) //')
if [ -z "$line" ] || ! grep -aq 'Test result: SUCCESS' "$WORK/ptwr_bench.log"; then
    echo "ptwr_bench: no result (QEMU status $status); serial log:" >&2
    tail -20 "$WORK/ptwr_bench.log" >&2
    exit 1
fi
echo "$line"
