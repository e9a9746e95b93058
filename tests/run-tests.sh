#!/bin/sh
# pvcore test runner.
#
# Each argument is a test program (binary or script). A test reports its
# cases as TAP lines on stdout: "ok - what", "not ok - what: why",
# "ok - what # SKIP why". cmocka binaries are run with TAP output.
# A test that exits non-zero without reporting a failing case counts as one
# failure; one that reports nothing at all counts as one failure too.
# The full output of every test is kept in $BUILD/test-logs/<name>.log.
# Each test's wall time follows its results; the ten slowest are listed
# before the last line. The run ends with exactly one line
# "N passed, N failed, N skipped".
set -u
BUILD=${BUILD:-build}
LOGDIR="$BUILD/test-logs"
TIMEOUT=${TEST_TIMEOUT:-900}
mkdir -p "$LOGDIR"
export CMOCKA_MESSAGE_OUTPUT=TAP
passed=0 failed=0 skipped=0
times="$LOGDIR/.times"
: >"$times"

for t in "$@"; do
    name=$(echo "$t" | sed 's|^\./||; s|^build/||; s|/|_|g')
    log="$LOGDIR/$name.log"
    echo "== $t"
    t0=$(date +%s)
    timeout -k 10 "$TIMEOUT" "$t" >"$log" 2>&1 </dev/null
    rc=$?
    secs=$(($(date +%s) - t0))
    p=$(grep -cE '^ok\b' "$log" | head -1)
    s=$(grep -E '^ok\b' "$log" | grep -ciE '#[[:space:]]*skip')
    f=$(grep -cE '^not ok\b' "$log")
    p=$((p - s))
    grep -E '^(not )?ok\b' "$log" | sed 's/^/   /'
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        if [ "$rc" -eq 124 ]; then why="timed out after ${TIMEOUT}s"; else why="exited with status $rc"; fi
        echo "   not ok - $t $why (log: $log)"
        tail -n 15 "$log" | sed 's/^/   | /'
        f=1
    elif [ $((p + s + f)) -eq 0 ]; then
        echo "   not ok - $t reported no results (log: $log)"
        f=1
    elif [ "$f" -ne 0 ]; then
        echo "   (log: $log)"
    fi
    echo "   ($secs s)"
    echo "$secs $t" >>"$times"
    passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
done

echo "slowest tests (s):"
sort -rn "$times" | head -n 10 | sed 's/^/   /'

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
