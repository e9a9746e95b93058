#!/bin/sh
# xenstore_sigkill.sh - xenstore survives SIGKILLs of pvd (TAP).
#
# Two guests run build/guests/xenstore_loop.elf (requests checked reply by
# reply, one watch event per write) while pvd is killed with SIGKILL 20
# times at random moments and started again; each guest must end with
# "Test result: SUCCESS" (no lost or repeated reply, no missed or repeated
# watch event, every read sees the last acknowledged write), and the tree
# must hold each guest's last value afterwards (read before the domain goes).
set -u
BUILD=${BUILD:-build}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1
PVD=${PVD:-$BUILD/bin/pvd}
KILLS=${KILLS:-20}
. tests/lib/pvd_harness.sh
HVLOG="$T/state/machine/hv.log"
harness_on_failure() {
    echo "# hypervisor log:"; grep -a '(xs-loop' "$HVLOG" 2>/dev/null | sed 's/^/# /' | tail -n 20
}

result_of() { grep -a "($1) Test result" "$HVLOG" 2>/dev/null | tail -n 1; }
has_result() { [ -n "$(result_of "$1")" ]; }

echo "1..6"
[ -f "$BUILD/guests/xenstore_loop.elf" ] || { echo "# $BUILD/guests/xenstore_loop.elf missing (make)"; exit 1; }
start_pvd; ok $? "pvd starts and boots the machine"
for g in xs-loop1 xs-loop2; do
    cat >"$T/$g.json" <<EOF2
{"name": "$g", "kernel": "$ROOT/$BUILD/guests/xenstore_loop.elf", "cmdline": "seconds=45",
 "memory": "32M", "vcpus": 1, "on_poweroff": "preserve", "on_crash": "preserve"}
EOF2
    $PVCTL create "$T/$g.json" >/dev/null 2>&1 || fail=1
done
ok $fail "two looping guests created"
kills=0
round=0
while [ $round -lt "$KILLS" ]; do
    sleep "$(awk -v s="$(od -An -N2 -tu2 /dev/urandom)" 'BEGIN { printf "%.2f", 0.3 + (s % 1000) / 1000 }')"
    kill -9 "$pid" && wait "$pid" 2>/dev/null
    start_pvd || break
    kills=$((kills + 1))
    round=$((round + 1))
done
ok $([ "$kills" = "$KILLS" ] && echo 0 || echo 1) "pvd killed with SIGKILL and restarted $kills times while the guests ran"
wait_for 120 has_result xs-loop1 && wait_for 30 has_result xs-loop2
for g in xs-loop1 xs-loop2; do
    r=$(result_of $g)
    case "$r" in *SUCCESS*) ok 0 "$g: $r ($(grep -a "($g) xenstore_loop: .* rounds" "$HVLOG" | sed 's/.*xenstore_loop: //'))" ;;
        *) ok 1 "$g: ${r:-no result}"; grep -a "($g)" "$HVLOG" | grep -a FAIL | head -n 5 | sed 's/^/# /' ;; esac
done
# preserved (shut down, not destroyed): their trees are still there
good=0
for g in xs-loop1 xs-loop2; do
    d=$($PVCTL info $g --json | python3 -c "import json,sys; print(json.load(sys.stdin)['domid'])")
    last=$(grep -a "($g) xenstore_loop: .* rounds" "$HVLOG" | sed 's/.*xenstore_loop: \([0-9]*\) rounds.*/\1/')
    v=$($PVCTL xs read "/local/domain/$d/data/k" 2>&1)
    [ "$v" = "$last" ] || { good=1; echo "# $g: data/k = $v, last acknowledged write $last"; }
done
ok $good "the tree holds each guest's last acknowledged write"
exit $fail
