#!/bin/sh
# `make blk-bench` (also in `make bench`): a virtual block device from the
# guest's side against the same I/O done natively on the host, side by
# side in one run. pvd boots a machine; the `blk` test kernel
# (mode=bench) times, through blkfront and pvd's blkback on a 64 MiB pool
# image, with a ring of 4 pages (BLK_RING_ORDER), indirect requests
# (BLK_INDIRECT) and persistent grants (BLK_PERSISTENT), data pages granted
# once (no copy): sequential writes and reads of 32 MiB in 1 MiB requests
# (4 in flight) and 4096 random 4 KiB writes and reads (BLK_DEPTH, default
# 8, in flight). Then the same pattern with the same depth runs natively
# (build/bench/blk_native: pwrite/pread threads on the same image, page
# cache as for the guest) and the ratios are printed. Not asserted: the
# figures depend on the host and its load.
set -u
BUILD=${BUILD:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1
PVD=${PVD:-$BUILD/bin/pvd}
. tests/lib/pvd_harness.sh
HVLOG="$T/state/machine/hv.log"
start_pvd || { echo "blk_bench: pvd did not start"; exit 1; }
cat >"$T/bench.json" <<EOF2
{"name": "blk-bench", "kernel": "$ROOT/$BUILD/guests/blk.elf", "cmdline": "mode=bench persistent=${BLK_PERSISTENT:-1} indirect=${BLK_INDIRECT:-1} ring_order=${BLK_RING_ORDER:-2} depth=${BLK_DEPTH:-8}",
 "memory": 32, "vcpus": 1, "on_poweroff": "destroy", "disks": [{"name": "data", "size": 64}]}
EOF2
$PVCTL create "$T/bench.json" >/dev/null || { echo "blk_bench: create failed"; fail=1; exit 1; }
wait_for 600 sh -c "grep -aq '(blk-bench) Test result' '$HVLOG'"
grep -aq '(blk-bench) Test result: SUCCESS' "$HVLOG" || { echo "blk_bench: the guest failed"; fail=1; exit 1; }
img=$(ls "$T"/state/pool/*-data.img)
grep -a '(blk-bench) blk-bench:' "$HVLOG" | sed 's/.*blk-bench: //' >"$T/guest.txt"
printf '%-10s %8s %6s %14s %14s %12s\n' "" request depth guest native guest/native
for what in seq-write seq-read rand-write rand-read; do
    line=$(grep "^$what " "$T/guest.txt") || { echo "blk_bench: no $what figures from the guest"; fail=1; exit 1; }
    bytes=$(echo "$line" | sed 's/.*bytes=\([0-9]*\).*/\1/') count=$(echo "$line" | sed 's/.*count=\([0-9]*\).*/\1/')
    gns=$(echo "$line" | sed 's/.*ns=\([0-9]*\).*/\1/') depth=$(echo "$line" | sed 's/.*depth=\([0-9]*\).*/\1/')
    nns=$("$BUILD/bench/blk_native" "$img" "$what" "$bytes" "$count" "$depth" | sed -n 's/.*ns=//p')
    case "$nns" in ''|*[!0-9]*|0) echo "blk_bench: the native $what failed"; fail=1; exit 1 ;; esac
    awk -v w="$what" -v b="$bytes" -v c="$count" -v g="$gns" -v n="$nns" -v d="$depth" 'BEGIN {
        if (w ~ /^seq/) { gv = b * c / g * 1e3; nv = b * c / n * 1e3; u = "MB/s" }
        else { gv = c / g * 1e9; nv = c / n * 1e9; u = "IOPS" }
        printf "%-10s %7dB %6d %9.1f %-4s %9.1f %-4s %8.3f\n", w, b, d, gv, u, nv, u, gv / nv }'
done
