#!/bin/sh
# net_guests.sh - virtual network interfaces through pvd, end to end, with
# the test kernel build/guests/net.elf (guests/kernels/net.c: netfront and
# the library's IPv4 stack) on pvd's internal switches.
#
#   ga, gb   internal  ping each other every 50 ms for 30 s; meanwhile
#   hx       internal  a hostile netfront (bad grant, oversize frame, runt,
#                      fragments larger than their packet, spoofed source
#                      MAC, an rx buffer of a grant never given, garbage
#                      tx and rx ring indices, a 19-slot chain, an
#                      unknown extra-info slot, flooding), pinging ga after
#                      each; pvd logs each drop or shut naming domain, vif
#                      and cause, and ga and gb carry on;
#   then pvd is killed (SIGKILL) and started again while ga and gb ping:
#   it resumes their vifs, they carry traffic again without the guests
#   re-initialising (their frontends never leave Connected).
# Weighted shares, on internal-s whose capacity is 800000 bytes/s
# (--net-capacity): a receiver and senders flooding UDP to it:
#   weights 1:2:4             shares 1/7, 2/7, 4/7 within 5 points
#   rates 100000, 200000, 300000 each within 5% of its cap
#   one sender alone          the whole capacity within 5%
# measured on the host: each sender's vif counters (pvctl info --json,
# vifs[0].stats.tx_bytes) over 8 s of the host's clock.
set -u
BUILD=${BUILD:-build}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1
PVD=${PVD:-$BUILD/bin/pvd}
. tests/lib/pvd_harness.sh
HVLOG="$T/state/machine/hv.log"
CAP=800000
harness_on_failure() {
    echo "# guests:"; grep -a '([a-z][a-z0-9]*) net' "$HVLOG" 2>/dev/null | sed 's/^/# /' | tail -n 40
}

# config NAME CMDLINE VIFJSON
config() {
    cat >"$T/$1.json" <<EOF2
{"name": "$1", "kernel": "$ROOT/$BUILD/guests/net.elf", "cmdline": "name=$1 $2",
 "memory": "32M", "vcpus": 1, "on_poweroff": "destroy", "on_crash": "destroy",
 "vifs": [$3]}
EOF2
}
create() { $PVCTL create "$T/$1.json" >"$T/out" 2>&1 || { echo "# $(cat "$T/out")"; return 1; }; }
result_of() { grep -a "($1) Test result" "$HVLOG" 2>/dev/null | tail -n 1; }
expect_success() {   # NAME SECONDS
    wait_for "$2" sh -c "grep -aq '($1) Test result' '$HVLOG'"
    r=$(result_of "$1")
    case "$r" in *SUCCESS*) ok 0 "$1: $r" ;; *) ok 1 "$1: ${r:-no result}"
        grep -a "($1)" "$HVLOG" | grep -a FAIL | head -n 20 | sed 's/^/# /' ;; esac
}
gone() { ! $PVCTL list 2>/dev/null | grep -qw -- "$1"; }
all_gone() { for d in "$@"; do gone "$d" || return 1; done; }
# field NAME SRC WORD: the number before WORD on NAME's "udp from SRC:" line
field() {
    grep -a "($1) net: udp from $2:" "$HVLOG" | tail -n 1 | sed -n "s/.* \([0-9][0-9]*\) $3.*/\1/p"
}

echo "1..18"
if [ ! -f "$BUILD/pvcore.iso" ] || [ ! -f "$BUILD/guests/net.elf" ]; then
    echo "# $BUILD/pvcore.iso or $BUILD/guests/net.elf missing (make)"; exit 1
fi
PVD_OPTS="--cpus 2 --net-capacity internal-s=$CAP"
start_pvd $PVD_OPTS; ok $? "pvd starts (--net-capacity internal-s=$CAP)"

# --- ping, a hostile netfront, a SIGKILL of pvd ---
config ga "ip=10.0.0.1 peer=10.0.0.2 seconds=30 linger=3" '{"bridge": "internal"}'
config gb "ip=10.0.0.2 peer=10.0.0.1 seconds=30 linger=3" '{"bridge": "internal"}'
config hx "mode=hostile ip=10.0.0.9 peer=10.0.0.1 flood=3" '{"bridge": "internal"}'
create ga && create gb && create hx
ok $? "pvctl create ga, gb (pinging each other) and hx (hostile) on internal"
expect_success hx 120
grep -a "(hx) net:" "$HVLOG" | sed 's/^/# /'
for cause in "tx packet of 60 bytes dropped: grant copy status" \
             "tx packet of 1600 bytes dropped: larger than the MTU" \
             "tx packet of 10 bytes dropped: shorter than an Ethernet header" \
             "tx packet of 100 bytes dropped: its fragments are larger than the packet" \
             "tx frame dropped: source MAC .* is not the vif's" \
             "rx buffer 128: grant copy status -[0-9]*; frame dropped" \
             "shut: tx ring: req_prod is 1000 requests ahead" \
             "shut: rx ring: req_prod is [0-9]* requests ahead" \
             "shut: tx ring: a packet of more than 18 slots" \
             "shut: tx ring: extra-info slot of unknown type 9"; do
    grep -q "netback: domain [0-9]* vif 0: $cause" "$T/pvd.log" || { echo "# not logged: $cause"; false; }
