#!/bin/sh
# /init of the hot plug initramfs (tests/linux/linux-hotplug.sh; busybox sh
# as PID 1): loads Debian's xen-blkfront and xen-netfront, says
# PVCORE-HOTPLUG-READY, then follows what the toolstack does to it while
# it runs, one console line per step:
#   PVCORE-HOTPLUG: xvda sectors=N      its first disk (from its config)
#   PVCORE-HOTPLUG: xvdb sectors=N      a second disk appeared (block-attach)
#   PVCORE-HOTPLUG: xvdb io=ok|fail     4 MiB written, read back, compared
#   PVCORE-HOTPLUG: eth0 mac=M          a vif appeared (net-attach)
#   PVCORE-HOTPLUG: xvdb gone xvda=ok   the second disk went (block-detach),
#                                       the first is still there
#   PVCORE-HOTPLUG: eth0 gone           the vif went (net-detach)
# and powers off. A step that does not come within 120 s prints
# "PVCORE-HOTPLUG: timeout WHAT" and powers off.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t tmpfs tmpfs /tmp
for m in xen-blkfront xen-netfront; do insmod "/modules/$m.ko" || echo "PVCORE-HOTPLUG: insmod $m failed"; done

# until CONDITION... holds (checked every 0.2 s), at most 120 s
until_() {
    i=0
    while ! "$@"; do
        i=$((i + 1))
        if [ $i -gt 600 ]; then echo "PVCORE-HOTPLUG: timeout $*"; poweroff -f; fi
        sleep 0.2
    done
}
absent() { [ ! -e "$1" ]; }

until_ test -b /dev/xvda
echo "PVCORE-HOTPLUG: xvda sectors=$(cat /sys/block/xvda/size)"
echo "PVCORE-HOTPLUG-READY"
until_ test -b /dev/xvdb
echo "PVCORE-HOTPLUG: xvdb sectors=$(cat /sys/block/xvdb/size)"
dd if=/dev/urandom of=/tmp/pattern bs=4096 count=1024 2>/dev/null
if dd if=/tmp/pattern of=/dev/xvdb bs=4096 conv=fsync 2>/dev/null && echo 3 >/proc/sys/vm/drop_caches &&
   [ "$(dd if=/dev/xvdb bs=4096 count=1024 2>/dev/null | md5sum | cut -d' ' -f1)" = \
     "$(md5sum </tmp/pattern | cut -d' ' -f1)" ]; then io=ok; else io=fail; fi
echo "PVCORE-HOTPLUG: xvdb io=$io"
until_ test -e /sys/class/net/eth0
echo "PVCORE-HOTPLUG: eth0 mac=$(cat /sys/class/net/eth0/address)"
until_ absent /dev/xvdb
if [ -b /dev/xvda ] && dd if=/dev/xvda of=/dev/null bs=4096 count=16 2>/dev/null; then first=ok; else first=lost; fi
echo "PVCORE-HOTPLUG: xvdb gone xvda=$first"
until_ absent /sys/class/net/eth0
echo "PVCORE-HOTPLUG: eth0 gone"
poweroff -f
