# pvd_harness.sh - shared by the shell tests that run pvd with a real
# machine (sourced, POSIX sh): a temporary state dir, TAP counting, pvd
# start-up, waiting, and a cleanup that stops pvd and the machine (also on
# failure, when it shows pvd's log and whatever `harness_on_failure` adds).
#
# Before sourcing: BUILD, PVD and the working directory (the tree's root).
# Sets: T (the temporary dir), PVCTL, pid (pvd's), n, fail.
T=$(mktemp -d /tmp/pvd-test.XXXXXX)
PVCTL="$BUILD/bin/pvctl --socket $T/pvd.sock"
n=0
fail=0
pid=

ok() {
    n=$((n + 1))
    if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fail=1; fi
}

harness_on_failure() { :; }

cleanup() {
    [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
    [ -n "$pid" ] && wait "$pid" 2>/dev/null
    "$PVD" --config /dev/null --state-dir "$T/state" --stop-machine >/dev/null 2>&1
    for c in /proc/[0-9]*/cmdline; do   # a QEMU left behind on this state dir
        if tr '\0' ' ' 2>/dev/null <"$c" | grep -q "qemu.*$T/"; then
            p=${c#/proc/}; kill -9 "${p%/cmdline}" 2>/dev/null
        fi
    done
    if [ "$fail" != 0 ]; then
        echo "# pvd log:"; sed 's/^/# /' "$T/pvd.log" | tail -n 30
        harness_on_failure
    fi
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# start_pvd [OPTIONS...]: in the background on $T, until it answers
start_pvd() {
    "$PVD" --config /dev/null --state-dir "$T/state" --socket "$T/pvd.sock" "$@" >>"$T/pvd.log" 2>&1 &
    pid=$!
    i=0
    while ! $PVCTL version >/dev/null 2>&1; do
        i=$((i + 1))
        kill -0 "$pid" 2>/dev/null && [ $i -lt 300 ] || return 1
        sleep 0.1
    done
}

# wait_for SECONDS COMMAND...
. tests/lib/wait.sh
