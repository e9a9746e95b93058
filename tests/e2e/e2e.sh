#!/bin/sh
# e2e.sh - pvd drives real domains, end to end (TAP).
#
# pvd on a temporary state dir boots the machine (QEMU, $BUILD/pvcore.iso);
# pvctl create examples/hello.json; the console shows the guest's output;
# pvctl list shows it running with memory, vCPUs and CPU time; a defined
# domain and the running one survive a SIGKILL of pvd and its restart (the
# console goes on); pvctl destroy; gone; pvd stops on SIGTERM with status 0
# and its log has no sanitizer report (PVD=build/asan/bin/pvd: e2e-asan.sh).
# The machine is stopped at the end, also on failure.
set -u
BUILD=${BUILD:-build}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1
PVD=${PVD:-$BUILD/bin/pvd}
. tests/lib/pvd_harness.sh

console_has() { $PVCTL console "$1" --no-follow | grep -q "$2"; }
lines() { $PVCTL console hello --no-follow 2>/dev/null | grep -c '^hello: '; }
field() { $PVCTL info "$1" --json | python3 -c "import json,sys; print(json.load(sys.stdin).get('$2'))"; }

echo "1..15"
if [ ! -f "$BUILD/pvcore.iso" ] || [ ! -f "$BUILD/guests/hello.elf" ]; then
    echo "# $BUILD/pvcore.iso or $BUILD/guests/hello.elf missing (make)"; exit 1
fi
start_pvd; ok $? "pvd starts and boots the machine"
$PVCTL create examples/hello.json >"$T/out" 2>&1
ok $? "pvctl create examples/hello.json ($(cat "$T/out"))"
wait_for 15 console_has hello 'Hello from pvcore (domain hello)'
ok $? "the console shows the guest's greeting"
wait_for 10 console_has hello '^hello: 1 s'
ok $? "and its lines every second"
$PVCTL list --json | python3 -c '
import json, sys
d = [x for x in json.load(sys.stdin) if x["name"] == "hello"][0]
assert d["state"] == "running" and d["domid"] > 0, d
assert d["memory_mib"] == 32 and d["vcpus"] == 1 and d["cpu_time_ns"] > 0, d
'
ok $? "pvctl list shows it running with memory, vCPUs and CPU time"
$PVCTL list | grep -Eq '^[0-9]+ +hello +running +32 MiB +1 +[0-9]+\.[0-9]'
ok $? "the table has ID, state, 32 MiB, 1 vCPU, CPU seconds"
$PVCTL start hello 2>&1 | grep -q 'Invalid state: domain "hello" is already running'
ok $? "starting a running domain is an error that says so"
$PVCTL define examples/hello.xml >/dev/null 2>&1
domid=$(field hello domid)
before=$(lines)
kill -9 "$pid"; wait "$pid" 2>/dev/null
sleep 1
start_pvd; ok $? "pvd restarts after SIGKILL and re-attaches to the machine"
[ "$(field hello state)" = running ] && [ "$(field hello domid)" = "$domid" ]
ok $? "the running domain kept running (same domid $domid)"
[ "$(field hello-xml state)" = shut-off ] && [ "$(field hello-xml desired_state)" = shut-off ]
ok $? "the defined domain survived the restart"
wait_for 10 sh -c "[ \$($PVCTL console hello --no-follow | grep -c '^hello: ') -gt $((before + 1)) ]"
ok $? "pvctl console shows new output after the restart (had $before lines)"
off() { [ "$(field hello state)" = shut-off ] && [ "$(field hello domid)" = None ]; }
$PVCTL destroy hello >/dev/null 2>&1 && wait_for 5 off
ok $? "pvctl destroy: shut off, no domid"
! $PVCTL list | grep -q ' hello ' && $PVCTL list --all | grep -q ' hello .*shut-off'
ok $? "gone from pvctl list, still defined"
kill -TERM "$pid"
# Bounded: a pvd that hangs on SIGTERM is killed after 30 s and fails here.
( sleep 30; kill -KILL "$pid" 2>/dev/null ) & watchdog=$!
wait "$pid"; rc=$?; pid=
kill "$watchdog" 2>/dev/null; wait "$watchdog" 2>/dev/null
ok $rc "pvd stops on SIGTERM with status 0 (it was $rc)"
! grep -Eq 'ERROR: (Address|Leak)Sanitizer|runtime error:|SUMMARY: (Address|Leak|UndefinedBehavior)Sanitizer' "$T/pvd.log"
ok $? "the pvd log has no sanitizer report ($PVD)"
[ "$fail" = 0 ] || grep -E -A12 'Sanitizer|runtime error:' "$T/pvd.log" | sed 's/^/# /' | head -n 60
exit $fail
