#!/bin/sh
# xenstore_bench.sh - xenstore round trips from guests through pvd (`make
# bench`, not asserted): one guest, then 16 at once, each running
# build/guests/xenstore_bench.elf for SECONDS (default 5); prints each
# guest's median and p99 of READ, WRITE and a transaction (start, write,
# commit) in microseconds, and the requests per second of one guest and
# of the 16 together.
set -u
BUILD=${BUILD:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1
PVD=${PVD:-$BUILD/bin/pvd}
SECONDS_RUN=${SECONDS_RUN:-5}
. tests/lib/pvd_harness.sh
HVLOG="$T/state/machine/hv.log"

run() {     # run N: N guests at once, wait for their lines
    for k in $(seq 1 "$1"); do
        cat >"$T/b$1-$k.json" <<EOF2
{"name": "b$1-$k", "kernel": "$ROOT/$BUILD/guests/xenstore_bench.elf", "cmdline": "seconds=$SECONDS_RUN",
 "memory": "16M", "vcpus": 1, "on_poweroff": "destroy", "on_crash": "destroy"}
EOF2
        $PVCTL create "$T/b$1-$k.json" >/dev/null || return 1
    done
    wait_for $((SECONDS_RUN * 4 + 60)) sh -c "[ \$(grep -ac '(b$1-[0-9]*) xenstore_bench: read' $HVLOG) -ge $1 ]"
    grep -a "(b$1-[0-9]*) xenstore_bench: read" "$HVLOG" | sed 's/^/  /'
    grep -a "(b$1-[0-9]*) xenstore_bench: read" "$HVLOG" |
        awk -v n="$1" '{ s += $NF } END { printf "  %d guest(s): %d requests/s in total\n", n, s }'
    wait_for 60 sh -c "[ \"\$($PVCTL list --json | tr -d ' \n')\" = '[]' ]"
}

start_pvd --machine-mem 1024 || { echo "pvd did not start"; exit 1; }
echo "xenstore round trips from a guest (microseconds), $SECONDS_RUN s each:"
run 1
[ "${ONLY_ONE:-}" ] || run 16
fail=0
