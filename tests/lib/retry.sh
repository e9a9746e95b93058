# Source at the top of a timing-sensitive test script (one whose guests
# measure time under QEMU TCG, where host load stretches guest time): when
# the script reports a failure, it is run once more and that run counts;
# the first run's failures are kept as TAP comments. A real bug fails both.
if [ -z "${PVCORE_RETRY_CHILD:-}" ]; then
    retry_out=$(mktemp "${TMPDIR:-/tmp}/pvcore-retry.XXXXXX")
    PVCORE_RETRY_CHILD=1 sh "$0" "$@" > "$retry_out" 2>&1
    retry_rc=$?
    if [ "$retry_rc" -eq 0 ] && ! grep -q '^not ok' "$retry_out"; then
        cat "$retry_out"
        rm -f "$retry_out"
        exit 0
    fi
    grep '^not ok' "$retry_out" | sed 's/^/# first run, retried once: /'
    rm -f "$retry_out"
    PVCORE_RETRY_CHILD=1 exec sh "$0" "$@"
fi
