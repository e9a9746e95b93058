#!/bin/sh
# `make test-linux-blk-kill`: pvd killed (SIGKILL) while Debian's Linux
# writes files on its virtual disk (TAP).
#
# pvd boots the machine (tests/lib/pvd_harness.sh); Debian's Linux (the
# initramfs of tests/linux/linux-env.sh, /blk.sh in mode blk-loop, 192 MiB,
# a 64 MiB pool disk) makes an ext2 filesystem on xvda and writes 128 KiB
# files, each synced, for LINUX_KILL_SECS (default 60) seconds. Once it has
# written 20 files pvd is killed with SIGKILL and started again on the
# same state dir; the guest goes on writing. The checks: the new pvd took
# the connected ring over ("resumed"); Linux negotiated a ring of 4 pages,
# persistent grants and indirect descriptors; the guest's own check after
# the loop (unmount, drop caches, mount, every file's checksum) passes and
# it wrote more files after the restart; the domain powered off; e2fsck
# -fn on the image, after the guest is gone, finds the filesystem clean.
# Skipped only when Debian's kernel or busybox cannot be had.
set -u
BUILD=${BUILD:-build}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1
PVD=${PVD:-$BUILD/bin/pvd}
SECS=${LINUX_KILL_SECS:-60}
. tests/linux/linux-env.sh
. tests/lib/pvd_harness.sh
HVLOG="$T/state/machine/hv.log"
harness_on_failure() {
    echo "# console:"; $PVCTL console linux-kill --no-follow 2>/dev/null | tr -d '\r' | tail -n 20 | sed 's/^/# /'
}

echo "1..8"
if ! why=$(linux_fetch); then
    echo "ok 1 - linux-blk-kill # SKIP $why"; exit 0
fi
linux_fetch >/dev/null
linux_initramfs "$T/initramfs.cpio.gz" || { echo "not ok 1 - building the initramfs"; exit 1; }
E2FSCK=$(command -v e2fsck || echo /usr/sbin/e2fsck)
pvd_start() {
    start_pvd --cpus 2 --machine-mem 512 --image-dir "$(dirname "$LINUX_VMLINUZ")" --image-dir "$T"
}
pvd_start; ok $? "pvd starts and boots the machine"

cat >"$T/linux-kill.json" <<JSON
{"name": "linux-kill", "kernel": "$LINUX_VMLINUZ", "ramdisk": "$T/initramfs.cpio.gz",
 "cmdline": "console=hvc0 loglevel=4 pvtest=blk-loop pvsecs=$SECS pvring=2", "memory": 192, "vcpus": 1,
 "on_poweroff": "destroy", "on_crash": "destroy", "on_reboot": "destroy",
 "disks": [{"name": "root", "size": 64}]}
JSON
$PVCTL create "$T/linux-kill.json" >"$T/out" 2>&1
ok $? "pvctl create linux-kill ($(cat "$T/out"))"
uuid=$($PVCTL info linux-kill --json | python3 -c "import json,sys; print(json.load(sys.stdin)['uuid'])")
img="$T/state/pool/$uuid-root.img"
files() {   # the guest's last progress line: files written so far
    $PVCTL console linux-kill --no-follow 2>/dev/null | tr -d '\r' |
        sed -n 's/^PVCORE-LINUX-BLK-LOOP: n=\([0-9]*\).*/\1/p' | tail -n 1
}
at_least() { [ "$(files)" -ge "$1" ] 2>/dev/null; }
wait_for 300 at_least 20
before=$(files)
kill -9 "$pid"; wait "$pid" 2>/dev/null
sleep 1
pvd_start; ok $? "pvd killed (SIGKILL) after ${before:-no} files and started again"
gone() { ! $PVCTL list 2>/dev/null | grep -qw linux-kill; }
wait_for $((SECS + 300)) gone
$PVCTL console linux-kill --no-follow >"$T/console.log" 2>&1
line=$(tr -d '\r' <"$T/console.log" | grep -a '^PVCORE-LINUX-BLK:' | tail -n 1)
grep -q "blkback: domain [0-9]* disk root resumed: ring (4 pages) at response [0-9]*, [0-9]* request(s) to serve" "$T/pvd.log"
ok $? "the new pvd took the ring over ($(grep -o 'disk root resumed.*' "$T/pvd.log"))"
grep -q "blkback: domain [0-9]* disk root (device 51712) connected: ring ref [0-9]* (4 pages, 128 requests).*persistent grants" "$T/pvd.log" &&
echo "$line" | grep -q "max_ring_page_order=2 persistent=enabled indirect=enabled"
ok $? "Linux negotiated a 4-page ring, persistent grants and indirect descriptors ($(grep -o 'disk root (device 51712) connected.*' "$T/pvd.log" | head -n 1))"
after=$(echo "$line" | sed -n 's/.* files=\([0-9]*\).*/\1/p')
echo "$line" | grep -q "^PVCORE-LINUX-BLK: ok blk-loop sectors=131072 ro=0 files=" && [ "${after:-0}" -gt "${before:-0}" ]
ok $? "the guest wrote on after the restart and every file checks out: ${line:-no result line}"
grep -q "domain [0-9]* (linux-kill): shut down: poweroff" "$HVLOG"
ok $? "the guest powered off"
[ -f "$img" ] && "$E2FSCK" -fn "$img" >"$T/fsck.log" 2>&1
ok $? "e2fsck -fn finds the image's filesystem clean ($(tail -n 1 "$T/fsck.log" 2>/dev/null))"
exit $fail
