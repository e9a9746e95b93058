# asan_pvd.sh - run a pvd shell test against the ASan/UBSan build of pvd
# (sourced by the *-asan.sh wrappers, then: exec sh TEST). Any sanitizer
# report stops pvd with status 99.
BUILD=${BUILD:-build}
export BUILD
export PVD="$BUILD/asan/bin/pvd"
export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=0:detect_leaks=1:halt_on_error=1:exitcode=99}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
[ -x "$PVD" ] || { echo "# $PVD missing (make)"; exit 1; }
