#!/bin/sh
# Virtual network interfaces with Debian's Linux (TAP): netback in pvd and
# Debian's own xen-netfront module, on pvd's internal switch and on a Linux
# bridge.
#
# The test creates a network namespace and in it a bridge br-pv with
# 10.0.9.254/24, and runs pvd inside that namespace (pvd creates its TAP
# devices and finds its bridges in the namespace it runs in; the test only
# ever addresses hosts in the namespace it created). Then:
#   net-x  vif on br-missing: pvctl create fails naming the bridge, and
#          no domain was built
# then Linux domains (96 MiB, 1 vCPU, the initramfs of
# tests/linux/net-init.sh with xen-netfront.ko), first
#   net-e  br-pv           10.0.9.1, pings 10.0.9.254 (the namespace's
#                          address on the bridge), stays up 30 s
# alone, then two and two (more at once overload a busy TCG host: the
# machine stops answering control requests in time):
#   net-a  internal        10.0.0.1, pings 10.0.0.2, stays up 120 s
#   net-b  internal        10.0.0.2, pings 10.0.0.1 (its vif has "ips":
#                          ["10.0.0.2"]: IP anti-spoofing lets its ARP
#                          and IPv4 through)
#   net-c  internal-other  10.0.0.3, pings 10.0.0.1 (5 tries): another
#                          internal network, so it must fail
#   net-d  internal        10.0.0.4 with eth0's MAC changed to another one,
#                          pings 10.0.0.1 (5 tries): netback drops its
#                          spoofed frames, so it must fail
# Checked: eth0 of each has the MAC configured for its vif; a and b ping
# each other; c and d do not reach a; pvd logged d's spoofed source MAC
# naming domain and vif; e's TAP device vif<domid>.0 is a port of br-pv;
# e pings the namespace and the namespace pings e; the TAP device is gone
# once e powered off; pvd logged no other netback warning. Every domain
# powers off by itself (destroying a running Linux domain makes pvcore's
# machine stop answering today, vifs or not).
# Skipped only when a package cannot be downloaded (the reason is printed).
set -u
BUILD=${BUILD:-build}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1
. tests/linux/linux-env.sh
PVD=${PVD:-$BUILD/bin/pvd}
TIMEOUT=${LINUX_BOOT_TIMEOUT:-400}
. tests/linux/linux-harness.sh
linux_harness linux-net

if ! why=$(linux_fetch); then
    echo "ok - linux network on pvcore # SKIP $why"
    exit 0
fi
linux_fetch >/dev/null
NETFRONT="$PVCORE_CACHE/linux-$LINUX_VERSION/lib/modules/$LINUX_VERSION/kernel/drivers/net/xen-netfront.ko"
linux_initramfs "$T/initramfs.cpio.gz" tests/linux/net-init.sh "$NETFRONT=lib/modules/xen-netfront.ko" ||
    { echo "not ok - building the initramfs"; exit 1; }

# pvd in a network namespace of the test's, with the bridge br-pv in it.
unshare --net sh -c 'ip link set lo up && ip link add br-pv type bridge &&
    ip addr add 10.0.9.254/24 dev br-pv && ip link set br-pv up && exec "$@"' sh \
    "$PVD" --config /dev/null --state-dir "$T/state" --socket "$T/pvd.sock" --iso "$BUILD/pvcore.iso" \
    --cpus 2 --machine-mem 1024 --image-dir "$(dirname "$LINUX_VMLINUZ")" --image-dir "$T" \
    --image-dir "$ROOT/$BUILD/guests" >>"$T/pvd.log" 2>&1 &
pid=$!
in_ns() { nsenter --net="/proc/$pid/ns/net" "$@"; }
. tests/lib/wait.sh
pvd_up() { $PVCTL version >/dev/null 2>&1 || { kill -0 "$pid" 2>/dev/null || exit 1; false; }; }
wait_for 120 pvd_up
ok $? "pvd starts and boots the machine (2 CPUs, 1 GiB)"

# domain NAME NETWORK MAC CMDLINE-EXTRA [IPS (the vif's "ips", JSON strings)]
domain() {
    ips=""
    [ -n "${5:-}" ] && ips=", \"ips\": [$5]"
    cat >"$T/$1.json" <<JSON
{"name": "$1", "kernel": "$LINUX_VMLINUZ", "ramdisk": "$T/initramfs.cpio.gz",
 "cmdline": "console=hvc0 $4", "memory": 96, "vcpus": 1,
 "vifs": [{"bridge": "$2", "mac": "$3"$ips}],
 "on_poweroff": "destroy", "on_crash": "destroy", "on_reboot": "destroy"}
JSON
    $PVCTL create "$T/$1.json" >"$T/create-$1.out" 2>&1
    ok $? "pvctl create $1 (vif on $2, $3)"
}
cat >"$T/net-x.json" <<JSON
{"name": "net-x", "kernel": "$ROOT/$BUILD/guests/hello.elf", "memory": 32, "vifs": [{"bridge": "br-missing"}]}
JSON
out=$($PVCTL create "$T/net-x.json" 2>&1)
[ $? != 0 ] && echo "$out" | grep -q 'cannot start domain "net-x": vif 0: bridge "br-missing" does not exist'
ok $? "a vif on a missing bridge fails the start: $(echo "$out" | head -n 1)"
! tr -d '\r' <"$T/state/machine/hv.log" | grep -aq "(net-x) created"
ok $? "net-x was refused before anything was built"
$PVCTL undefine net-x >/dev/null 2>&1

