#!/bin/sh
# xenstore_guests.sh - the xenstore server in pvd, end to end (TAP).
#
# pvd (PVD=..., default build/bin/pvd) boots the machine on a temporary
# state dir; the test kernel build/guests/xenstore.elf runs as a domain and
# exercises the protocol, its errors, watches, transactions and quotas from
# the guest side ("Test result: SUCCESS" in the hypervisor log); pvd's log
# names the quota the guest hit; the domain's tree is removed when it goes.
# The machine is stopped at the end, also on failure.
set -u
BUILD=${BUILD:-build}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1
PVD=${PVD:-$BUILD/bin/pvd}
. tests/lib/pvd_harness.sh
HVLOG="$T/state/machine/hv.log"
harness_on_failure() {
    echo "# hypervisor log:"; grep -a '(xs-' "$HVLOG" 2>/dev/null | sed 's/^/# /' | tail -n 40
}

# config NAME KERNEL [CMDLINE]: a domain config in $T/NAME.json
config() {
    cat >"$T/$1.json" <<EOF2
{"name": "$1", "kernel": "$ROOT/$BUILD/guests/$2.elf", "cmdline": "name=$1 ${3:-}",
 "memory": "32M", "vcpus": 1, "on_poweroff": "destroy", "on_crash": "destroy"}
EOF2
}
# pvd tracks domains by domid until the domid branch lands: let the last
# batch's domains be gone before the next one may reuse their domids
none_left() { [ "$($PVCTL list --json 2>/dev/null | tr -d ' \n')" = "[]" ]; }
domid_of() { $PVCTL info "$1" --json | python3 -c "import json,sys; print(json.load(sys.stdin)['domid'])"; }
expect_success() {
    wait_for "$2" has_result "$1"
    r=$(result_of "$1")
    case "$r" in *SUCCESS*) ok 0 "$1: $r" ;; *) ok 1 "$1: ${r:-no result}"
        grep -a "($1)" "$HVLOG" | grep -a FAIL | head -n 20 | sed 's/^/# /' ;; esac
}

result_of() { grep -a "($1) Test result" "$HVLOG" 2>/dev/null | tail -n 1; }
has_result() { [ -n "$(result_of "$1")" ]; }

echo "1..21"
if [ ! -f "$BUILD/pvcore.iso" ] || [ ! -f "$BUILD/guests/xenstore.elf" ]; then
    echo "# $BUILD/pvcore.iso or $BUILD/guests/xenstore.elf missing (make)"; exit 1
fi
start_pvd --xs-quota output-bytes=16384; ok $? "pvd starts and boots the machine (--xs-quota output-bytes=16384)"
config xs-basic xenstore
$PVCTL create "$T/xs-basic.json" >"$T/out" 2>&1
ok $? "pvctl create xs-basic ($(cat "$T/out"))"
expect_success xs-basic 120
grep -q "domain [0-9]* hit its quota entry-size = 2048" "$T/pvd.log"
ok $? "pvd logs the quota the guest hit"
wait_for 20 sh -c "! $PVCTL list 2>/dev/null | grep -q xs-basic"
grep -q "xenstore: domain [0-9]* introduced" "$T/pvd.log"
ok $? "the domain was introduced to xenstore"

# two domains: permissions and transaction conflicts between them
wait_for 30 none_left; sleep 0.3
config xs-a xenstore_pair role=a
config xs-b xenstore_pair role=b
$PVCTL create "$T/xs-a.json" >/dev/null 2>&1 && $PVCTL create "$T/xs-b.json" >/dev/null 2>&1
ok $? "pvctl create xs-a and xs-b"
a=$(domid_of xs-a) b=$(domid_of xs-b)
$PVCTL xs write "/local/domain/$a/data/peer" "$b" && $PVCTL xs write "/local/domain/$b/data/peer" "$a"
ok $? "pvctl xs write tells each its peer (domids $a and $b)"
expect_success xs-a 120
expect_success xs-b 60
grep -a "xenstore_pair: .* conflicts" "$HVLOG" | sed 's/^/# /'

# hostile guests are cut off alone; a well-behaved one runs beside them
wait_for 30 none_left; sleep 0.3
for m in badlen badidx nocons; do config "xs-$m" xenstore_hostile "mode=$m"; done
config xs-good xenstore
for d in xs-good xs-badlen xs-badidx xs-nocons; do $PVCTL create "$T/$d.json" >/dev/null 2>&1 || break; done
ok $? "pvctl create three hostile domains and a good one"
expect_success xs-badlen 60
expect_success xs-badidx 60
expect_success xs-nocons 60
expect_success xs-good 120
for m in badlen badidx nocons; do
    grep -q "xenstore: domain $(grep -a "domain [0-9]* (xs-$m) created" "$HVLOG" | sed 's/.*domain \([0-9]*\) (xs-.*/\1/' | tail -n 1) cut off" "$T/pvd.log" || fail=1
done
ok $fail "pvd logs each cut-off with the domain"

# cooperative shutdown and reboot through control/shutdown
wait_for 30 none_left; sleep 0.3
config xs-obey xenstore_obey
$PVCTL create "$T/xs-obey.json" >/dev/null 2>&1
wait_for 30 sh -c "$PVCTL xs read /local/domain/\$($PVCTL info xs-obey --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"domid\"])')/control/feature-reboot | grep -q 1"
ok $? "xs-obey advertises control/feature-poweroff and -reboot"
$PVCTL reboot xs-obey >/dev/null 2>&1
wait_for 30 sh -c "grep -qa '(xs-obey) xenstore_obey: control/shutdown = reboot: rebooting' $HVLOG && [ \$(grep -ac '(xs-obey) xenstore_obey: waiting' $HVLOG) -ge 2 ]"
ok $? "pvctl reboot: the guest reboots itself through control/shutdown and comes back"
grep -q "domain [0-9]*: asked to reboot through xenstore (control/shutdown)" "$T/pvd.log"
ok $? "pvd says it asked through xenstore"
$PVCTL shutdown xs-obey --timeout 30 >"$T/out" 2>&1
ok $? "pvctl shutdown returns once it is off ($(cat "$T/out"))"
grep -qa '(xs-obey) xenstore_obey: control/shutdown = poweroff: powering off' "$HVLOG"
ok $? "the guest powered itself off through control/shutdown"
! grep -qE "runtime error|AddressSanitizer|LeakSanitizer" "$T/pvd.log"
ok $? "no sanitizer report in pvd's log"
exit $fail
