#!/bin/sh
# CPU shares on pvcore (issue 4, "Credit scheduler" acceptance). Each boot
# runs cpu_burn / blocker domains over the same window of system time
# (start=2000 len=5000 ms); every vCPU prints
#   cpu-burn: vcpu=N window_ns=W tsc_running_ns=T runstate_running_ns=R gaps=G
# Share = R / W (the hypervisor's accounting, VCPUOP_get_runstate_info),
# cross-checked against the guest's own TSC count: |R - T| <= 5% of the
# window, i.e. the two shares agree within 5 percentage points of a CPU
# (for a blocker, whose R is well under 1% and mostly hypervisor work on
# its wake-ups: |R - T| <= 0.5% of W, i.e. the TSC agrees it is idle).
# The TSC count leaves out every pause of more than 50 us in the guest's
# loop, which under TCG includes the hypervisor's own interrupt handling
# charged to the running vCPU, so it reads a little lower than R.
#   -smp 1: weights 256/512/1024 -> 1/7, 2/7, 4/7 of the CPU (+-10% rel.);
#           cap=20 alone -> <= 22%; a lone burner -> >= 95%;
#           a blocker beside a burner -> < 1%.
#   -smp 2: two 1-vCPU burners -> each >= 90%; a 2-vCPU burner beside a
#           1-vCPU burner, equal weight -> ~50% per vCPU vs ~100%.
# Run: make guests && sh tests/guests/sched_test.sh
. tests/lib/retry.sh
. tests/lib/hvtest.sh
DEBUG_EXIT="-device isa-debug-exit,iobase=0xf4,iosize=0x04"
BOOT_TIMEOUT=${GUEST_BOOT_TIMEOUT:-60}
G=$BUILD/guests
WIN="start=2000 len=5000"

for k in cpu_burn blocker; do
    [ -f "$G/$k.elf" ] || { not_ok "$k kernel built" "no $G/$k.elf (make guests)"; exit 1; }
done

# sched_boot NAME SMP "name opts [-- extra cmdline]"...: kernel from the
# name's prefix (blk* -> blocker, else cpu_burn), window appended.
sched_boot() {
    b=$1 smp=$2
    shift 2
    mods=""
    for m in "$@"; do
        case $m in blk*) k=blocker ;; *) k=cpu_burn ;; esac
        extra=""
        case $m in *" -- "*) extra=" ${m#* -- }"; m=${m%% -- *} ;; esac
        mods="$mods|module2 /guests/$k.elf name=$m mem=32M -- $WIN$extra"
    done
    IFS='|'
    # shellcheck disable=SC2086
    set -- ${mods#|}
    unset IFS
    HV_ISO_FILES="$G/cpu_burn.elf=/guests/cpu_burn.elf $G/blocker.elf=/guests/blocker.elf" \
        hv_iso "$b" "debug-exit=0xf4" "$@" || { not_ok "$b: ISO"; return 1; }
    # shellcheck disable=SC2086
    hv_boot "$b" -m 512 -smp "$smp" $DEBUG_EXIT
    [ "$status" -eq 33 ]
    check "$b (-smp $smp): every domain finished, QEMU exit 33" $? "QEMU exited with $status"
}

# usage BOOT DOM VCPU: "W T R" from the domain's report line.
usage() {
    tr -d '\r' < "$WORK/$1.log" |
        sed -nE "s/^\($2\) [a-z-]+: vcpu=$3 window_ns=([0-9]+) tsc_running_ns=([0-9]+) runstate_running_ns=([0-9]+) gaps=[0-9]+$/\1 \2 \3/p" |
        head -n 1
}

