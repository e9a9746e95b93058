#!/bin/sh
# Boot test: the ISO boots under QEMU TCG, prints the banner and a memory
# summary matching -m within 2%, passes the allocator self-test, counts
# timer ticks within 5% of the TSC's measure of 1 s, and exits with the
# success status through isa-debug-exit.
. tests/lib/hvtest.sh
DEBUG_EXIT="-device isa-debug-exit,iobase=0xf4,iosize=0x04"

# The real ISO from `make iso` boots too (its own command line, no exit):
# checked only for the banner, by stopping QEMU after a few seconds.
if [ -f "$BUILD/pvcore.iso" ]; then
    timeout 8 "$QEMU" -accel tcg -machine pc -m 256 -display none -no-reboot -monitor none \
        -serial "file:$WORK/make-iso.log" -cdrom "$BUILD/pvcore.iso" </dev/null >/dev/null 2>&1
    grep -q 'pvcore: ready' "$WORK/make-iso.log"
    check "build/pvcore.iso boots to 'pvcore: ready'" $? "see $WORK/make-iso.log"
fi

hv_iso selftest "debug-exit=0xf4 selftest=alloc,timer" || { not_ok "build test ISO"; exit 1; }
# shellcheck disable=SC2086
hv_boot selftest -m 512 $DEBUG_EXIT
L=selftest

check "exits with the success status (33)" "$([ "$status" -eq 33 ]; echo $?)" "QEMU exited with $status"
log_line $L 'pvcore [0-9.]+ hypervisor \(x86-64\) starting' | grep -q .
check "banner printed" $?

mem_ok() {   # mem_ok LOG MIB
    kib=$(log_line "$1" 'memory: [0-9]+ KiB' | sed -E 's/.*memory: ([0-9]+) KiB.*/\1/')
    [ -n "$kib" ] || return 1
    # within 2%: |kib - mib*1024| * 100 <= 2 * mib*1024
    want=$(($2 * 1024))
    diff=$((kib > want ? kib - want : want - kib))
    [ $((diff * 100)) -le $((2 * want)) ]
}
mem_ok $L 512
check "memory summary matches -m 512 within 2%" $? "$(log_line $L 'memory: [0-9]+ KiB')"

log_line $L 'selftest: alloc: PASS' | grep -q .
check "frame allocator self-test passes" $? "$(log_line $L 'selftest: alloc')"

line=$(log_line $L 'selftest: timer: ')
ticks=$(echo "$line" | sed -nE 's/.*[( ]([0-9]+) ticks in ([0-9]+) us.*/\1/p')
us=$(echo "$line" | sed -nE 's/.*[( ]([0-9]+) ticks in ([0-9]+) us.*/\2/p')
# expected ticks at 100 Hz over `us` microseconds; must be within 5%
if [ -n "$ticks" ] && [ -n "$us" ]; then
    want=$(( (us + 5000) / 10000 ))
    diff=$((ticks > want ? ticks - want : want - ticks))
    [ "$us" -ge 1000000 ] && [ $((diff * 100)) -le $((5 * want)) ]
    check "timer ticks match the TSC within 5% over 1 s ($ticks ticks, $us us)" $? "$line"
else
    not_ok "timer self-test reported" "no timer line in the log"
fi

# Other memory sizes: the summary follows -m (boot only, no self-tests).
for mib in 128 1024 2560; do
    hv_iso "mem$mib" "debug-exit=0xf4 selftest=boot" || { not_ok "build ISO"; continue; }
    # shellcheck disable=SC2086
    hv_boot "mem$mib" -m $mib $DEBUG_EXIT
    [ "$status" -eq 33 ] && mem_ok "mem$mib" $mib
    check "boots with -m $mib and reports its memory within 2%" $? \
        "status $status; $(log_line "mem$mib" 'memory: [0-9]+ KiB')"
done

# Every CPU QEMU gives comes online (-smp 1..8).
for n in 2 4 8; do
    hv_iso "smp$n" "debug-exit=0xf4 selftest=boot" || { not_ok "build ISO"; continue; }
    # shellcheck disable=SC2086
    hv_boot "smp$n" -m 256 -smp $n $DEBUG_EXIT
    [ "$status" -eq 33 ] && log_line "smp$n" "smp: $n CPUs online" | grep -q .
    check "-smp $n: all $n CPUs come online" $? "status $status; $(log_line "smp$n" 'smp:')"
done

# A bad option is reported, not fatal.
hv_iso badopt "debug-exit=0xf4 selftest=boot loglevel=loud" || exit 1
# shellcheck disable=SC2086
hv_boot badopt -m 256 $DEBUG_EXIT
[ "$status" -eq 33 ] && log_line badopt 'loglevel=loud is not' | grep -q .
check "an unknown loglevel is named in a warning and boot continues" $? "status $status"
exit $failed_any
