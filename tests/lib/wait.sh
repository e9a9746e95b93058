# Polling helper for test scripts (sourced, POSIX sh).
#
#   wait_for SECONDS COMMAND...   run COMMAND every 0.1 s until it succeeds
#                                 (status 0) or SECONDS have passed (status 1)
wait_for() {
    t=$(($1 * 10)); shift
    while [ $t -gt 0 ]; do
        "$@" >/dev/null 2>&1 && return 0
        t=$((t - 1)); sleep 0.1
    done
    return 1
}
