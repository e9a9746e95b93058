#!/bin/sh
# fuzz_xs.sh - run the xenstore ring fuzz target (libFuzzer, ASan/UBSan)
# for FUZZ_RUNS inputs (default 20000) from the seeds in
# tests/xenstore/fuzz-seeds/; TAP. Skipped without clang.
set -u
BUILD=${BUILD:-build}
F=$BUILD/fuzz/fuzz_xs_ring
if [ ! -x "$F" ]; then echo "ok - xenstore fuzz target # SKIP not built (clang missing)"; exit 0; fi
corpus=$(mktemp -d /tmp/xs-fuzz.XXXXXX)
trap 'rm -rf "$corpus"' EXIT
cp tests/xenstore/fuzz-seeds/* "$corpus"/ 2>/dev/null
if "$F" -runs="${FUZZ_RUNS:-20000}" -max_len=12000 -seed=1 "$corpus" >"$corpus.log" 2>&1; then
    echo "ok - xenstore ring fuzz target: $(grep -a 'Done' "$corpus.log" | tail -n 1)"
else
    echo "not ok - xenstore ring fuzz target found a crash"; tail -n 40 "$corpus.log" | sed 's/^/# /'
fi
rm -f "$corpus.log"