done
ok $? "pvd logged each of hx's drops and shuts with its domain, vif and cause"
kill -0 "$pid"; ok $? "pvd carried on"
grep -a "(g[ab]) net: ping" "$HVLOG" | tail -n 2 | sed 's/^/# /'
sleep 3
kill -9 "$pid"; wait "$pid" 2>/dev/null
sleep 2
start_pvd $PVD_OPTS; ok $? "pvd killed (SIGKILL) while ga and gb ping each other, and started again"
expect_success ga 90
expect_success gb 30
grep -a "(g[ab]) net: ping .* in " "$HVLOG" | sed 's/^/# /'
[ "$(grep -c "netback: domain [0-9]* vif 0: resumed" "$T/pvd.log")" = 2 ]
ok $? "the new pvd resumed both vifs ($(grep -o 'domain [0-9]* vif 0: resumed' "$T/pvd.log" | tr '\n' ' '))"
[ "$(grep -ac "(g[ab]) net: vif 0 connected" "$HVLOG")" = 2 ]
ok $? "neither guest re-initialised its vif"

# --- weighted shares of internal-s ---
wait_for 30 all_gone ga gb hx
# txb NAME: bytes vif 0 of NAME has sent (pvd's counters), or nothing
txb() {
    $PVCTL info "$1" --json 2>/dev/null | python3 -c "import json,sys
try: print(json.load(sys.stdin)['vifs'][0]['stats']['tx_bytes'])
except Exception: pass"
}
# shares RUN VIF...: receiver sr<RUN> and senders s<RUN>1.. with the vif
# settings given; once every sender sends (and 2 s more), each one's
# bytes/s over 8 s of the host's clock into rate_<i>, their sum into total
shares() {
    run=$1; shift
    config "sr$run" "mode=udprecv ip=10.0.2.100 expect=$# seconds=8 linger=4" '{"bridge": "internal-s"}'
    create "sr$run" || return 1
    i=0
    for vif in "$@"; do
        i=$((i + 1))
        config "s$run$i" "mode=udpsend ip=10.0.2.$i peer=10.0.2.100 seconds=16" \
            "{\"bridge\": \"internal-s\", $vif}"
        create "s$run$i" || return 1
    done
    wait_for 60 sh -c "[ \$(grep -ac '(s$run[0-9]) net: vif 0 connected' '$HVLOG') -ge $# ]" || return 1
    sleep 3
    # each sender sampled twice, 8 s apart, each sample timed on its own
    for k in $(seq 1 $#); do
        a=$(date +%s%N); b=$(txb "s$run$k"); c=$(date +%s%N)
        eval "t0_$k=$(((a + c) / 2)) b0_$k=${b:-0}"
    done
    sleep 8
    total=0
    for k in $(seq 1 $#); do
        a=$(date +%s%N); b=$(txb "s$run$k"); c=$(date +%s%N)
        eval "r=\$(( (${b:-0} - b0_$k) * 1000000000 / ((a + c) / 2 - t0_$k) ))"
        eval "rate_$k=$r"
        total=$((total + r))
        echo "# s$run$k: $r bytes/s"
    done
    echo "# together: $total bytes/s (capacity $CAP)"
}
within() {   # GOT WANTED PERCENT
    [ "$1" -ge $(($2 * (100 - $3) / 100)) ] && [ "$1" -le $(($2 * (100 + $3) / 100)) ]
}
points() {   # RATE TOTAL SEVENTHS: RATE/TOTAL within 5 points of SEVENTHS/7
    got=$(($1 * 1000 / $2)) want=$(($3 * 1000 / 7))
    echo "# $got permille, wanted $want"
    [ "$got" -ge $((want - 50)) ] && [ "$got" -le $((want + 50)) ]
}

shares w '"weight": 1' '"weight": 2' '"weight": 4'
ok $? "a receiver and three senders of weights 1, 2, 4 on internal-s"
points "$rate_1" "$total" 1 && points "$rate_2" "$total" 2 && points "$rate_3" "$total" 4
ok $? "weights 1:2:4 get 1/7, 2/7, 4/7 within 5 points"
within "$total" $CAP 5
ok $? "together they get the capacity within 5% ($total of $CAP bytes/s)"
expect_success srw 120
grep -a "(srw) net: udp" "$HVLOG" | sed 's/^/# receiver: /'

wait_for 60 all_gone sw1 sw2 sw3 srw
shares c '"rate": 100000' '"rate": 200000' '"rate": 300000'
ok $? "a receiver and three senders capped at 100000, 200000, 300000 bytes/s"
within "$rate_1" 100000 5 && within "$rate_2" 200000 5 && within "$rate_3" 300000 5
ok $? "each capped sender gets its cap within 5%"

wait_for 60 all_gone sc1 sc2 sc3 src
shares a '"weight": 1'
ok $? "a receiver and one sender of weight 1 on internal-s"
within "$rate_1" $CAP 5
ok $? "a sender alone gets the whole capacity within 5% ($rate_1 of $CAP bytes/s)"
exit $fail
