#!/bin/sh
# blk_guests.sh - virtual block devices through pvd, end to end (TAP).
#
# pvd boots the machine on a temporary state dir with its pool there;
# the test kernel build/guests/blk.elf runs as a domain with one disk and
# checks the blkif protocol from the guest side (guests/kernels/blk.c):
# read/write/verify across sizes and alignments, flush, discard, refused
# requests ("Test result: SUCCESS" in the hypervisor log). The host checks
# the pool image: created sparse at define time, the guest's marker in it
# at sector 100, pvd's log naming the domain, disk and cause of each
# refusal. The domain is started again and reads its marker back; a
# read-only disk refuses writes; a disk with a quota refuses the write
# that would pass it, keeps its allocated size within it, and takes
# writes again after a discard.
set -u
BUILD=${BUILD:-build}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1
PVD=${PVD:-$BUILD/bin/pvd}
. tests/lib/pvd_harness.sh
HVLOG="$T/state/machine/hv.log"
harness_on_failure() {
    echo "# hypervisor log:"; grep -a '(blk' "$HVLOG" 2>/dev/null | sed 's/^/# /' | tail -n 40
}

# config NAME MODE DISKJSON
config() {
    cat >"$T/$1.json" <<EOF2
{"name": "$1", "kernel": "$ROOT/$BUILD/guests/blk.elf", "cmdline": "name=$1 $2",
 "memory": "32M", "vcpus": 1, "on_poweroff": "destroy", "on_crash": "destroy",
 "disks": [$3]}
EOF2
}
result_of() { grep -a "($1) Test result" "$HVLOG" 2>/dev/null | tail -n 1; }
results() { grep -ac "($1) Test result" "$HVLOG" 2>/dev/null; }
gone() { ! $PVCTL list 2>/dev/null | grep -qw -- "$1"; }
uuid_of() { $PVCTL info "$1" --json | python3 -c "import json,sys; print(json.load(sys.stdin)['uuid'])"; }
# expect_success NAME SECONDS N: the Nth result of NAME is a SUCCESS
expect_success() {
    wait_for "$2" sh -c "[ \$(grep -ac '($1) Test result' '$HVLOG' 2>/dev/null) -ge $3 ]"
    r=$(result_of "$1")
    case "$r" in *SUCCESS*) ok 0 "$1: $r" ;; *) ok 1 "$1: ${r:-no result}"
        grep -a "($1)" "$HVLOG" | grep -a FAIL | head -n 20 | sed 's/^/# /' ;; esac
}

echo "1..30"
if [ ! -f "$BUILD/pvcore.iso" ] || [ ! -f "$BUILD/guests/blk.elf" ]; then
    echo "# $BUILD/pvcore.iso or $BUILD/guests/blk.elf missing (make)"; exit 1
fi
start_pvd; ok $? "pvd starts and boots the machine"

config blk-rw "sectors=16384 marker=first ring_order=2 indirect=1" '{"name": "data", "size": "8M"}'
$PVCTL define "$T/blk-rw.json" >"$T/out" 2>&1
ok $? "pvctl define blk-rw with an 8 MiB disk ($(cat "$T/out"))"
uuid=$(uuid_of blk-rw)
img="$T/state/pool/$uuid-data.img"
size=$(stat -c %s "$img" 2>/dev/null) blocks=$(stat -c %b "$img" 2>/dev/null)
[ "$size" = 8388608 ] && [ "${blocks:-1}" -le 8 ]
ok $? "define created the pool image sparse ($img: $size bytes, $blocks blocks)"

$PVCTL start blk-rw >"$T/out" 2>&1
ok $? "pvctl start blk-rw ($(cat "$T/out"))"
expect_success blk-rw 240 1
grep -a "(blk-rw) blk:" "$HVLOG" | sed "s/^/# /"
dd if="$img" bs=512 skip=100 count=1 2>/dev/null | grep -aq "blk marker first"
ok $? "the guest's marker is in the image at sector 100"
grep -q "blkback: domain [0-9]* disk data: request .* refused: sectors .* beyond the end" "$T/pvd.log" &&
grep -q "blkback: domain [0-9]* disk data: request .* refused: operation 9 is not offered" "$T/pvd.log" &&
grep -q "blkback: domain [0-9]* disk data: request .* refused: segment 0: grant ref 300" "$T/pvd.log"
ok $? "pvd logs each refusal with the domain, the disk and the cause"
grep -q "blkback: domain [0-9]* disk data (device 51712) connected: ring ref [0-9]* (4 pages, 128 requests)" "$T/pvd.log"
ok $? "a ring of 4 pages (ring-page-order 2) connected ($(grep -o 'disk data (device 51712) connected.*' "$T/pvd.log" | head -n 1))"
grep -q "blkback: domain [0-9]* disk data: request .* refused: indirect page 0: grant ref 4000" "$T/pvd.log" &&
grep -q "blkback: domain [0-9]* disk data: request .* refused: 257 indirect segments (1..256)" "$T/pvd.log" &&
grep -q "blkback: domain [0-9]* disk data: request .* refused: indirect operation 3 (READ or WRITE only)" "$T/pvd.log" &&
grep -q "blkback: domain [0-9]* disk data: request .* refused: segment 1: sectors 0..9 of a page" "$T/pvd.log"
ok $? "pvd logs the refused indirect requests (page never granted, 257 segments, a flush, a bad segment)"
grep -q "blkback: domain [0-9]* disk data disconnected" "$T/pvd.log"
ok $? "the frontend's close reached the backend"

