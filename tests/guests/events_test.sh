#!/bin/sh
# Event channels and time on pvcore (issue 4, "Events and time"):
#   boot 1 (-smp 1): evtchn_pingpong as server (domain 1), client (domain 2)
#     and single (domain 3): 10,000 round trips with no lost or spurious
#     event, the server closing its end mid-stream, one-domain checks
#     (IPI, VIRQ, close, loopback, port limit, reset).
#   boot 2 (-smp 2, alone: an idle machine): timer with vcpus=2: one-shots
#     10 ms ahead never early and at most 2 ms late, periodic timer,
#     system time monotonic across vCPUs (needs VCPUOP_initialise/up).
#   boot 3 (-smp 2, two boots): FIFO event channels: the ping-pong pair
#     with a FIFO client (fifo=1) and a 2-level server, then evtchn_fifo
#     with vcpus=2 alone.
# Each kernel must end with "Test result: SUCCESS"; the figures the kernels
# print are checked and quoted here. Not in TESTS until the scheduler/SMP
# work lands. Run: make guests && sh tests/guests/events_test.sh
. tests/lib/retry.sh
. tests/lib/hvtest.sh
DEBUG_EXIT="-device isa-debug-exit,iobase=0xf4,iosize=0x04"
BOOT_TIMEOUT=${GUEST_BOOT_TIMEOUT:-150}
G=$BUILD/guests

for k in evtchn_pingpong timer evtchn_fifo; do
    [ -f "$G/$k.elf" ] || { not_ok "$k kernel built" "no $G/$k.elf (make guests)"; exit 1; }
done
HV_ISO_FILES="$G/evtchn_pingpong.elf=/guests/evtchn_pingpong.elf $G/timer.elf=/guests/timer.elf"

lines() { tr -d '\r' < "$WORK/$1.log" | grep -aE "$2"; }
# result BOOT NAME WHAT: the domain's verdict, with its first FAIL lines.
result() {
    r=$(log_line "$1" "^\($2\) Test result: ")
    case $r in
    *SUCCESS) ok "$3: Test result: SUCCESS" ;;
    *) not_ok "$3" "expected Test result: SUCCESS, got '${r:-no result line}' $(lines "$1" "^\($2\) FAIL: " | head -n 3 | tr '\n' ' ')" ;;
    esac
}
# expect BOOT LINE-REGEX WANT-REGEX WHAT: the first log line matching
# LINE-REGEX must also match WANT-REGEX; the line is quoted either way.
expect() {
    l=$(log_line "$1" "$2")
    echo "$l" | grep -qE "$3"
    check "$4 (${l#*) })" $? "expected /$3/, got '${l:-no such line}'"
}
# finished BOOT: QEMU stopped with 33 after every domain ended.
finished() {
    fin=$(log_line "$1" 'all domains have finished')
    [ "$status" -eq 33 ] && [ -n "$fin" ]
    check "$1: all domains finished, QEMU exit 33" $? "exit $status, '${fin:-no end line}'"
}

# ---- boot 1: ping-pong pair and the one-domain checks ----
hv_iso pingpong "debug-exit=0xf4" \
    "module2 /guests/evtchn_pingpong.elf name=server mem=32M -- role=server peer=2" \
    "module2 /guests/evtchn_pingpong.elf name=client mem=32M -- role=client peer=1" \
    "module2 /guests/evtchn_pingpong.elf name=single mem=32M -- role=single" ||
    not_ok "pingpong: ISO"
# shellcheck disable=SC2086
hv_boot pingpong -m 512 -smp 1 $DEBUG_EXIT
result pingpong server "evtchn_pingpong server"
result pingpong client "evtchn_pingpong client"
result pingpong single "evtchn_pingpong single-domain checks"

rt=$(lines pingpong '^\(client\) client: [0-9]+ round trips')
srv=$(lines pingpong '^\(server\) server: [0-9]+ round trips')
echo "$rt" | grep -q ' 10000 round trips in [0-9]* ms, 0 spurious' &&
    echo "$srv" | grep -q ' 10000 round trips in [0-9]* ms, 0 spurious'
check "ping-pong: 10000 round trips, none lost, none spurious (${rt#*client: })" $? \
    "expected '10000 round trips ... 0 spurious' on both sides, got '${rt:-nothing}' / '${srv:-nothing}'"

expect pingpong '^\(client\) client: after [0-9]+ sends the port is' \
    'the port is (unbound \(dom 1\)|closed)' "close mid-stream: the client's port is left unbound"
expect pingpong '^\(client\) client: orphaned port:' 'without an event, send rc (0|-22)$' \
    "close mid-stream: poll on the orphaned port times out cleanly, send returns"
expect pingpong '^\(single\) single: [0-9]+ ports allocated' 'highest 1023, then -28$' \
    "port limit: 1024 ports (0 reserved), then -ENOSPC"
finished pingpong

