#!/bin/sh
# `make test-xen`: check that the layouts in hypervisor/include/public/
# match Debian's Xen 4.17 public headers (package libxen-dev, unpacked
# under $BUILD/xen, not installed). One TAP line per structure.
set -u
. "$(dirname "$0")/xen-env.sh"

if ! why=$(xen_fetch libxen-dev); then
    echo "ok - abi layout vs Xen 4.17 headers # SKIP $why"
    exit 0
fi
out="$XEN_DIR/abi"
mkdir -p "$out"
CC=${HOST_CC:-gcc}
$CC -std=gnu11 -Wall -Werror -DPVCORE_HEADERS -Ihypervisor/include \
    tests/xen/abi_layout.c -o "$out/ours" || { echo "not ok - abi layout: building against pvcore headers failed"; exit 1; }
$CC -std=gnu11 -w -D__XEN_INTERFACE_VERSION__=0x00040e00 -I"$XEN_INCLUDE" \
    tests/xen/abi_layout.c -o "$out/xen" || { echo "not ok - abi layout: building against Xen headers failed"; exit 1; }
"$out/ours" >"$out/ours.txt" && "$out/xen" >"$out/xen.txt" || { echo "not ok - abi layout: running the probes failed"; exit 1; }

for s in $(awk '{ print $1 }' "$out/xen.txt" | uniq); do
    a=$(grep "^$s " "$out/ours.txt")
    b=$(grep "^$s " "$out/xen.txt")
    if [ "$a" = "$b" ]; then
        echo "ok - abi layout: struct $s matches Xen 4.17"
    else
        echo "not ok - abi layout: struct $s differs from Xen 4.17:"
        diff "$out/xen.txt" "$out/ours.txt" | grep " $s " | sed 's/^/#   /'
    fi
done
