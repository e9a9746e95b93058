#!/bin/sh
# In-guest tests on pvcore: boot the hypervisor with the PV test kernels as
# GRUB modules, several domains per boot, and check every domain's outcome:
#   success  "(name) Test result: SUCCESS" and a poweroff
#   crash    no result line; the hypervisor reports the domain crashed
#   halted   SUCCESS, then poweroff although the kernel asked for a crash
#            (the code recorded with SCHEDOP_shutdown_code wins)
# After each boot: the hypervisor stopped with the success status, once
# all domains had gone, with the heap back to its size before them.
. tests/lib/hvtest.sh
DEBUG_EXIT="-device isa-debug-exit,iobase=0xf4,iosize=0x04"
BOOT_TIMEOUT=${GUEST_BOOT_TIMEOUT:-180}

# One boot per line: kernel:expect ...
BOOTS="
hypercall_basics:success traps:success usermode:success multicall:success descriptors:success
pagetable:success pin:success balloon:success shutdown_code:halted
hostile_fuzz:success hostile_privop:success hostile_stack:crash hypercall_basics:success
isolation:success isolation:success grant:success ports:success
grant_v2:success grant:success
ptwr:success xenfeat:success linear:success
cpustate:success cpuregs:success sysret:success iret_failsafe:success
"

boot_no=0
check_domain() {   # check_domain BOOT NAME KERNEL EXPECT
    b=$1 name=$2 kernel=$3 expect=$4
    result=$(log_line "$b" "^\($name\) Test result: ")
    down=$(log_line "$b" "domain [0-9]+ \($name\): shut down: ")
    crashed=$(log_line "$b" "domain [0-9]+ \($name\) crashed: ")
    case $expect in
    success)
        if echo "$result" | grep -q 'SUCCESS' && echo "$down" | grep -q 'poweroff$'; then
            ok "$kernel ($name): Test result: SUCCESS, powered off"
        else
            not_ok "$kernel ($name)" "expected SUCCESS and poweroff, got '${result:-no result line}' / '${down:-not shut down}' ${crashed:+/ $crashed}"
        fi ;;
    crash)
        if [ -z "$result" ] && echo "$down" | grep -q 'crash$' && [ -n "$crashed" ]; then
            ok "$kernel ($name): crashed as expected (${crashed#*crashed: })"
        else
            not_ok "$kernel ($name)" "expected a crash and no result line, got '${result:-no result line}' / '${down:-not shut down}'"
        fi ;;
    halted)
        if echo "$result" | grep -q 'SUCCESS' && echo "$down" | grep -q 'poweroff$'; then
            ok "$kernel ($name): SUCCESS, then poweroff despite the crash request"
        else
            not_ok "$kernel ($name)" "expected SUCCESS then poweroff, got '${result:-no result line}' / '${down:-not shut down}'"
        fi ;;
    esac
}

while read -r line; do
    [ -n "$line" ] || continue
    boot_no=$((boot_no + 1))
    b="guests$boot_no"
    mods="" files="" i=0 missing=""
    for spec in $line; do
        k=${spec%%:*}
        i=$((i + 1))
        [ -f "$BUILD/guests/$k.elf" ] || missing="$missing $k"
        files="$files $BUILD/guests/$k.elf=/guests/$k.elf"
        mods="${mods:+$mods|}module2 /guests/$k.elf name=$k-$i mem=32M -- test run $i"
    done
    if [ -n "$missing" ]; then
        not_ok "boot $boot_no" "kernels not built:$missing"
        continue
    fi
    # One GRUB line per module: split the list on '|' only.
    IFS='|'
    # shellcheck disable=SC2086
    set -- $mods
    unset IFS
    HV_ISO_FILES="$files" hv_iso "$b" "debug-exit=0xf4" "$@" || { not_ok "boot $boot_no: ISO"; continue; }
    # shellcheck disable=SC2086
    hv_boot "$b" -m 512 ${GUEST_SMP:+-smp $GUEST_SMP} $DEBUG_EXIT
    i=0
    for spec in $line; do
        i=$((i + 1))
        check_domain "$b" "${spec%%:*}-$i" "${spec%%:*}" "${spec#*:}"
    done
    fin=$(log_line "$b" 'all domains have finished')
    before=$(echo "$fin" | sed -nE 's/.*; ([0-9]+) frames free \(([0-9]+) before.*/\2/p')
    after=$(echo "$fin" | sed -nE 's/.*; ([0-9]+) frames free \(([0-9]+) before.*/\1/p')
    if [ -n "$after" ] && [ "$after" = "$before" ]; then
        ok "boot $boot_no: every frame returned after all domains ended ($after free)"
    else
        not_ok "boot $boot_no: frames returned" "${fin:-the hypervisor never reported all domains finished}"
    fi
    [ "$status" -eq 33 ]
    check "boot $boot_no: the hypervisor stopped with the success status (33)" $? "QEMU exited with $status"
done <<EOF_BOOTS
$BOOTS
EOF_BOOTS

# Unimplemented sub-operations are logged once per domain with their
# numbers: cpustate calls callback_op command 7 twice.
n=$(cat "$WORK"/guests*.log 2>/dev/null | tr -d '\r' |
    grep -c '(cpustate-1): unimplemented hypercall 30 sub-operation 7 -> -ENOSYS')
[ "$n" = 1 ]
check "an unimplemented sub-operation is logged once (callback_op 7)" $? "logged $n times"

# Bad module options stop that domain with a message; the others run.
HV_ISO_FILES="$BUILD/guests/hypercall_basics.elf=/guests/hypercall_basics.elf" \
    hv_iso badopts "debug-exit=0xf4" \
    "module2 /guests/hypercall_basics.elf name=bad-mem mem=lots" \
    "module2 /guests/hypercall_basics.elf name=bad-key colour=blue" \
    "module2 /guests/hypercall_basics.elf name=bad-vcpus vcpus=99" \
    "module2 /guests/hypercall_basics.elf name=good mem=16M"
# shellcheck disable=SC2086
hv_boot badopts -m 256 $DEBUG_EXIT
log_line badopts 'module 0: mem=lots is not a size' | grep -q .
check "bad mem= named, domain not started" $? "$(log_line badopts 'module 0')"
log_line badopts "module 1: unknown option 'colour'" | grep -q .
check "unknown option named, domain not started" $? "$(log_line badopts 'module 1')"
log_line badopts 'module 2: vcpus=99 is not between' | grep -q .
check "bad vcpus= named, domain not started" $? "$(log_line badopts 'module 2')"
check_domain badopts good hypercall_basics success
exit $failed_any
