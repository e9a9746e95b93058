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
# refusal; its grants (not persistent) mapped in one call per request.
# The domain is started again and reads its marker back; a
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

# config NAME MODE DISKJSON [KEY: VALUE, ...]
config() {
    cat >"$T/$1.json" <<EOF2
{"name": "$1", "kernel": "$ROOT/$BUILD/guests/blk.elf", "cmdline": "name=$1 $2",
 "memory": "32M", "vcpus": 1, "on_poweroff": "destroy", "on_crash": "destroy",
 ${4:+$4, }"disks": [$3]}
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

echo "1..39"
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
# without persistent grants, a request's grants are mapped in one control
# call (an indirect one: its page, then its segments) and unmapped in one:
# at most 2 map calls and 1 unmap call per request, and several grants a call
# (one call per grant before batching: calls = grants)
line=$(grep -o "disk data disconnected (grants of .*)" "$T/pvd.log" | head -n 1)
read -r nreq nmap nunmap ngrants <<EOF2
$(echo "$line" | sed -n 's/.*grants of \([0-9]*\) requests: \([0-9]*\) map calls, \([0-9]*\) unmap calls, \([0-9]*\) grants mapped.*/\1 \2 \3 \4/p')
EOF2
[ "${nreq:-0}" -gt 0 ] && [ "$nmap" -le $((nreq * 2)) ] && [ "$nunmap" -le "$nreq" ] && [ "$ngrants" -ge $((nmap * 2)) ]
ok $? "blkback maps a request's grants in one call, not one per grant ($line)"

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
$PVCTL info blk-quota | grep -q "image $qimg, $alloc bytes (.* MiB) allocated"
ok $? "pvctl info shows the image and its allocated bytes ($($PVCTL info blk-quota | grep -o 'image .*allocated'))"
events=$($PVCTL events --domain blk-quota --json | python3 -c '
import json, sys
for line in sys.stdin:
    e = json.loads(line)
    if e["type"].startswith("disk.quota"):
        d = e["detail"]
        print(e["type"], d["disk"], d["scope"], d["level"], d["allocated"], d["quota"])' | sort -u | tr '\n' '|')
case "$events" in *"disk.quota small disk 100 1048576 1048576|"*"disk.quota small disk 80 "*"disk.quota small disk 95 "*"disk.quota_refused small disk 0 1048576 1048576|"*)
    ok 0 "the event log has the quota's levels 80, 95, 100 and the refusal ($events)" ;;
*)  ok 1 "the event log has the quota's levels 80, 95, 100 and the refusal (got: $events)" ;; esac
grep -q "blkback: domain [0-9]* disk small: write of .* refused: it would take the image past its quota of 1048576 bytes" "$T/pvd.log"
ok $? "pvd logs the refused write with the domain, the disk and the quota"

# the domain's disk_quota of 1 MiB over two disks, the second's image
# holding 256 KiB already: the guest's disk takes 768 KiB, then its write
# is refused; the images together never pass 1 MiB
wait_for 30 gone blk-quota
config blk-dquota "mode=quota quota=786432" '{"name": "mine", "size": "8M"}, {"name": "other", "size": "8M"}' \
    '"disk_quota": "1M"'
$PVCTL define "$T/blk-dquota.json" >"$T/out" 2>&1 &&
    dd if=/dev/urandom of="$T/state/pool/$(uuid_of blk-dquota)-other.img" bs=65536 count=4 conv=notrunc 2>/dev/null &&
    $PVCTL start blk-dquota >>"$T/out" 2>&1
