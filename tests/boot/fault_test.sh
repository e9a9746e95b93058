#!/bin/sh
# Fault test: a deliberate fault in the hypervisor is caught by its handler,
# which names the vector and the faulting RIP's symbol and stops QEMU with
# the failure status - not a hang, not a triple-fault reset (-no-reboot
# would make QEMU exit 0 on a reset).
. tests/lib/hvtest.sh
DEBUG_EXIT="-device isa-debug-exit,iobase=0xf4,iosize=0x04"

for spec in "pf:14:#PF" "ud:6:#UD" "gp:13:#GP" "de:0:#DE" "bp:3:#BP" "df:8:#DF"; do
    kind=${spec%%:*}; rest=${spec#*:}; vec=${rest%%:*}; mnem=${rest#*:}
    hv_iso "fault-$kind" "debug-exit=0xf4 selftest=fault-$kind" || { not_ok "build ISO"; continue; }
    # shellcheck disable=SC2086
    hv_boot "fault-$kind" -m 256 $DEBUG_EXIT
    L="fault-$kind"
    head=$(log_line $L 'FATAL TRAP')
    rip=$(log_line $L 'rip e008:')
    echo "$head" | grep -q "vector $vec ($mnem"
    check "fault-$kind: dump names vector $vec ($mnem)" $? "got: ${head:-no dump}"
    echo "$rip" | grep -qE " fault_$kind\+0x[0-9a-f]+/0x[0-9a-f]+$"
    check "fault-$kind: dump names the faulting function fault_$kind" $? "got: ${rip:-no rip line}"
    log_line $L 'backtrace:' | grep -q .
    check "fault-$kind: dump has a backtrace" $?
    [ "$status" -eq 35 ]
    check "fault-$kind: QEMU exits with the failure status (35)" $? "QEMU exited with $status"
done
if [ -n "$(log_line fault-pf 'faulting address \(cr2\): ffff8100deadb000')" ]; then
    ok "fault-pf: dump shows the faulting address from cr2"
else
    not_ok "fault-pf: dump shows the faulting address from cr2" "$(log_line fault-pf 'cr2')"
fi
exit $failed_any
