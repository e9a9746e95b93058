#!/bin/sh
# run-demo.sh - the demo behind `make run`: pvd on ./run/ with the machine,
# the hello domain from examples/, and how to attach and stop.
# Idempotent: a pvd already serving ./run/pvd.sock is reused, an existing
# "hello" is started if it is off, left alone if it runs.
set -u
BUILD=${BUILD:-build}
PVD=${PVD:-$BUILD/bin/pvd}
PVCTL="$BUILD/bin/pvctl --socket ./run/pvd.sock"
mkdir -p run

if [ -f run/pvd.pid ] && kill -0 "$(cat run/pvd.pid)" 2>/dev/null && $PVCTL version >/dev/null 2>&1; then
    echo "pvd already running (pid $(cat run/pvd.pid)): reusing it"
else
    echo "starting pvd (log: ./run/pvd.log); the first start boots the machine under QEMU"
    "$PVD" --config /dev/null --state-dir ./run/state --socket ./run/pvd.sock ${PVD_ARGS:-} \
        >>run/pvd.log 2>&1 &
    echo $! >run/pvd.pid
    i=0
    until $PVCTL version >/dev/null 2>&1; do
        if ! kill -0 "$(cat run/pvd.pid)" 2>/dev/null; then
            echo "pvd exited; the end of ./run/pvd.log:" >&2
            tail -n 20 run/pvd.log >&2
            exit 1
        fi
        i=$((i + 1))
        if [ $i -gt 600 ]; then
            echo "pvd did not answer within 60 s (see ./run/pvd.log)" >&2
            exit 1
        fi
        sleep 0.1
    done
fi

state=$($PVCTL info hello --json 2>/dev/null |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["state"])' 2>/dev/null)
case "$state" in
"") $PVCTL create examples/hello.json || exit 1 ;;
shut-off) $PVCTL start hello || exit 1 ;;
*) echo "domain \"hello\" is already $state" ;;
esac
sleep 1
$PVCTL list
cat <<MSG

Attach to its console (output only; Ctrl-] leaves):
    $BUILD/bin/pvctl --socket ./run/pvd.sock console hello
Stop pvd (the machine and its domains keep running; run this script again to re-attach):
    kill \$(cat ./run/pvd.pid)
Then stop the machine:
    $PVD --state-dir ./run/state --stop-machine
MSG