ok $? "pvctl define blk-dquota with a disk_quota of 1 MiB, 256 KiB in its second image, start ($(tr '\n' ' ' <"$T/out"))"
expect_success blk-dquota 240 1
u=$(uuid_of blk-dquota)
alloc=$(( ($(stat -c %b "$T/state/pool/$u-mine.img") + $(stat -c %b "$T/state/pool/$u-other.img")) * 512 ))
[ "$alloc" -le 1048576 ]
ok $? "the images together stay within the disk_quota ($alloc bytes, disk_quota 1048576)"
grep -q "blkback: domain [0-9]* disk mine: write of .* refused: it would take the domain's disks past its disk_quota of 1048576 bytes" "$T/pvd.log" &&
    $PVCTL events --domain blk-dquota --json | python3 -c '
import json, sys
sys.exit(not any(e["type"] == "disk.quota_refused" and e["detail"]["scope"] == "domain"
                 for e in map(json.loads, sys.stdin)))'
ok $? "pvd logs and records the refusal as the domain's ($(grep -o 'disk mine: write .*' "$T/pvd.log" | head -n 1))"

# a hostile guest (garbage ring indices) is shut off alone while a
# well-behaved one does its work beside it
wait_for 30 gone blk-dquota
config blk-hostile "mode=hostile" '{"name": "junk", "size": "8M"}'
config blk-good "sectors=16384 marker=good" '{"name": "data", "size": "8M"}'
$PVCTL create "$T/blk-hostile.json" >/dev/null 2>&1 && $PVCTL create "$T/blk-good.json" >"$T/out" 2>&1
ok $? "pvctl create blk-hostile and blk-good ($(cat "$T/out"))"
expect_success blk-hostile 240 1
expect_success blk-good 300 1
grep -q "blkback: domain [0-9]* disk junk: ring shut: req_prod .* is more than a ring (32) ahead" "$T/pvd.log"
ok $? "pvd logs the shut ring with the domain, the disk and the cause"

# an I/O limit: once the burst is spent, the bytes pvd lets through in
# 10 s (pvctl info's counter, the host's clock) are within 5 % of bps
# 262144; `pvctl disk-limit` raises it to 524288 while the guest writes,
# and 6 s measured after the new bucket's burst are within 5 % of that
written() {
    $PVCTL info blk-rate --json 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
print([x for x in d["disks"] if x["name"] == "slow"][0].get("stats", {}).get("bytes_written", 0))'
}
# rate_within SECONDS BPS: prints "RATE OK|OFF" for the bytes written over SECONDS
rate_within() {
    a=$(written); ta=$(date +%s%N)
    sleep "$1"
    b=$(written); tb=$(date +%s%N)
    rate=$(( (b - a) * 1000000000 / (tb - ta) ))
    off=$(( (rate - $2) * 1000 / $2 ))
    if [ "${off#-}" -le 50 ]; then echo "$rate OK ($off per mille off)"; else echo "$rate OFF ($off per mille off)"; fi
}
config blk-rate "mode=rate seconds=40" '{"name": "slow", "size": "8M", "bps": 262144}'
$PVCTL create "$T/blk-rate.json" >"$T/out" 2>&1
ok $? "pvctl create blk-rate with bps 262144 ($(cat "$T/out"))"
i=0
while [ "$(written)" -lt 786432 ] && [ $i -lt 300 ]; do sleep 0.2; i=$((i + 1)); done
r=$(rate_within 10 262144)
case "$r" in *OK*) ok 0 "bps 262144: $r bytes/s over 10 s, the burst spent (within 5 %)" ;;
    *) ok 1 "bps 262144: $r bytes/s over 10 s (expected within 5 %)" ;; esac
$PVCTL disk-limit blk-rate slow --bps 524288 >"$T/out" 2>&1
ok $? "pvctl disk-limit blk-rate slow --bps 524288 while the guest writes"
sleep 2
r=$(rate_within 6 524288)
case "$r" in *OK*) ok 0 "bps 524288 (changed live): $r bytes/s over 6 s (within 5 %)" ;;
    *) ok 1 "bps 524288 (changed live): $r bytes/s over 6 s (expected within 5 %)" ;; esac
expect_success blk-rate 240 1

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
