#!/bin/sh
# Hostile-guest races and limits on pvcore (issue 13, "Hypervisor"): each
# boot runs test kernels that attack one guarantee from several vCPUs on
# -smp 2, and checks that every domain reports SUCCESS and powers off and
# that the hypervisor stops with the success status (it survived).
#   console_race  two vCPUs on CONSOLEIO_write + the ring at once; no
#                 printed line longer than the line buffer (160 bytes)
#   vcpu_init_race  two vCPUs on VCPUOP_initialise of the same vCPU at
#                 once: one wins, the other gets -EEXIST, no frame leaks
# Run: make guests && sh tests/guests/hardening_test.sh
. tests/lib/hvtest.sh
DEBUG_EXIT="-device isa-debug-exit,iobase=0xf4,iosize=0x04"
BOOT_TIMEOUT=${GUEST_BOOT_TIMEOUT:-180}
G=$BUILD/guests

# harden_boot BOOT SMP "kernel name-and-options [-- cmdline]"...: boot the
# kernels, expect SUCCESS + poweroff from each and QEMU exit 33.
harden_boot() {
    b=$1 smp=$2
    shift 2
    mods="" files="" names=""
    for m in "$@"; do
        k=${m%% *} rest=${m#* }
        [ -f "$G/$k.elf" ] || { not_ok "$b: $k kernel built" "no $G/$k.elf (make guests)"; return 1; }
        files="$files $G/$k.elf=/guests/$k.elf"
        mods="$mods|module2 /guests/$k.elf $rest"
        names="$names ${rest%% *}"
    done
    IFS='|'
    # shellcheck disable=SC2086
    set -- ${mods#|}
    unset IFS
    HV_ISO_FILES="$files" hv_iso "$b" "debug-exit=0xf4" "$@" || { not_ok "$b: ISO"; return 1; }
    # shellcheck disable=SC2086
    hv_boot "$b" -m 512 -smp "$smp" $DEBUG_EXIT
    for n in $names; do
        n=${n#name=}
        result=$(log_line "$b" "^\($n\) Test result: ")
        down=$(log_line "$b" "domain [0-9]+ \($n\): shut down: ")
        if echo "$result" | grep -q SUCCESS && echo "$down" | grep -q 'poweroff$'; then
            ok "$b: $n: Test result: SUCCESS, powered off"
        else
            not_ok "$b: $n" "expected SUCCESS and poweroff, got '${result:-no result line}' / '${down:-not shut down}'"
            tr -d '\r' < "$WORK/$b.log" | grep -aE "FAIL|crashed|PANIC|BUG|fault" | head -n 5 | sed 's/^/#   /'
        fi
    done
    fin=$(log_line "$b" 'all domains have finished')
    echo "$fin" | grep -q 'MEMORY LEAKED' && not_ok "$b: frames returned" "$fin"
    [ "$status" -eq 33 ]
    check "$b (-smp $smp): the hypervisor survived, every domain finished (QEMU exit 33)" $? \
        "QEMU exited with $status"
}

# 1. The console line buffer under two writing vCPUs.
harden_boot console 2 "console_race name=conrace mem=32M vcpus=2 -- ms=${CONRACE_MS:-1500}"
long=$(tr -d '\r' < "$WORK/console.log" | grep -a '^(conrace) ' |
       awk 'length($0) > 160 + length("(conrace) ") { n++ } END { print n + 0 }')
[ "$long" = 0 ]
check "console: no line of conrace longer than the 160-byte line buffer" $? "$long longer lines"
lines=$(tr -d '\r' < "$WORK/console.log" | grep -ac '^(conrace) ')
[ "$lines" -gt 100 ]
check "console: the hammering was printed ($lines lines)" $? "only $lines lines"

# 2. Two vCPUs initialising one vCPU at once (GDT and page-table references).
harden_boot vcpuinit 2 "vcpu_init_race name=vinit mem=32M vcpus=8"

exit $failed_any
