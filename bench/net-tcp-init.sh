#!/bin/sh
# /init of `make net-bench`'s TCP initramfs (busybox sh as PID 1, Debian's
# xen-netfront): eth0 gets pvtcp.ip=A.B.C.D/24; then, as pvtcp.role says,
#   server  receives one TCP connection on port 5001 (busybox nc -l) and
#           throws the bytes away
#   client  waits until pvtcp.peer answers ping, sends pvtcp.mb MiB of
#           zeros to it on port 5001 (busybox nc) and prints
#             PVCORE-TCP: bytes=N centiseconds=T
#           (T from /proc/uptime around the transfer)
# and powers off (a running Linux domain is never destroyed: see
# tests/linux/linux-net.sh).
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null

arg() { tr ' ' '\n' </proc/cmdline | sed -n "s/^pvtcp\.$1=//p" | tail -n 1; }
insmod /lib/modules/xen-netfront.ko
i=0
while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 100 ]; do sleep 0.2; i=$((i + 1)); done
ip addr add "$(arg ip)/24" dev eth0
ip link set eth0 up
ip link set lo up
cs() { cut -d' ' -f1 /proc/uptime | tr -d '.'; }
case "$(arg role)" in
server)
    echo "PVCORE-TCP: listening"
    nc -l -p 5001 >/dev/null
    echo "PVCORE-TCP: served"
    ;;
client)
    peer=$(arg peer) mb=$(arg mb)
    i=0
    while ! ping -c 1 -W 2 "$peer" >/dev/null 2>&1 && [ $i -lt 60 ]; do i=$((i + 1)); done
    sleep 2   # the server's nc is listening once it answers ping and then some
    t0=$(cs)
    dd if=/dev/zero bs=65536 count=$((${mb:-32} * 16)) 2>/dev/null | nc -w 5 "$peer" 5001
    t1=$(cs)
    echo "PVCORE-TCP: bytes=$((${mb:-32} * 1048576)) centiseconds=$((t1 - t0))"
    ;;
esac
sleep 5   # time for the benchmark to read the console
poweroff -f
