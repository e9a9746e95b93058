#!/bin/sh
# /init of the `make test-linux` initramfs (run by busybox sh as PID 1).
#
# Forks 100 processes that each record their own PID, runs a pipeline,
# reads /proc/cpuinfo and /proc/meminfo, prints exactly one line
#   PVCORE-LINUX-RESULT: ok procs=100 cpus=N memtotal=K memfree=K pipeline=ok
#                        boot=S work=S
# ("fail" instead of "ok" when a check failed, with why=...; boot is the
# uptime when /init started, work the seconds the checks took) and powers
# off.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t tmpfs tmpfs /tmp

start=$(cut -d' ' -f1 /proc/uptime)
why=""
i=0
while [ $i -lt 100 ]; do
    sh -c 'echo $$ >/tmp/pid.'$i &
    i=$((i + 1))
done
wait
procs=$(cat /tmp/pid.* 2>/dev/null | sort -u | wc -l)
[ "$procs" -eq 100 ] || why="$why forks"

sum=$(seq 1 1000 | awk '{ s += $1 } END { print s }' | tr -d ' ')
if [ "$sum" = 500500 ]; then pipeline=ok; else pipeline="bad:$sum"; why="$why pipeline"; fi

cpus=$(grep -c '^processor' /proc/cpuinfo)
grep -q '^flags' /proc/cpuinfo || why="$why cpuinfo"
[ "$cpus" -ge 1 ] || why="$why cpus"
memtotal=$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo)
memfree=$(awk '/^MemFree:/ { print $2 }' /proc/meminfo)
[ "${memtotal:-0}" -gt 0 ] && [ "${memfree:-0}" -gt 0 ] || why="$why meminfo"

if [ -z "$why" ]; then verdict=ok; else verdict="fail why=$(echo $why | tr ' ' ',')"; fi
work=$(awk -v s="$start" '{ printf "%.1f", $1 - s }' /proc/uptime)
echo "PVCORE-LINUX-RESULT: $verdict procs=$procs cpus=$cpus memtotal=${memtotal}kB memfree=${memfree}kB pipeline=$pipeline boot=${start}s work=${work}s"
sync
# pvcore_wait on the command line: stay up for the toolstack. The kernel's
# orderly power-off (xenstore control/shutdown = poweroff) runs
# /sbin/poweroff, which says so and powers off; meanwhile MemTotal every
# second shows the balloon following memory/target.
if grep -q pvcore_wait /proc/cmdline; then
    mkdir -p /sbin
    # (run by the kernel with no terminal: it writes to the console itself)
    printf '#!/bin/sh\necho PVCORE-LINUX-POWEROFF >/dev/console\nsync\nexec /bin/busybox poweroff -f\n' >/sbin/poweroff
    chmod +x /sbin/poweroff
    # console input: each line typed on hvc0 comes back tagged
    while read -r line; do echo "PVCORE-INPUT: $line"; done </dev/console >/dev/console 2>&1 &
    echo "PVCORE-LINUX-READY"
    while :; do
        echo "PVCORE-MEM: $(awk '/^MemTotal:/ { print $2 }' /proc/meminfo)"
        sleep 1
    done
fi
poweroff -f