# the same disk after a restart of the domain: the marker is still there
wait_for 30 gone blk-rw
config blk-rw "sectors=16384 marker=first mode=check persistent=1" '{"name": "data", "size": "8M"}'
$PVCTL define "$T/blk-rw.json" --replace >/dev/null 2>&1 && $PVCTL start blk-rw >"$T/out" 2>&1
ok $? "pvctl start blk-rw again in mode=check ($(cat "$T/out"))"
expect_success blk-rw 240 2

# a read-only disk: the image of the first run, served read-only
wait_for 30 gone blk-rw
config blk-ro "mode=ro" "{\"name\": \"base\", \"size\": \"8M\", \"path\": \"$img\", \"readonly\": true}"
$PVCTL create "$T/blk-ro.json" >"$T/out" 2>&1
ok $? "pvctl create blk-ro with the image read-only ($(cat "$T/out"))"
expect_success blk-ro 240 1

# a disk quota of 1 MiB on an 8 MiB disk: the write that would pass it is
# refused, the image never holds more than the quota, a discard gives room
wait_for 30 gone blk-ro
config blk-quota "mode=quota quota=1048576" '{"name": "small", "size": "8M", "quota": "1M"}'
$PVCTL create "$T/blk-quota.json" >"$T/out" 2>&1
ok $? "pvctl create blk-quota with a 1 MiB quota ($(cat "$T/out"))"
expect_success blk-quota 240 1
grep -a "(blk-quota) blk:" "$HVLOG" | sed "s/^/# /"
qimg="$T/state/pool/$(uuid_of blk-quota)-small.img"
alloc=$(($(stat -c %b "$qimg") * 512))
[ "$alloc" -le 1048576 ]
ok $? "the image's allocated size stays within the quota ($alloc bytes, quota 1048576)"
$PVCTL info blk-quota | grep -q "image $qimg, $alloc bytes allocated"
ok $? "pvctl info shows the image and its allocated bytes ($($PVCTL info blk-quota | grep -o 'image .*allocated'))"
grep -q "blkback: domain [0-9]* disk small: write of .* refused: it would take the image past its quota of 1048576 bytes" "$T/pvd.log"
ok $? "pvd logs the refused write with the domain, the disk and the quota"

# a hostile guest (garbage ring indices) is shut off alone while a
# well-behaved one does its work beside it
wait_for 30 gone blk-quota
config blk-hostile "mode=hostile" '{"name": "junk", "size": "8M"}'
config blk-good "sectors=16384 marker=good" '{"name": "data", "size": "8M"}'
$PVCTL create "$T/blk-hostile.json" >/dev/null 2>&1 && $PVCTL create "$T/blk-good.json" >"$T/out" 2>&1
ok $? "pvctl create blk-hostile and blk-good ($(cat "$T/out"))"
expect_success blk-hostile 240 1
expect_success blk-good 300 1
grep -q "blkback: domain [0-9]* disk junk: ring shut: req_prod .* is more than a ring (32) ahead" "$T/pvd.log"
ok $? "pvd logs the shut ring with the domain, the disk and the cause"

# an I/O limit: 1.5 MiB written at 256 KiB/s take at least 5 s
wait_for 30 gone blk-good
config blk-rate "mode=rate bps=262144 bytes=1572864" '{"name": "slow", "size": "8M", "bps": 262144}'
$PVCTL create "$T/blk-rate.json" >"$T/out" 2>&1
ok $? "pvctl create blk-rate with bps 262144 ($(cat "$T/out"))"
expect_success blk-rate 240 1
grep -a "(blk-rate) blk: .*bytes/s" "$HVLOG" | sed "s/^/# /"

# pvd stopped (SIGTERM), then killed (SIGKILL), while a guest keeps 16
# requests in flight (numbered: an answer lost times out, one repeated is
# a stray): each new pvd takes the ring (2 pages) over, serves what has no
# answer yet, and the guest's checks all pass
wait_for 30 gone blk-rate
config blk-long "mode=long seconds=40 depth=16 persistent=1 ring_order=1 indirect=1" '{"name": "data", "size": "8M"}'
rounds() { grep -ac "(blk-long) blk: [0-9]* rounds of 16 requests in flight" "$HVLOG"; }
more_rounds() { [ "$(rounds)" -ge "$1" ]; }
$PVCTL create "$T/blk-long.json" >"$T/out" 2>&1
ok $? "pvctl create blk-long ($(cat "$T/out"))"
wait_for 60 more_rounds 2
kill -TERM "$pid"; wait "$pid" 2>/dev/null
start_pvd; ok $? "pvd stopped (SIGTERM) during the guest's I/O and started again"
r=$(rounds); wait_for 60 more_rounds $((r + 3))
kill -9 "$pid"; wait "$pid" 2>/dev/null
sleep 2
start_pvd; ok $? "pvd killed (SIGKILL) during the guest's I/O and started again"
expect_success blk-long 240 1
grep -a "(blk-long) blk: .* all answered once" "$HVLOG" | sed "s/^/# /"
[ "$(grep -c "blkback: domain [0-9]* disk data resumed: ring (2 pages)" "$T/pvd.log")" = 2 ]
ok $? "each new pvd resumed the disk ($(grep -o 'disk data resumed.*' "$T/pvd.log" | tr '\n' ' '))"
exit $fail
