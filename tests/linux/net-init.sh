#!/bin/sh
# /init of the `make test-linux` network initramfs (busybox sh as PID 1).
#
# Loads Debian's xen-netfront, waits for eth0 and prints its MAC; then, as
# the kernel command line says (pvnet.ip=A.B.C.D pvnet.peer=E.F.G.H
# pvnet.linger=S pvnet.tries=N pvnet.mac=M), sets eth0's MAC to M (to
# check that netback drops spoofed frames), puts the address on eth0 and
# pings the peer until it answers (N tries of 2 s, default 45), prints
#   PVCORE-NET-RESULT: mac=M ping=ok|fail rx=N tx=N
# stays up pvnet.linger seconds (answering the peer's pings) and powers off.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null

arg() { tr ' ' '\n' </proc/cmdline | sed -n "s/^pvnet\.$1=//p" | tail -n 1; }
ip_addr=$(arg ip); peer=$(arg peer); linger=$(arg linger); tries=$(arg tries); spoof=$(arg mac)

insmod /lib/modules/xen-netfront.ko
i=0
while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 100 ]; do sleep 0.2; i=$((i + 1)); done
mac=$(cat /sys/class/net/eth0/address 2>/dev/null)
echo "PVCORE-NET-MAC: ${mac:-none}"

ping_result=none
if [ -n "$mac" ] && [ -n "$ip_addr" ]; then
    [ -n "$spoof" ] && ip link set eth0 address "$spoof"
    ip addr add "$ip_addr/24" dev eth0
    ip link set eth0 up
    if [ -n "$peer" ]; then
        ping_result=fail
        i=0
        while [ $i -lt "${tries:-45}" ]; do
            if ping -c 1 -W 2 "$peer" >/tmp/ping.out 2>&1; then ping_result=ok; break; fi
            i=$((i + 1))
        done
        [ "$ping_result" = ok ] && ping -c 5 -i 0.2 "$peer" | tail -n 2
    fi
fi
rx=$(cat /sys/class/net/eth0/statistics/rx_packets 2>/dev/null)
tx=$(cat /sys/class/net/eth0/statistics/tx_packets 2>/dev/null)
echo "PVCORE-NET-RESULT: mac=${mac:-none} ping=$ping_result rx=${rx:-0} tx=${tx:-0}"
sleep "${linger:-0}"
poweroff -f