result() { $PVCTL console "$1" --no-follow 2>/dev/null | tr -d '\r' | grep -a -m1 "^PVCORE-NET-RESULT:" | sed 's/?*$//'; }
has_result() { [ -n "$(result "$1")" ]; }
check() {   # check NAME MAC PING WHAT
    line=$(result "$1")
    echo "$line" | grep -q "mac=$2 "
    ok $? "$1: eth0 has the vif's MAC $2 (${line:-no result line; console: $KEEP/console-$1.log})"
    echo "$line" | grep -q "ping=$3 "
    ok $? "$1: $4 (${line:-no result line})"
}

# On the bridge, alone.
domain net-e br-pv 00:16:3e:0a:00:05 "pvnet.ip=10.0.9.1 pvnet.peer=10.0.9.254 pvnet.linger=30"
domid_of() { sed -n 's/.*(domid \([0-9]*\).*/\1/p' "$T/create-$1.out"; }
domid_e=$(domid_of net-e)
in_ns ip -o link show "vif$domid_e.0" 2>&1 | grep -q "master br-pv"
ok $? "net-e's TAP device vif${domid_e:-?}.0 is a port of br-pv: $(in_ns ip -o link show "vif$domid_e.0" 2>&1 | cut -c1-100)"
wait_for "$TIMEOUT" has_result net-e
$PVCTL console net-e --no-follow >"$T/console-net-e.log" 2>&1
check net-e 00:16:3e:0a:00:05 ok "on br-pv, pings the namespace's 10.0.9.254"
in_ns "$BUSYBOX" ping -c 3 -W 5 10.0.9.1 >"$T/ns-ping.out" 2>&1
ok $? "the namespace pings net-e: $(tail -n 1 "$T/ns-ping.out")"
# (they power off by themselves: destroying a running Linux domain stops
# pvcore's machine from answering today, with or without vifs)
is_gone() { ! $PVCTL list 2>/dev/null | awk '{ print $2 }' | grep -qx "$1"; }
wait_for "$TIMEOUT" is_gone net-e
tap_gone() { ! in_ns ip link show "vif$domid_e.0" >/dev/null 2>&1; }
wait_for 30 tap_gone
ok $? "vif${domid_e:-?}.0 is gone once net-e powered off and was destroyed"
sleep 20   # the machine frees net-e's memory: creating now can outlast pvd's 5 s control timeout

# On the internal switches: a and b, then c and d while a is still up.
domain net-a internal 00:16:3e:0a:00:01 "pvnet.ip=10.0.0.1 pvnet.peer=10.0.0.2 pvnet.linger=120"
domain net-b internal 00:16:3e:0a:00:02 "pvnet.ip=10.0.0.2 pvnet.peer=10.0.0.1 pvnet.linger=5" '"10.0.0.2"'
for d in net-a net-b; do wait_for "$TIMEOUT" has_result "$d"; done
domain net-c internal-other 00:16:3e:0a:00:03 "pvnet.ip=10.0.0.3 pvnet.peer=10.0.0.1 pvnet.tries=5"
domain net-d internal 00:16:3e:0a:00:04 \
    "pvnet.ip=10.0.0.4 pvnet.peer=10.0.0.1 pvnet.tries=5 pvnet.mac=00:16:3e:0a:00:01"
for d in net-c net-d; do wait_for "$TIMEOUT" has_result "$d"; done
for d in net-a net-b net-c net-d; do $PVCTL console "$d" --no-follow >"$T/console-$d.log" 2>&1; done
check net-a 00:16:3e:0a:00:01 ok "pings net-b on the internal switch"
check net-b 00:16:3e:0a:00:02 ok "pings net-a on the internal switch"
check net-c 00:16:3e:0a:00:03 fail "on internal-other, does not reach net-a"
line=$(result net-d)
echo "$line" | grep -q "ping=fail "
ok $? "net-d: with a spoofed source MAC, does not reach net-a (${line:-no result line})"
# (the last domid pvd started it as: a busy host can make pvd boot the
# machine again and start the domains anew)
domid_d=$(sed -n 's/.*domain "net-d" ([^)]*) started as domid \([0-9]*\).*/\1/p' "$T/pvd.log" | tail -n 1)
grep -q "netback: domain ${domid_d:-?} vif 0: tx frame dropped: source MAC 00:16:3e:0a:00:01 is not the vif's" \
    "$T/pvd.log"
ok $? "pvd logged net-d's spoofed frames, naming domain ${domid_d:-?} and vif 0"
others=$(grep "netback" "$T/pvd.log" | grep -E "warn" | grep -v "is not the vif's")
[ -z "$others" ]
ok $? "no other netback warning${others:+: $(echo "$others" | head -n 3)}"
for d in net-a net-b net-c net-d; do wait_for "$TIMEOUT" is_gone "$d"; done


kill -TERM "$pid"; wait "$pid"; rc=$?; pid=
ok $rc "pvd stops on SIGTERM"
exit $fail
