#!/bin/sh
# `make bench-pv`: the PV benchmark kernel (guests/kernels/bench_pv.c) on
# pvcore and as dom0 of Debian's Xen 4.17, side by side under the same QEMU
# TCG (-cpu max -smp 1), booted alternately (pvcore, Xen, pvcore, ...),
# BENCH_RUNS runs each (default 3, at least 3). Prints per operation, in
# TSC cycles per operation, the smallest batch of all runs and the median
# over the runs of each run's median batch, the ratios pvcore/Xen of both,
# and the load average of the host before and after the runs.
#
# The QEMU translation cache is flushed after boot and before timing, on
# both hypervisors: the kernel pauses ("bench_pv: paused at ADDR"); this
# script attaches gdb to QEMU's gdb stub, single-steps one instruction
# (turning single-stepping on and off flushes every translated block) and
# writes 1 at ADDR, which releases the kernel. Without it, Xen's hot stack
# page shares its physical page with code GRUB ran at boot, so QEMU's
# self-modifying-code check runs on each store to it and Xen looks many
# times slower than it is.
# The kernel runs with two vCPUs on the one QEMU CPU (pvcore: vcpus=2;
# Xen: dom0_max_vcpus=2) for vcpu_switch and ring_round_trip.
# Then a xenstore READ on pvcore alone (see the end).
# Extra arguments go to the kernel's command line (batches=N scale=N).
. tests/lib/hvtest.sh
. tests/xen/xen-env.sh
ELF=$BUILD/guests/bench_pv.elf
RUNS=${BENCH_RUNS:-3}
TIMEOUT=${BENCH_TIMEOUT:-900}
ARGS="$*"
[ -f "$ELF" ] || { echo "bench_pv: $ELF not built" >&2; exit 1; }
[ -f "$HV_ELF" ] || { echo "bench_pv: $HV_ELF not built" >&2; exit 1; }
[ "$RUNS" -ge 3 ] 2>/dev/null || { echo "bench_pv: BENCH_RUNS must be at least 3" >&2; exit 1; }
command -v gdb >/dev/null || { echo "bench_pv: gdb is needed to flush QEMU's translation cache" >&2; exit 1; }
if ! why=$(xen_fetch xen-hypervisor-4.17-amd64); then
    echo "bench_pv: Xen 4.17 not available: $why" >&2
    exit 1
fi

# A TCP port nobody listens on, for one QEMU's gdb stub.
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# release LOG PORT: wait for the kernel's pause line in LOG, then flush
# QEMU's translation cache through the gdb stub at PORT and release the
# kernel. Leaves "released" or the reason it failed in LOG.release.
release() {
    log=$1 port=$2 t=0
    while [ "$t" -lt "$TIMEOUT" ]; do
        addr=$(tr -d '\r' <"$log" 2>/dev/null | sed -n 's/.*bench_pv: paused at \(0x[0-9a-f]*\).*/\1/p' | head -n 1)
        [ -n "$addr" ] && break
        sleep 1
        t=$((t + 1))
    done
    [ -n "$addr" ] || { echo "no pause line" >"$log.release"; return 1; }
    gdb -nx -batch -ex "set confirm off" -ex "target remote 127.0.0.1:$port" \
        -ex "stepi" -ex "set *(volatile long *)$addr = 1" \
        -ex "printf \"release word %d\\n\", *(long *)$addr" -ex "detach" \
        >"$log.gdb" 2>&1
    if grep -q "release word 1" "$log.gdb"; then
        echo released >"$log.release"
    else
        echo "gdb failed: $(tail -n 3 "$log.gdb" | tr '\n' ' ')" >"$log.release"
        return 1
    fi
}

HV_ISO_FILES="$ELF=/guests/bench_pv.elf" hv_iso bench_pv "debug-exit=0xf4 loglevel=warn" \
    "module2 /guests/bench_pv.elf name=bench mem=64M vcpus=2 -- $ARGS" || exit 1

run_pvcore() {   # run_pvcore N: results in $WORK/pv.N.txt
    port=$(free_port)
    : >"$WORK/bench_pv.log"
    rm -f "$WORK/bench_pv.log.release"
    release "$WORK/bench_pv.log" "$port" &
    rpid=$!
    BOOT_TIMEOUT=$TIMEOUT hv_boot bench_pv -m 256 -cpu max -smp 1 -gdb "tcp:127.0.0.1:$port" \
        -device isa-debug-exit,iobase=0xf4,iosize=0x04
    wait "$rpid"
    cp "$WORK/bench_pv.log" "$WORK/pv.$1.log"
    collect "$WORK/pv.$1.log" "$WORK/bench_pv.log.release" "$WORK/pv.$1.txt" "pvcore run $1"
}

