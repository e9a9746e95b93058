# The set-up shared by the Linux tests that start pvd themselves
# (linux-pvcore.sh: its own ISO; linux-net.sh: pvd in a network namespace)
# (sourced, POSIX sh, after BUILD, ROOT and PVD are set).
#
# linux_harness NAME: a scratch directory T (/tmp/pvcore-NAME.XXXXXX),
# PVCTL on its socket, HVLOG, the TAP line helper ok, and an exit trap
# that stops pvd ($pid) and its machine and keeps pvd's, the hypervisor's
# and the consoles' logs in $BUILD/test-logs/NAME before removing T.
linux_harness() {
    KEEP="$BUILD/test-logs/$1"
    T=$(mktemp -d "/tmp/pvcore-$1.XXXXXX")
    PVCTL="$BUILD/bin/pvctl --socket $T/pvd.sock"
    HVLOG="$T/state/machine/hv.log"
    pid=
    fail=0
    trap linux_harness_cleanup EXIT
    trap 'exit 1' INT TERM
}

ok() {   # ok STATUS WHAT
    if [ "$1" = 0 ]; then echo "ok - $2"; else echo "not ok - $2"; fail=1; fi
}

linux_harness_cleanup() {
    [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    "$PVD" --config /dev/null --state-dir "$T/state" --stop-machine >/dev/null 2>&1
    mkdir -p "$KEEP"
    cp "$HVLOG" "$KEEP/hv.log" 2>/dev/null
    cp "$T/pvd.log" "$KEEP/pvd.log" 2>/dev/null
    cp "$T"/console-*.log "$KEEP/" 2>/dev/null
    rm -rf "$T"
}