# share BOOT DOM VCPU LO HI WHAT: runstate share in [LO, HI] percent, then
# the TSC cross-check. Sets $pct to the share (for sums).
share() {
    u=$(usage "$1" "$2" "$3")
    pct=0
    if [ -z "$u" ]; then
        verdict=$(log_line "$1" "^\($2\) Test result: ")
        not_ok "$6" "expected a report line from $2 vCPU $3, got none ('${verdict:-no result line}')"
        return
    fi
    # shellcheck disable=SC2086
    set -- "$@" $u
    pct=$(awk -v w="$7" -v r="$9" 'BEGIN { printf "%.2f", 100 * r / w }')
    tpct=$(awk -v w="$7" -v t="$8" 'BEGIN { printf "%.2f", 100 * t / w }')
    awk -v p="$pct" -v lo="$4" -v hi="$5" 'BEGIN { exit !(p >= lo && p <= hi) }'
    check "$6: $2 vCPU $3 got $pct% (want $4..$5%)" $? "expected $4..$5% of a CPU, got $pct% (runstate $9 ns of $7 ns)"
    awk -v w="$7" -v t="$8" -v r="$9" -v blk="${2%%[0-9-]*}" 'BEGIN {
        d = r > t ? r - t : t - r; tol = 0.05 * w
        if (blk == "blk") tol = 0.005 * w
        exit !(d <= tol) }'
    check "$2 vCPU $3: runstate $pct% agrees with the guest's TSC $tpct%" $? \
        "expected |runstate - TSC| within 5% of the window, got runstate $9 ns, TSC $8 ns (window $7 ns)"
}

# verdict BOOT DOM: the kernel's own checks.
verdict() {
    r=$(log_line "$1" "^\($2\) Test result: ")
    echo "$r" | grep -q 'SUCCESS$'
    check "$1: $2: Test result: SUCCESS" $? "got '${r:-no result line}' $(tr -d '\r' < "$WORK/$1.log" | grep -a "^($2) FAIL: " | head -n 2 | tr '\n' ' ')"
}

# ---- -smp 1 ----
sched_boot weights 1 "w256 weight=256" "w512 weight=512" "w1024 weight=1024"
for d in w256 w512 w1024; do verdict weights $d; done
share weights w256 0 12.86 15.71 "weights 256/512/1024: 1/7"
share weights w512 0 25.71 31.43 "weights 256/512/1024: 2/7"
share weights w1024 0 51.43 62.86 "weights 256/512/1024: 4/7"

sched_boot cap 1 "cap20 cap=20"
verdict cap cap20
share cap cap20 0 0 22 "cap=20 alone on a free CPU: <= 22%"

sched_boot lone 1 "lone"
verdict lone lone
share lone lone 0 95 100 "a lone busy domain: >= 95%"

sched_boot blocked 1 "burner" "blk"
verdict blocked burner
verdict blocked blk
share blocked blk 0 0 0.99 "a blocked domain beside a burner: < 1%"

# ---- -smp 2 ----
sched_boot two 2 "one-a" "one-b"
for d in one-a one-b; do
    verdict two $d
    share two $d 0 90 100 "-smp 2, two 1-vCPU burners: >= 90% each"
done

sched_boot split 2 "dual vcpus=2 -- vcpus=2" "single"
verdict split dual
verdict split single
share split dual 0 45 55 "-smp 2, 2-vCPU beside 1-vCPU domain: 2-vCPU domain ~50% per vCPU"
p0=$pct
share split dual 1 45 55 "-smp 2, 2-vCPU beside 1-vCPU domain: 2-vCPU domain ~50% per vCPU"
total=$(awk -v a="$p0" -v b="$pct" 'BEGIN { printf "%.2f", a + b }')
share split single 0 90 100 "-smp 2, 2-vCPU beside 1-vCPU domain: 1-vCPU domain ~100%"
awk -v t="$total" -v s="$pct" 'BEGIN { exit !(t >= 90 && t <= 110 && s >= 90) }'
check "-smp 2: equal weights split 2 CPUs equally: dual $total% vs single $pct% of a CPU" $? \
    "expected both 90..110% of a CPU, got dual $total%, single $pct%"
exit $failed_any
