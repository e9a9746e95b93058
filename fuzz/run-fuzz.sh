#!/bin/sh
# run-fuzz.sh SECONDS JOBS NAME... - `make fuzz`: run each libFuzzer target
# build/fuzz/fuzz_NAME for SECONDS on its working corpus
# build/fuzz/corpus/NAME (seeded from fuzz/corpus/NAME and fuzz/regress/NAME,
# kept between runs), JOBS targets at a time under nice, then print one
# line per target: executions, executions per second, corpus size, and
# whether it found anything (the reproducer is build/fuzz/artifacts/NAME-*).
# Exits 1 when any target crashed, leaked or tripped a sanitizer.
set -u
BUILD=${BUILD:-build}
if [ "${1:-}" = --one ]; then
    secs=$2 name=$3
    f=$BUILD/fuzz/fuzz_$name corpus=$BUILD/fuzz/corpus/$name log=$BUILD/fuzz/logs/$name.log
    mkdir -p "$corpus" "$BUILD/fuzz/artifacts" "$BUILD/fuzz/logs"
    # shellcheck disable=SC2046
    nice -n 10 "$f" -max_total_time="$secs" -print_final_stats=1 -timeout=30 -rss_limit_mb=2048 \
        -artifact_prefix="$BUILD/fuzz/artifacts/$name-" $(sh fuzz/options.sh "$name") \
        "$corpus" fuzz/corpus/"$name" $( [ -d fuzz/regress/"$name" ] && echo fuzz/regress/"$name") \
        >"$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    time=$(sed -n 's/^stat::.*total_time.*: *//p; s/.*Done \([0-9]*\) runs in \([0-9]*\) second.*/\2/p' "$log" | tail -n 1)
    n=$(ls "$corpus" | wc -l)
    if [ "$rc" -eq 0 ]; then verdict="no findings"; else verdict="FOUND A PROBLEM (exit $rc; $log)"; fi
    printf '%-13s %12s executions in %4ss (%s/s), corpus %s inputs: %s\n' "$name" "${execs:-?}" \
        "${time:-$secs}" "$(( ${execs:-0} / ${time:-$secs} ))" "$n" "$verdict"
    [ "$rc" -eq 0 ]
    exit
fi
secs=$1 jobs=$2
shift 2
for n in "$@"; do
    if [ ! -x "$BUILD/fuzz/fuzz_$n" ]; then echo "fuzz: $BUILD/fuzz/fuzz_$n is not built (is clang installed?)" >&2; exit 1; fi
done
echo "fuzz: $# targets, ${secs}s each, $jobs at a time"
printf '%s\n' "$@" | xargs -P "$jobs" -I{} sh "$0" --one "$secs" {}
rc=$?
[ "$rc" -eq 0 ] && echo "fuzz: no crash, leak or sanitizer report" || echo "fuzz: some target found a problem (see above)"
exit "$rc"