# ---- boot 3: FIFO event channels (-smp 2) ----
# 3a: 10,000 round trips between a 2-level server and a FIFO client, on
# two CPUs; 3b: evtchn_fifo with vcpus=2 (every FIFO check, SMP included),
# alone, so that neither's busy waits slow the other's timed checks.
HV_ISO_FILES="$HV_ISO_FILES $G/evtchn_fifo.elf=/guests/evtchn_fifo.elf"
# The pair boots FIFOPAIR_BOOTS times (loglevel=debug: its timing made the
# race below show in about one boot of three): a vCPU taken from a run
# queue, or unloaded before its registers were saved, could be queued
# again and run on both CPUs at once (the guests' stacks and registers
# went wrong: #PF at a bad rip, failsafe with a shifted frame, lost events).
hv_iso fifopair "debug-exit=0xf4 loglevel=debug" \
    "module2 /guests/evtchn_pingpong.elf name=server mem=32M -- role=server peer=2" \
    "module2 /guests/evtchn_pingpong.elf name=fclient mem=32M -- role=client peer=1 fifo=1" ||
    not_ok "fifopair: ISO"
boots=${FIFOPAIR_BOOTS:-5}
bad=""
for i in $(seq 1 "$boots"); do
    # shellcheck disable=SC2086
    hv_boot fifopair -m 512 -smp 2 $DEBUG_EXIT
    rt=$(log_line fifopair '^\(fclient\) client: [0-9]+ round trips')
    srv=$(log_line fifopair '^\(server\) Test result: ')
    cli=$(log_line fifopair '^\(fclient\) Test result: ')
    if ! echo "$rt" | grep -qE ' 10000 round trips in [0-9]* ms, 0 spurious' ||
       [ "${srv##*: }" != SUCCESS ] || [ "${cli##*: }" != SUCCESS ] || [ "$status" -ne 33 ]; then
        bad="$bad boot $i: exit $status, server '${srv:-no result}', client '${cli:-no result}';"
        cp "$KEEP/fifopair.log" "$KEEP/fifopair-boot$i.log"
    fi
done
[ -z "$bad" ]
check "ping-pong FIFO client <-> 2-level server on two CPUs, $boots boots: 10000 round trips each, none lost, none spurious, both SUCCESS (${rt#*client: })" $? "$bad"

hv_iso fifo "debug-exit=0xf4" \
    "module2 /guests/evtchn_fifo.elf name=fifo mem=32M vcpus=2 -- fifo" ||
    not_ok "fifo: ISO"
# shellcheck disable=SC2086
hv_boot fifo -m 512 -smp 2 $DEBUG_EXIT
result fifo fifo "evtchn_fifo (vcpus=2)"
expect fifo '^\(fifo\) fifo: pvcore limit:' 'highest 32767, then -28$' \
    "FIFO port limit: 32768 ports, then -ENOSPC"
nosmp=$(log_line fifo '^\(fifo\) SKIP: ')
[ -z "$nosmp" ]
check "FIFO SMP checks ran on vCPU 1" $? "$nosmp"
finished fifo
# The FIFO guest's control blocks and event-array pages are released.
fin=$(log_line fifo 'all domains have finished')
echo "$fin" | grep -qE '; ([0-9]+) frames free \(\1 before the first domain\)'
check "fifo: every frame returned after the FIFO domain ended (${fin#*finished; })" $? \
    "${fin:-no end line}"

# ---- boot 2: timers and time, alone ----
hv_iso timer "debug-exit=0xf4" \
    "module2 /guests/timer.elf name=timer mem=32M vcpus=2 -- timer" ||
    not_ok "timer: ISO"
# shellcheck disable=SC2086
hv_boot timer -m 512 -smp 2 $DEBUG_EXIT
result timer timer "timer"
for how in set_timer_op VCPUOP_set_singleshot_timer; do
    l=$(log_line timer "^\(timer\) timer: $how: ")
    max=$(echo "$l" | sed -nE 's/.* max ([0-9]+) us .*/\1/p')
    [ -n "$max" ] && [ "$max" -le 2000 ] && echo "$l" | grep -q ', 0 early, 0 extra'
    check "one-shot 10 ms ahead ($how): never early, at most 2 ms late (${l#*: *: })" $? \
        "expected 0 early and max <= 2000 us, got '${l:-no lateness line}'"
done
expect timer '^\(timer\) timer: periodic 10 ms: ' ': (19|20|21) events in 205 ms' \
    "periodic timer fires at its period"
mono=$(log_line timer '^\(timer\) timer: monotonic across vCPUs')
skipped=$(log_line timer '^\(timer\) SKIP: ')
if [ -n "$mono" ]; then
    expect timer '^\(timer\) timer: monotonic across vCPUs' 'backwards 0 / 0 ' \
        "system time monotonic across vCPUs"
else
    not_ok "system time monotonic across vCPUs" "expected the check on 2 vCPUs, got '${skipped:-no line}'"
fi
finished timer
exit $failed_any
