#!/bin/sh
# Virtual network interfaces with Debian's Linux (TAP): netback in pvd and
# Debian's own xen-netfront module, on pvd's internal switch.
#
# Four Linux domains (128 MiB, 1 vCPU, the initramfs of
# tests/linux/net-init.sh with xen-netfront.ko) start together:
#   net-a  internal        10.0.0.1, pings 10.0.0.2, stays up 150 s
#   net-b  internal        10.0.0.2, pings 10.0.0.1
#   net-c  internal-other  10.0.0.3, pings 10.0.0.1 (5 tries): another
#                          internal network, so it must fail
#   net-d  internal        10.0.0.4 with eth0's MAC changed to another one,
#                          pings 10.0.0.1 (5 tries): netback drops its
#                          spoofed frames, so it must fail
# Checked: eth0 of each has the MAC configured for its vif; a and b ping
# each other; c and d do not reach a; pvd logged d's spoofed source MAC
# naming domain and vif; pvd logged no other netback warning.
# Skipped only when a package cannot be downloaded (the reason is printed).
set -u
BUILD=${BUILD:-build}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1
. tests/linux/linux-env.sh
PVD=${PVD:-$BUILD/bin/pvd}
TIMEOUT=${LINUX_BOOT_TIMEOUT:-400}
KEEP="$BUILD/test-logs/linux-net"
T=$(mktemp -d /tmp/pvcore-linux-net.XXXXXX)
PVCTL="$BUILD/bin/pvctl --socket $T/pvd.sock"
pid=
fail=0

ok() {   # ok STATUS WHAT
    if [ "$1" = 0 ]; then echo "ok - $2"; else echo "not ok - $2"; fail=1; fi
}

cleanup() {
    [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    "$PVD" --config /dev/null --state-dir "$T/state" --stop-machine >/dev/null 2>&1
    mkdir -p "$KEEP"
    cp "$T/state/machine/hv.log" "$KEEP/hv.log" 2>/dev/null
    cp "$T/pvd.log" "$KEEP/pvd.log" 2>/dev/null
    cp "$T"/console-*.log "$KEEP/" 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

if ! why=$(linux_fetch); then
    echo "ok - linux network on pvcore # SKIP $why"
    exit 0
fi
linux_fetch >/dev/null
NETFRONT="$PVCORE_CACHE/linux-$LINUX_VERSION/lib/modules/$LINUX_VERSION/kernel/drivers/net/xen-netfront.ko"
linux_initramfs "$T/initramfs.cpio.gz" tests/linux/net-init.sh "$NETFRONT=lib/modules/xen-netfront.ko" ||
    { echo "not ok - building the initramfs"; exit 1; }

"$PVD" --config /dev/null --state-dir "$T/state" --socket "$T/pvd.sock" --iso "$BUILD/pvcore.iso" --cpus 2 --machine-mem 1024 \
    >>"$T/pvd.log" 2>&1 &
pid=$!
. tests/lib/wait.sh
pvd_up() { $PVCTL version >/dev/null 2>&1 || { kill -0 "$pid" 2>/dev/null || exit 1; false; }; }
wait_for 120 pvd_up
ok $? "pvd starts and boots the machine (2 CPUs, 1 GiB)"

# domain NAME NETWORK MAC CMDLINE-EXTRA
domain() {
    cat >"$T/$1.json" <<JSON
{"name": "$1", "kernel": "$LINUX_VMLINUZ", "ramdisk": "$T/initramfs.cpio.gz",
 "cmdline": "console=hvc0 $4", "memory": 128, "vcpus": 1,
 "vifs": [{"bridge": "$2", "mac": "$3"}],
 "on_poweroff": "destroy", "on_crash": "destroy", "on_reboot": "destroy"}
JSON
    $PVCTL create "$T/$1.json" >"$T/create-$1.out" 2>&1
    ok $? "pvctl create $1 (vif on $2, $3)"
}
domain net-a internal 00:16:3e:0a:00:01 "pvnet.ip=10.0.0.1 pvnet.peer=10.0.0.2 pvnet.linger=150"
domain net-b internal 00:16:3e:0a:00:02 "pvnet.ip=10.0.0.2 pvnet.peer=10.0.0.1 pvnet.linger=20"
domain net-c internal-other 00:16:3e:0a:00:03 "pvnet.ip=10.0.0.3 pvnet.peer=10.0.0.1 pvnet.tries=5"
domain net-d internal 00:16:3e:0a:00:04 \
    "pvnet.ip=10.0.0.4 pvnet.peer=10.0.0.1 pvnet.tries=5 pvnet.mac=00:16:3e:0a:00:01"

result() { $PVCTL console "$1" --no-follow 2>/dev/null | tr -d '\r' | grep -a -m1 "^PVCORE-NET-RESULT:" | sed 's/?*$//'; }
has_result() { [ -n "$(result "$1")" ]; }
for d in net-a net-b net-c net-d; do
    wait_for "$TIMEOUT" has_result "$d"
    $PVCTL console "$d" --no-follow >"$T/console-$d.log" 2>&1
done
check() {   # check NAME MAC PING WHAT
    line=$(result "$1")
    echo "$line" | grep -q "mac=$2 "
    ok $? "$1: eth0 has the vif's MAC $2 (${line:-no result line; console: $KEEP/console-$1.log})"
    echo "$line" | grep -q "ping=$3 "
    ok $? "$1: $4 (${line:-no result line})"
}
check net-a 00:16:3e:0a:00:01 ok "pings net-b on the internal switch"
check net-b 00:16:3e:0a:00:02 ok "pings net-a on the internal switch"
check net-c 00:16:3e:0a:00:03 fail "on internal-other, does not reach net-a"
line=$(result net-d)
echo "$line" | grep -q "ping=fail "
ok $? "net-d: with a spoofed source MAC, does not reach net-a (${line:-no result line})"
domid_d=$($PVCTL list 2>/dev/null | awk '$2 == "net-d" { print $1 }')
grep -q "netback: domain ${domid_d:-?} vif 0: tx frame dropped: source MAC 00:16:3e:0a:00:01 is not the vif's" \
    "$T/pvd.log"
ok $? "pvd logged net-d's spoofed frames, naming domain ${domid_d:-?} and vif 0"
others=$(grep "netback" "$T/pvd.log" | grep -E "warn" | grep -v "is not the vif's")
[ -z "$others" ]
ok $? "no other netback warning${others:+: $(echo "$others" | head -n 3)}"
for d in net-a net-b net-c net-d; do $PVCTL destroy "$d" >/dev/null 2>&1; done

kill -TERM "$pid"; wait "$pid"; rc=$?; pid=
ok $rc "pvd stops on SIGTERM"
exit $fail
