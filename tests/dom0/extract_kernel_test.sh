#!/bin/sh
# extract_kernel_test.sh - build/bin/pvcore-extract-kernel (TAP): the ELF
# out of a bzImage (hello.elf, xz as Linux compresses it, in a minimal
# setup header), an ELF copied as it is, refusals with status 1 and one
# line naming the file, usage with status 2.
set -u
BUILD=${BUILD:-build}
TOOL="$BUILD/bin/pvcore-extract-kernel"
ELF="$BUILD/guests/hello.elf"
XZ="$BUILD/tests/dom0/kernel-payloads/hello.elf.xz"
T=$(mktemp -d /tmp/pvcore-extract.XXXXXX)
trap 'rm -rf "$T"' EXIT
n=0
ok() {
    n=$((n + 1))
    if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi
}
echo "1..5"
# setup_sects=1 (payload area at 1024), "HdrS", version 2.15,
# payload_offset=0, payload_length=stream+4, then the size trailer.
python3 - "$XZ" "$ELF" "$T/bzImage" <<'PY'
import os, struct, sys
stream = open(sys.argv[1], "rb").read()
size = os.path.getsize(sys.argv[2])
img = bytearray(1024)
img[0x1f1] = 1
img[0x1fe:0x200] = b"\x55\xaa"
img[0x202:0x206] = b"HdrS"
img[0x206:0x208] = struct.pack("<H", 0x020f)
img[0x248:0x250] = struct.pack("<II", 0, len(stream) + 4)
open(sys.argv[3], "wb").write(bytes(img) + stream + struct.pack("<I", size) + b"\xcc" * 32)
PY
"$TOOL" -v "$T/bzImage" "$T/out.elf" 2>"$T/err" && cmp -s "$T/out.elf" "$ELF"
ok $? "a bzImage gives back the ELF byte for byte ($(cat "$T/err"))"
"$TOOL" "$ELF" - >"$T/copy.elf" && cmp -s "$T/copy.elf" "$ELF"
ok $? "an ELF is copied as it is, to stdout with '-'"
head -c 2000 "$T/bzImage" >"$T/cut"
"$TOOL" "$T/cut" "$T/cut.elf" 2>"$T/err"; rc=$?
[ $rc = 1 ] && grep -q "^pvcore-extract-kernel: $T/cut: bzImage: payload of .* runs past the end" "$T/err" &&
    [ ! -e "$T/cut.elf" ]
ok $? "a cut bzImage: status 1, one line naming the file and cause, no output ($(cat "$T/err"))"
"$TOOL" "$T/missing" "$T/x.elf" 2>"$T/err"; rc=$?
[ $rc = 1 ] && grep -q "$T/missing: No such file" "$T/err"
ok $? "a missing file: status 1 naming it"
"$TOOL" only-one 2>"$T/err"; rc=$?
[ $rc = 2 ] && grep -q "^usage: " "$T/err"
ok $? "wrong arguments: usage, status 2"
