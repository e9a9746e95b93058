#!/bin/sh
# `make net-bench` (also in `make bench`): virtual network interfaces
# through netfront (the `net` test kernel) and pvd's netback against the
# host's own veth pair, side by side in one run. Not asserted: the figures
# depend on the host and its load.
#
# pvd runs in a network namespace the benchmark creates, with a bridge
# br-nb (10.0.9.254/24) in it; the native reference is a veth pair between
# two more namespaces it creates (10.0.8.1 - 10.0.8.2). Measured:
#   UDP guest->guest   sender and receiver kernels on pvd's internal
#                      switch, 1472-byte datagrams, the receiver's frame
#                      bytes/s  vs  the same over the veth pair (Python)
#   UDP guest->host    a kernel on br-nb sending to 10.0.9.254 (a Python
#                      receiver in pvd's namespace)  vs  the veth pair
#   ping guest<->guest, guest->host: ICMP echo round trips (50)  vs  ping
#                      over the veth pair
#   shares             three kernels of weights 1:2:4 flooding one internal
#                      network of capacity NET_BENCH_CAP bytes/s (default
#                      2000000): what each got by pvd's counters
#   TCP guest->guest, guest->host: Debian's Linux (xen-netfront) with
#                      busybox nc sending 32 MiB (bench/net-tcp-init.sh)
#                      to another Linux domain on the internal switch, and
#                      to a Python receiver on br-nb  vs  Python over the
#                      veth pair (skipped, with the reason, when Debian's
#                      packages cannot be downloaded)
set -u
BUILD=${BUILD:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1
PVD=${PVD:-$BUILD/bin/pvd}
CAP=${NET_BENCH_CAP:-2000000}
. tests/lib/pvd_harness.sh
. tests/linux/linux-env.sh
HVLOG="$T/state/machine/hv.log"
NSA=pvnb-a-$$ NSB=pvnb-b-$$
bench_cleanup() {
    ip netns del "$NSA" 2>/dev/null
    ip netns del "$NSB" 2>/dev/null
    cleanup
}
trap bench_cleanup EXIT

config() {   # NAME CMDLINE VIFJSON
    cat >"$T/$1.json" <<EOF2
{"name": "$1", "kernel": "$ROOT/$BUILD/guests/net.elf", "cmdline": "name=$1 $2",
 "memory": "32M", "vcpus": 1, "on_poweroff": "destroy", "on_crash": "destroy",
 "vifs": [$3]}
EOF2
}
create() { $PVCTL create "$T/$1.json" >/dev/null 2>&1 || { echo "net_bench: pvctl create $1 failed"; exit 1; }; }
line_of() { wait_for 300 sh -c "grep -aq '($1) Test result' '$HVLOG'"; grep -a "($1) net: $2" "$HVLOG" | tail -n 1; }
gone() { ! $PVCTL list 2>/dev/null | grep -qw -- "$1"; }
all_gone() { for d in "$@"; do gone "$d" || return 1; done; }
txb() {
    $PVCTL info "$1" --json 2>/dev/null | python3 -c "import json,sys
try: print(json.load(sys.stdin)['vifs'][0]['stats']['tx_bytes'])
except Exception: print(0)"
}

# Debian's Linux and an initramfs with busybox nc, for TCP
linux_ok=0
if why=$(linux_fetch); then
    linux_fetch >/dev/null
    NETFRONT="$PVCORE_CACHE/linux-$LINUX_VERSION/lib/modules/$LINUX_VERSION/kernel/drivers/net/xen-netfront.ko"
    linux_initramfs "$T/tcp.cpio.gz" bench/net-tcp-init.sh "$NETFRONT=lib/modules/xen-netfront.ko" && linux_ok=1
else
    echo "net_bench: no TCP figures: $why"
fi
IMAGE_DIRS="--image-dir $ROOT/$BUILD/guests --image-dir $T"
[ "$linux_ok" = 1 ] && IMAGE_DIRS="$IMAGE_DIRS --image-dir $(dirname "$LINUX_VMLINUZ")"

# pvd in its own network namespace, with br-nb
unshare --net sh -c 'ip link set lo up && ip link add br-nb type bridge &&
    ip addr add 10.0.9.254/24 dev br-nb && ip link set br-nb up && exec "$@"' sh \
    "$PVD" --config /dev/null --state-dir "$T/state" --socket "$T/pvd.sock" --cpus 2 \
    --net-capacity "internal-s=$CAP" $IMAGE_DIRS >>"$T/pvd.log" 2>&1 &
pid=$!
in_pvd_ns() { nsenter --net="/proc/$pid/ns/net" "$@"; }
wait_for 60 $PVCTL version || { echo "net_bench: pvd did not start"; exit 1; }

# guest -> guest, UDP and ping
config gr "mode=udprecv ip=10.0.0.100 expect=1 seconds=10" '{"bridge": "internal"}'
config gs "mode=udpsend ip=10.0.0.1 peer=10.0.0.100 seconds=16" '{"bridge": "internal"}'
create gr; create gs
gg_udp=$(line_of gr "udp total" | sed -n 's/.*total \([0-9]*\) bytes.*/\1/p')
wait_for 60 all_gone gr gs
config pa "ip=10.0.0.1 peer=10.0.0.2 count=50 linger=10" '{"bridge": "internal"}'
config pb "ip=10.0.0.2 peer=10.0.0.1 count=1 linger=20" '{"bridge": "internal"}'
create pb; create pa
gg_rtt=$(line_of pa "ping" | sed -n 's/.*rtt avg \([0-9]*\) us.*/\1/p')

# guest -> host, UDP and ping
in_pvd_ns python3 bench/net_bench.py recv 9000 10 >"$T/host_udp" &
rpid=$!
config hs "mode=udpsend ip=10.0.9.1 peer=10.0.9.254 seconds=16" '{"bridge": "br-nb"}'
create hs
wait "$rpid"
gh_udp=$(cat "$T/host_udp")
wait_for 60 all_gone hs pa pb
config hp "ip=10.0.9.1 peer=10.0.9.254 count=50 linger=0" '{"bridge": "br-nb"}'
create hp
gh_rtt=$(line_of hp "ping" | sed -n 's/.*rtt avg \([0-9]*\) us.*/\1/p')

# shares of internal-s, by pvd's counters over 8 s
config sr "mode=udprecv ip=10.0.2.100 expect=3 seconds=8 linger=4" '{"bridge": "internal-s"}'
create sr
for w in 1 2 4; do
    config "s$w" "mode=udpsend ip=10.0.2.$w peer=10.0.2.100 seconds=16" "{\"bridge\": \"internal-s\", \"weight\": $w}"
    create "s$w"
done
wait_for 60 sh -c "[ \$(grep -ac '(s[124]) net: vif 0 connected' '$HVLOG') -ge 3 ]"
sleep 3
a1=$(txb s1) a2=$(txb s2) a4=$(txb s4); t0=$(date +%s%N)
sleep 8
b1=$(txb s1) b2=$(txb s2) b4=$(txb s4); t1=$(date +%s%N)

# TCP with Debian's Linux: guest -> guest, then guest -> host
linux() {   # NAME NETWORK CMDLINE
    cat >"$T/$1.json" <<JSON
{"name": "$1", "kernel": "$LINUX_VMLINUZ", "ramdisk": "$T/tcp.cpio.gz",
 "cmdline": "console=hvc0 $3", "memory": 96, "vcpus": 1, "vifs": [{"bridge": "$2"}],
 "on_poweroff": "destroy", "on_crash": "destroy", "on_reboot": "destroy"}
JSON
    create "$1"
}
tcp_line() { $PVCTL console "$1" --no-follow 2>/dev/null | tr -d '\r' | grep -a -m1 "^PVCORE-TCP: bytes="; }
has_tcp() { [ -n "$(tcp_line "$1")" ]; }
gg_tcp= gh_tcp=
if [ "$linux_ok" = 1 ]; then
    wait_for 60 all_gone sr s1 s2 s4
    linux ts "internal" "pvtcp.role=server pvtcp.ip=10.0.0.2"
    linux tc "internal" "pvtcp.role=client pvtcp.ip=10.0.0.1 pvtcp.peer=10.0.0.2 pvtcp.mb=32"
    wait_for 600 has_tcp tc
    l=$(tcp_line tc)
    b=$(echo "$l" | sed -n 's/.*bytes=\([0-9]*\).*/\1/p') c=$(echo "$l" | sed -n 's/.*centiseconds=\([0-9]*\).*/\1/p')
    [ -n "$b" ] && [ "${c:-0}" -gt 0 ] && gg_tcp=$((b * 100 / c))
    wait_for 300 all_gone ts tc
    in_pvd_ns python3 bench/net_bench.py tcprecv 5001 >"$T/host_tcp" &
    rpid=$!
    linux th "br-nb" "pvtcp.role=client pvtcp.ip=10.0.9.1 pvtcp.peer=10.0.9.254 pvtcp.mb=32"
    wait_for 600 has_tcp th
    wait "$rpid"
    gh_tcp=$(cat "$T/host_tcp")
    wait_for 300 all_gone th
fi

# the native reference: a veth pair between two namespaces of ours
ip netns add "$NSA" && ip netns add "$NSB" &&
ip link add nb-a netns "$NSA" type veth peer name nb-b netns "$NSB" &&
ip -n "$NSA" addr add 10.0.8.1/24 dev nb-a && ip -n "$NSB" addr add 10.0.8.2/24 dev nb-b &&
ip -n "$NSA" link set nb-a up && ip -n "$NSB" link set nb-b up &&
ip -n "$NSA" link set lo up && ip -n "$NSB" link set lo up || { echo "net_bench: veth pair"; exit 1; }
ip netns exec "$NSB" python3 bench/net_bench.py recv 9000 8 >"$T/veth_udp" &
rpid=$!
sleep 1
ip netns exec "$NSA" python3 bench/net_bench.py send 10.0.8.2 9000 10 &
spid=$!
wait "$rpid"; wait "$spid"
veth_udp=$(cat "$T/veth_udp")
veth_rtt=$(ip netns exec "$NSA" python3 bench/net_bench.py ping 10.0.8.2 50)
veth_tcp=
if [ "$linux_ok" = 1 ]; then
    ip netns exec "$NSB" python3 bench/net_bench.py tcprecv 5001 >"$T/veth_tcp" &
    rpid=$!
    sleep 1
    ip netns exec "$NSA" python3 bench/net_bench.py tcpsend 10.0.8.2 5001 256
    wait "$rpid"
    veth_tcp=$(cat "$T/veth_tcp")
fi

python3 - "$gg_udp" "$gh_udp" "$veth_udp" "$gg_rtt" "$gh_rtt" "$veth_rtt" \
    "$((b1 - a1))" "$((b2 - a2))" "$((b4 - a4))" "$((t1 - t0))" "$CAP" "$gg_tcp" "$gh_tcp" "$veth_tcp" <<'PY'
import sys
v = [int(x) if x not in ("", "-1") else None for x in sys.argv[1:]]
gg, gh, veth, ggr, ghr, vethr, s1, s2, s4, ns, cap, ggt, ght, vetht = v
def ratio(a, b):
    return "%.3g" % (a / b) if a and b else "-"
def mb(x):
    return "%.2f MB/s" % (x / 1e6) if x else "-"
def us(x):
    return "%d us" % x if x is not None else "-"
print("%-22s %14s %14s %10s" % ("", "pvcore", "native veth", "ratio"))
print("%-22s %14s %14s %10s" % ("UDP guest->guest", mb(gg), mb(veth), ratio(gg, veth)))
print("%-22s %14s %14s %10s" % ("UDP guest->host", mb(gh), mb(veth), ratio(gh, veth)))
print("%-22s %14s %14s %10s" % ("TCP guest->guest", mb(ggt), mb(vetht), ratio(ggt, vetht)))
print("%-22s %14s %14s %10s" % ("TCP guest->host", mb(ght), mb(vetht), ratio(ght, vetht)))
print("%-22s %14s %14s %10s" % ("ping guest<->guest", us(ggr), us(vethr), ratio(ggr, vethr)))
print("%-22s %14s %14s %10s" % ("ping guest->host", us(ghr), us(vethr), ratio(ghr, vethr)))
tot = s1 + s2 + s4
if tot:
    print("shares of internal-s (capacity %d bytes/s), weights 1:2:4 over %.1f s:" % (cap, ns / 1e9))
    for w, s in ((1, s1), (2, s2), (4, s4)):
        print("  weight %d: %8d bytes/s, %5.1f%% (wanted %4.1f%%)" % (w, s * 1e9 / ns, 100.0 * s / tot, 100.0 * w / 7))
    print("  together: %d bytes/s = %.3f of the capacity" % (tot * 1e9 / ns, tot * 1e9 / ns / cap))
PY
