#!/bin/sh
# check-configs.sh - every tests/configs/bad-* config must be rejected by
# `pvd --check-config` (exit 1) with its .err text (the field's JSON pointer
# or XPath and the cause) in the output; the shipped examples must pass.
# Runs against $PVD (default build/bin/pvd). Prints TAP lines.
set -u
PVD=${PVD:-build/bin/pvd}
dir=$(dirname "$0")
n=0
for cfg in "$dir"/bad-*.json "$dir"/bad-*.xml; do
    n=$((n + 1))
    want=$(cat "${cfg%.*}.err")
    out=$("$PVD" --check-config "$cfg" 2>&1); rc=$?
    name=$(basename "$cfg")
    if [ "$rc" -ne 1 ]; then
        echo "not ok - $name rejected: expected exit 1, got $rc ($out)"
    elif ! printf '%s\n' "$out" | grep -qF -- "$want"; then
        echo "not ok - $name names the field: expected \"$want\", got \"$out\""
    else
        echo "ok - $name rejected: $want"
    fi
done
[ "$n" -ge 30 ] && echo "ok - $n invalid configs checked (at least 30)" ||
    echo "not ok - at least 30 invalid configs: expected 30, got $n"
for cfg in "$dir"/../../examples/*.json "$dir"/../../examples/*.xml; do
    out=$("$PVD" --check-config "$cfg" 2>&1) &&
        echo "ok - $(basename "$cfg") is valid" ||
        echo "not ok - $(basename "$cfg") is valid: expected exit 0, got: $out"
    case $cfg in *.xml)
        # the RelaxNG twin agrees on the valid example
        if command -v xmllint >/dev/null; then
            xmllint --noout --relaxng "$dir/../../schemas/domain.rng" "$cfg" 2>/dev/null &&
                echo "ok - $(basename "$cfg") matches schemas/domain.rng (xmllint)" ||
                echo "not ok - $(basename "$cfg") matches schemas/domain.rng: xmllint rejected it"
        fi;;
    esac
done
