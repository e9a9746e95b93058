#!/bin/sh
# /blk.sh of the `make test-linux` initramfs: the virtual block device
# case, run by /init (tests/linux/init.sh) when the kernel command line has
# pvtest=blk-write, blk-read, blk-ro or blk-check. Loads xen-blkfront and
# ext4 (as ext2) from /modules, waits for /dev/xvda, then:
#   blk-write  mke2fs on xvda, writes files and their checksums, unmounts
#   blk-read   (after the domain was started again) the files check out
#   blk-ro     xvda is read-only: the files check out, a write to the
#              device fails, and the data is unchanged afterwards
#   blk-loop   mke2fs, then for pvsecs= seconds (default 60) files of
#              128 KiB written one after the other, each synced and its
#              checksum kept (200 names, rewritten round and round;
#              "PVCORE-LINUX-BLK-LOOP: n=N" every 10 files), unmounted,
#              mounted again and every file checked
#              (tests/linux/linux-blk-kill.sh kills pvd meanwhile)
#   blk-dd     dd's figures: 32 MiB written and read in 16 MiB blocks (the
#              kernel splits each into requests that are in flight
#              together) and in 1 MiB blocks, 4 MiB in 4 KiB blocks,
#              O_DIRECT ("PVCORE-LINUX-DD: WHAT
#              bytes=B ns=N" lines; bench/blk_bench.sh)
#   blk-check  (the domain started again with xvda read-only and xvdb, a
#              64 MiB disk with a 16 MiB quota) blk-ro on xvda, then on
#              xvdb: mke2fs and a small file; writing 32 MiB fails with an
#              I/O error; "PVCORE-LINUX-BLK-FULL", then a 2 MiB write is
#              retried each second ("PVCORE-LINUX-BLK-RETRY N" after each
#              failure) until it goes in (the host raises the quota to
#              24 MiB meanwhile); rm and fstrim give the space back and
#              20 MiB are written (they fit only because fstrim discarded
#              what was freed); the small file checks out
# xen-blkfront is loaded with max_ring_page_order=N from pvring=N on the
# kernel command line (default 0; a ring of 2^N pages when the backend
# offers it: Linux then keeps 33 pages per slot with persistent grants,
# 17 MiB for N=2); the result line says what it negotiated.
# Prints exactly one line "PVCORE-LINUX-BLK: ok MODE ..." ("fail" with
# why=... when a check failed) and powers off.
mode=$1
why=""
now_ns() { awk '{ printf "%.0f", $1 * 1000000000 }' /proc/uptime; }   # 10 ms steps
ring=$(sed -n 's/.*pvring=\([0-9]*\).*/\1/p' /proc/cmdline)
insmod /modules/xen-blkfront.ko max_ring_page_order=${ring:-0} 2>>/tmp/insmod.log || why="$why insmod-xen-blkfront"
for m in crc16 mbcache jbd2 crc32c_generic ext4; do
    insmod "/modules/$m.ko" 2>>/tmp/insmod.log || why="$why insmod-$m"
