#!/bin/sh
# The end-to-end test (e2e.sh) against the ASan/UBSan build of pvd: any
# sanitizer report in pvd's log, or pvd not exiting 0 on SIGTERM, fails it.
BUILD=${BUILD:-build}
export BUILD
export PVD="$BUILD/asan/bin/pvd"
export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=0:detect_leaks=1:halt_on_error=1:exitcode=99}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
[ -x "$PVD" ] || { echo "# $PVD missing (make)"; exit 1; }
exec sh "$(dirname "$0")/e2e.sh"
