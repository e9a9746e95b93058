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

# config NAME KERNEL: a domain config in $T/NAME.json
config() {
    cat >"$T/$1.json" <<EOF2
{"name": "$1", "kernel": "$ROOT/$BUILD/guests/$2.elf", "cmdline": "name=$1",
 "memory": "32M", "vcpus": 1, "on_poweroff": "destroy", "on_crash": "destroy"}
EOF2
}

result_of() { grep -a "($1) Test result" "$HVLOG" 2>/dev/null | tail -n 1; }
has_result() { [ -n "$(result_of "$1")" ]; }

echo "1..5"
if [ ! -f "$BUILD/pvcore.iso" ] || [ ! -f "$BUILD/guests/xenstore.elf" ]; then
    echo "# $BUILD/pvcore.iso or $BUILD/guests/xenstore.elf missing (make)"; exit 1
fi
start_pvd; ok $? "pvd starts and boots the machine"
config xs-basic xenstore
$PVCTL create "$T/xs-basic.json" >"$T/out" 2>&1
ok $? "pvctl create xs-basic ($(cat "$T/out"))"
wait_for 120 has_result xs-basic
r=$(result_of xs-basic)
case "$r" in *SUCCESS*) ok 0 "xenstore kernel: $r" ;; *) ok 1 "xenstore kernel: ${r:-no result}"
    grep -a '(xs-basic)' "$HVLOG" | grep -a FAIL | head -n 20 | sed 's/^/# /' ;; esac
grep -q "domain [0-9]* hit its quota entry-size = 2048" "$T/pvd.log"
ok $? "pvd logs the quota the guest hit"
wait_for 20 sh -c "! $PVCTL list 2>/dev/null | grep -q xs-basic"
grep -q "xenstore: domain [0-9]* introduced" "$T/pvd.log"
ok $? "the domain was introduced to xenstore"
exit $fail