done
case "$why" in *insmod*) cat /tmp/insmod.log; dmesg | tail -n 5 ;; esac
wait_dev() {
    i=0
    while [ ! -b "/dev/$1" ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done
    [ -b "/dev/$1" ] || why="$why no-$1"
}
wait_dev xvda
size=$(cat /sys/block/xvda/size 2>/dev/null)
ro=$(cat /sys/block/xvda/ro 2>/dev/null)
mkdir -p /mnt

write_files() {
    mke2fs -q /dev/xvda >/tmp/mkfs.log 2>&1 || why="$why mke2fs"
    mount -t ext2 /dev/xvda /mnt || why="$why mount"
    seq 1 20000 >/mnt/numbers
    dd if=/dev/urandom of=/mnt/random bs=4096 count=512 2>/dev/null || why="$why write"
    mkdir -p /mnt/dir && echo "written before the restart" >/mnt/dir/note
    ( cd /mnt && md5sum numbers random dir/note >sums ) || why="$why md5sum"
    umount /mnt || why="$why umount"
    sync
}

# check_files [ro]: the files of write_files check out (a read-only disk:
# a write to the device fails and changes nothing)
check_files() {
    if [ "${1:-}" = ro ]; then opts="-o ro"; [ "$ro" = 1 ] || why="$why not-ro:$ro"; else opts=""; fi
    mount -t ext2 $opts /dev/xvda /mnt || why="$why mount"
    ( cd /mnt && md5sum -c sums >/tmp/check.log 2>&1 ) || why="$why checksums"
    [ "$(seq 1 20000 | md5sum | cut -d' ' -f1)" = "$(md5sum </mnt/numbers | cut -d' ' -f1)" ] || why="$why numbers"
    umount /mnt || why="$why umount"
    if [ "${1:-}" = ro ]; then
        before=$(dd if=/dev/xvda bs=4096 count=4 2>/dev/null | md5sum | cut -d' ' -f1)
        if dd if=/dev/zero of=/dev/xvda bs=4096 count=4 conv=fsync 2>/tmp/dd.log; then
            why="$why write-accepted"
        fi
        echo 3 >/proc/sys/vm/drop_caches
        after=$(dd if=/dev/xvda bs=4096 count=4 2>/dev/null | md5sum | cut -d' ' -f1)
        [ "$before" = "$after" ] || why="$why data-changed"
    fi
}

# loop_files: blk-loop above (pvd is killed meanwhile)
loop_files() {
    secs=$(sed -n 's/.*pvsecs=\([0-9]*\).*/\1/p' /proc/cmdline)
    end=$(($(date +%s) + ${secs:-60}))
    mke2fs -q /dev/xvda >/tmp/mkfs.log 2>&1 || why="$why mke2fs"
    mount -t ext2 /dev/xvda /mnt || why="$why mount"
    n=0
    while [ "$(date +%s)" -lt "$end" ] && [ -z "$why" ]; do
        f=f$((n % 200))
        dd if=/dev/urandom of=/mnt/$f bs=16384 count=8 conv=fsync 2>/dev/null || why="$why write-$n"
        echo "$(md5sum </mnt/$f | cut -d' ' -f1)  $f" >/tmp/sum.$f
        n=$((n + 1))
        [ $((n % 10)) = 0 ] && echo "PVCORE-LINUX-BLK-LOOP: n=$n"
    done
    cat /tmp/sum.* >/tmp/sums
    umount /mnt || why="$why umount"
    echo 3 >/proc/sys/vm/drop_caches
    mount -t ext2 /dev/xvda /mnt || why="$why mount-again"
    ( cd /mnt && md5sum -c /tmp/sums >/tmp/check.log 2>&1 ) || why="$why checksums"
    umount /mnt || why="$why umount-again"
    extra="files=$n"
}

# dd_figures: blk-dd above
dd_figures() {
    for w in 16777216:2:seq 1048576:32:seq 4096:1024:seq; do
        bs=${w%%:*} rest=${w#*:} count=${rest%%:*}
        t0=$(now_ns)
        dd if=/dev/zero of=/dev/xvda bs=$bs count=$count oflag=direct 2>/dev/null || why="$why dd-write-$bs"
        t1=$(now_ns)
        dd if=/dev/xvda of=/dev/null bs=$bs count=$count iflag=direct 2>/dev/null || why="$why dd-read-$bs"
        t2=$(now_ns)
        echo "PVCORE-LINUX-DD: ${rest#*:}-write bytes=$bs count=$count ns=$((t1 - t0))"
        echo "PVCORE-LINUX-DD: ${rest#*:}-read bytes=$bs count=$count ns=$((t2 - t1))"
    done
}

# quota DEV: the quota sequence above on DEV (16 MiB quota, raised to 24)
quota() {
    mkdir -p /q
    mke2fs -q "/dev/$1" >/tmp/mkfs-q.log 2>&1 || why="$why q-mke2fs"
    mount -t ext2 "/dev/$1" /q || why="$why q-mount"
    echo "written before the quota filled" >/q/note
    ( cd /q && md5sum note >sums ) || why="$why q-md5sum"
    sync
    if dd if=/dev/zero of=/q/big bs=1M count=32 conv=fsync 2>/tmp/dd-q.log; then
        why="$why over-quota-write-accepted"
    fi
    grep -q "I/O error" /tmp/dd-q.log || dmesg | grep -q "I/O error" || why="$why no-io-error"
    echo "PVCORE-LINUX-BLK-FULL"
    n=0
    until dd if=/dev/zero of=/q/more bs=1M count=2 conv=fsync 2>/dev/null; do
        n=$((n + 1))
        echo "PVCORE-LINUX-BLK-RETRY $n"
        [ $n -ge 120 ] && { why="$why quota-not-raised"; break; }
        rm -f /q/more
        sleep 1
    done
    echo "PVCORE-LINUX-BLK-RAISED after $n failed tries"
    [ $n -ge 1 ] || why="$why not-refused-before-the-raise"
    rm -f /q/big /q/more
    fstrim -v /q >/tmp/fstrim.log 2>&1 || why="$why fstrim"
    cat /tmp/fstrim.log
    dd if=/dev/zero of=/q/after bs=1M count=20 conv=fsync 2>/tmp/dd2.log || why="$why write-after-fstrim"
    ( cd /q && md5sum -c sums >/tmp/check-q.log 2>&1 ) || why="$why q-checksums"
    umount /q || why="$why q-umount"
}

case "$mode" in
blk-write) write_files ;;
blk-read)  check_files ;;
blk-ro)    check_files ro ;;
blk-check) check_files ro; wait_dev xvdb; quota xvdb ;;
blk-loop)  loop_files ;;
blk-dd)    dd_figures ;;
*)  why="$why mode:$mode" ;;
esac
# what xen-blkfront negotiated (its line in dmesg, its ring from sysfs)
feat=$(dmesg | sed -n 's/.*persistent grants: \([a-z]*\); indirect descriptors: \([a-z]*\);.*/persistent=\1 indirect=\2/p' | tail -n 1)
order=$(cat /sys/module/xen_blkfront/parameters/max_ring_page_order 2>/dev/null)
if [ -z "$why" ]; then verdict=ok; else verdict="fail why=$(echo $why | tr ' ' ',')"; fi
echo "PVCORE-LINUX-BLK: $verdict $mode sectors=$size ro=$ro ${extra:-} max_ring_page_order=$order $feat"
sync
poweroff -f
