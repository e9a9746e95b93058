#!/bin/sh
# `make blk-bench` (also in `make bench`): a virtual block device from the
# guest's side against the same I/O done natively on the host, side by
# side in one run. pvd boots a machine; the `blk` test kernel
# (mode=bench) times, through blkfront and pvd's blkback on a 64 MiB pool
# image: sequential writes and reads of 16 MiB in 44 KiB requests (the
# largest without indirect descriptors) and 512 random 4 KiB writes and
# reads. Then the same pattern runs natively (pwrite/pread on the same
# image from the host, page cache as for the guest) and the ratios are
# printed. Not asserted: the figures depend on the host and its load.
# The guest uses persistent grants (BLK_PERSISTENT=0: a grant per request).
set -u
BUILD=${BUILD:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1
PVD=${PVD:-$BUILD/bin/pvd}
. tests/lib/pvd_harness.sh
HVLOG="$T/state/machine/hv.log"
start_pvd || { echo "blk_bench: pvd did not start"; exit 1; }
cat >"$T/bench.json" <<EOF2
{"name": "blk-bench", "kernel": "$ROOT/$BUILD/guests/blk.elf", "cmdline": "mode=bench persistent=${BLK_PERSISTENT:-1}",
 "memory": 32, "vcpus": 1, "on_poweroff": "destroy", "disks": [{"name": "data", "size": 64}]}
EOF2
$PVCTL create "$T/bench.json" >/dev/null || { echo "blk_bench: create failed"; fail=1; exit 1; }
wait_for 600 sh -c "grep -aq '(blk-bench) Test result' '$HVLOG'"
grep -aq '(blk-bench) Test result: SUCCESS' "$HVLOG" || { echo "blk_bench: the guest failed"; fail=1; exit 1; }
img=$(ls "$T"/state/pool/*-data.img)
grep -a '(blk-bench) blk-bench:' "$HVLOG" | sed 's/.*blk-bench: //' >"$T/guest.txt"
python3 - "$T/guest.txt" "$img" <<'PY'
import os, sys, time
guest = {}
for line in open(sys.argv[1]):
    f = line.split()
    kv = dict(x.split("=") for x in f[1:])
    guest[f[0]] = (int(kv["bytes"]), int(kv["count"]), int(kv["ns"]))
fd = os.open(sys.argv[2], os.O_RDWR)
rng = 88172645463325252
def nxt():
    global rng
    rng ^= (rng << 13) & 0xffffffffffffffff
    rng ^= rng >> 7
    rng ^= (rng << 17) & 0xffffffffffffffff
    return rng
def native(what, size, count):
    global rng
    buf = bytes(size)
    rng = 88172645463325252 if what.startswith("rand-write") else rng
    t = time.perf_counter_ns()
    for i in range(count):
        off = (nxt() % (32 * 2048 // 8)) * 8 * 512 if what.startswith("rand") else i * size
        if "write" in what:
            os.pwrite(fd, buf, off)
        else:
            os.pread(fd, size, off)
    return time.perf_counter_ns() - t
print("%-10s %8s %12s %12s %12s %7s" % ("", "request", "guest", "native", "guest/native", ""))
for what in ("seq-write", "seq-read", "rand-write", "rand-read"):
    size, count, gns = guest[what]
    nns = native(what, size, count)
    if what.startswith("seq"):
        g, n, unit = size * count / gns * 1e3, size * count / nns * 1e3, "MB/s"
    else:
        g, n, unit = count / gns * 1e9, count / nns * 1e9, "IOPS"
    print("%-10s %7dB %10.1f %-4s %8.1f %-4s %8.3f" % (what, size, g, unit, n, unit, g / n))
PY
