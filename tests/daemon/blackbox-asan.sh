#!/bin/sh
# The same black-box tests against the ASan/UBSan build of pvd.
export PVD="${BUILD:-build}/asan/bin/pvd"
export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=0:detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}"
exec python3 "$(dirname "$0")/blackbox.py"