run_xen() {      # run_xen N: results in $WORK/xen.N.txt
    port=$(free_port)
    log="$XEN_LOGS/bench_pv.log"
    mkdir -p "$XEN_LOGS"
    : >"$log"
    rm -f "$log.release"
    release "$log" "$port" &
    rpid=$!
    XEN_SMP=1 XEN_QEMU_EXTRA="-gdb tcp:127.0.0.1:$port" xen_boot bench_pv "$ELF" "$TIMEOUT" "$ARGS" 2
    wait "$rpid"
    cp "$log" "$WORK/xen.$1.log"
    collect "$WORK/xen.$1.log" "$log.release" "$WORK/xen.$1.txt" "Xen run $1"
}

# collect LOG RELEASE OUT WHAT: "op min median" lines of one run, or fail loudly.
collect() {
    if ! grep -q released "$2" 2>/dev/null; then
        echo "bench_pv: $4: translation cache not flushed: $(cat "$2" 2>/dev/null)" >&2
        tail -n 20 "$1" >&2
        exit 1
    fi
    tr -d '\r' <"$1" | sed -n 's/.*bench_pv: op=\([a-z0-9_]*\) .* min=\([0-9]*\) median=\([0-9]*\).*/\1 \2 \3/p' >"$3"
    if ! tr -d '\r' <"$1" | grep -q 'bench_pv: done' || [ ! -s "$3" ]; then
        echo "bench_pv: $4: no result; log tail:" >&2
        tail -n 20 "$1" >&2
        exit 1
    fi
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
i=1
while [ "$i" -le "$RUNS" ]; do
    run_pvcore "$i"
    run_xen "$i"
    echo "bench_pv: run $i of $RUNS done (load $(cut -d' ' -f1 /proc/loadavg))" >&2
    i=$((i + 1))
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# Per operation: the smallest batch of all runs, and the median over the
# runs of each run's median batch.
stats() {   # stats PREFIX OP -> "min median"
    min=$(cat "$WORK/$1".*.txt | awk -v op="$2" '$1 == op { print $2 }' | sort -n | head -n 1)
    med=$(cat "$WORK/$1".*.txt | awk -v op="$2" '$1 == op { print $3 }' | sort -n |
        awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }')
    echo "${min:--} ${med:--}"
}

echo "bench-pv: TSC cycles per operation, QEMU TCG -cpu max -smp 1, $RUNS runs each, alternating;"
echo "bench-pv: QEMU's translation cache flushed (gdb stub single-step) after boot, before timing, on both"
echo "bench-pv: min = smallest batch of all runs; median = median over the runs of each run's median batch"
printf '%-20s %9s %9s %9s %9s %8s %8s\n' operation pv_min pv_med xen_min xen_med min_pv/xen med_pv/xen
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
for op in $(cut -d' ' -f1 "$WORK/pv.1.txt"); do
    set -- $(stats pv "$op") $(stats xen "$op")
    printf '%-20s %9s %9s %9s %9s %8s %8s\n' "$op" "$1" "$2" "$3" "$4" "$(ratio "$1" "$3")" "$(ratio "$2" "$4")"
done
echo "bench-pv: load average before $load_before, after $load_after"
# What the two-vCPU operations did in the first run of each (the kernel's
# own counts; it asserts the handoffs and the ring's notifications).
for side in pv xen; do
    tr -d '\r' <"$WORK/$side.1.log" | sed -n "s/.*bench_pv: \(vcpu_switch\|ring_round_trip\): /bench-pv: $side run 1: \1: /p"
done

# A xenstore READ: on pvcore through pvd's xenstored (the guest library's
# xenstore client, bench/xenstore_bench.sh with one guest). Not in cycles
# beside Xen: the benchmark kernel boots bare as Xen's dom0, where no
# xenstored runs (Xen's runs in a Linux dom0 or in a stub domain that
# dom0's toolstack starts); BENCH_XS_SECONDS=0 skips it.
XS_SECONDS=${BENCH_XS_SECONDS:-5}
if [ "$XS_SECONDS" -gt 0 ] 2>/dev/null; then
    xs=$(ONLY_ONE=1 SECONDS_RUN=$XS_SECONDS BUILD=$BUILD sh bench/xenstore_bench.sh 2>&1 |
        sed -n 's/.*xenstore_bench: read p50 \([0-9]*\) p99 \([0-9]*\).*/\1 \2/p' | head -n 1)
    if [ -z "$xs" ]; then
        echo "bench-pv: xenstore_read: bench/xenstore_bench.sh gave no figure" >&2
        exit 1
    fi
    set -- $xs
    printf '%-20s pvcore p50 %s us, p99 %s us (one guest through pvd, %s s, load %s); Xen: none, its dom0 here runs no xenstored\n' \
        xenstore_read "$1" "$2" "$XS_SECONDS" "$(cut -d' ' -f1 /proc/loadavg)"
fi
