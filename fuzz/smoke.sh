#!/bin/sh
# smoke.sh - the fuzz targets in `make test` (TAP): each target runs every
# regression input of fuzz/regress/NAME once (crashes found before, fixed),
# then fuzzes for FUZZ_SMOKE_SECONDS (default 3) from its committed seeds.
# Any crash, leak or sanitizer report fails it. Skipped without clang.
set -u
BUILD=${BUILD:-build}
secs=${FUZZ_SMOKE_SECONDS:-3}
work=$(mktemp -d /tmp/pvcore-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT
for src in fuzz/fuzz_*.c; do
    name=${src#fuzz/fuzz_}; name=${name%.c}
    f=$BUILD/fuzz/fuzz_$name
    if [ ! -x "$f" ]; then echo "ok - fuzz $name # SKIP not built (clang missing)"; continue; fi
    if [ -d fuzz/regress/"$name" ]; then
        if "$f" fuzz/regress/"$name"/* >"$work/$name.regress.log" 2>&1; then
            echo "ok - fuzz $name: $(ls fuzz/regress/"$name" | wc -l) regression inputs pass"
        else
            echo "not ok - fuzz $name: a regression input fails again"
            tail -n 30 "$work/$name.regress.log" | sed 's/^/# /'
        fi
    fi
    mkdir -p "$work/$name"
    # shellcheck disable=SC2046
    if "$f" -max_total_time="$secs" -seed=1 -timeout=20 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$work/$name-" $(sh fuzz/options.sh "$name") "$work/$name" fuzz/corpus/"$name" \
        >"$work/$name.log" 2>&1; then
        echo "ok - fuzz $name: $(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$name.log") executions in ${secs}s"
    else
        echo "not ok - fuzz $name found a crash, leak or sanitizer report"
        grep -a -A 30 -m 1 -E '^==[0-9]+==|runtime error|deadly signal' "$work/$name.log" | sed 's/^/# /'
        for a in "$work/$name"-*; do
            [ -f "$a" ] && echo "# reproducer (base64): $(head -c 3000 "$a" | base64 -w0)"
        done
    fi
done
