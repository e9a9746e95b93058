#!/bin/sh
# Boot-loader domains with a ramdisk and a command line, a kernel whose
# Xen notes are only in an SHT_NOTE section, and console output printed
# once. One boot, GRUB module2 lines (README "Running PV guests from the
# boot loader"):
#   rd        ramdisk.elf, then its ramdisk (module2 /rd.img ramdisk-for=rd)
#   rd2       the ramdisk module first, then the kernel
#   shtnote   hypercall_basics.elf with its PT_NOTE header made PT_NULL
#   dc        dualcons.elf: every line to console_io and the ring
#   dup       two ramdisks for one domain: not started, named
#   (a ramdisk-for=nobody module: named, ignored)
. tests/lib/hvtest.sh
DEBUG_EXIT="-device isa-debug-exit,iobase=0xf4,iosize=0x04"
BOOT_TIMEOUT=${GUEST_BOOT_TIMEOUT:-180}

for k in ramdisk dualcons hypercall_basics; do
    if [ ! -f "$BUILD/guests/$k.elf" ]; then
        not_ok "kernels built" "$BUILD/guests/$k.elf is missing"
        exit 1
    fi
done

# A ramdisk: a magic word, then 70000 bytes of a fixed pseudo-random
# sequence (not a multiple of the page size). Its length and byte sum go
# on the guest's command line.
python3 - "$WORK/rd.img" "$BUILD/guests/hypercall_basics.elf" "$WORK/shtnote.elf" <<'PY' > "$WORK/rd.facts"
import struct, sys
data = bytearray(b"PVRD-magic")
x = 12345
for _ in range(70000):
    x = (x * 1103515245 + 12345) & 0x7fffffff
    data.append((x >> 16) & 0xff)
open(sys.argv[1], "wb").write(data)
print(len(data), sum(data) & 0xffffffff)
# The same kernel with every PT_NOTE program header turned into PT_NULL:
# its notes remain only in the .note section.
elf = bytearray(open(sys.argv[2], "rb").read())
phoff, = struct.unpack_from("<Q", elf, 32)
phnum, = struct.unpack_from("<H", elf, 56)
n = 0
for i in range(phnum):
    off = phoff + i * 56
    if struct.unpack_from("<I", elf, off)[0] == 4:
        struct.pack_into("<I", elf, off, 0)
        n += 1
assert n > 0, "no PT_NOTE to remove"
open(sys.argv[3], "wb").write(elf)
PY
read -r rd_len rd_sum < "$WORK/rd.facts"
args="rd_len=$rd_len rd_sum=$rd_sum rd_magic=PVRD-magic and more words"

HV_ISO_FILES="$BUILD/guests/ramdisk.elf=/guests/ramdisk.elf $BUILD/guests/dualcons.elf=/guests/dualcons.elf $WORK/shtnote.elf=/guests/shtnote.elf $WORK/rd.img=/rd.img" \
    hv_iso bootloader "debug-exit=0xf4" \
    "module2 /guests/ramdisk.elf name=rd mem=32M -- $args" \
    "module2 /rd.img ramdisk-for=rd" \
    "module2 /rd.img ramdisk-for=rd2" \
    "module2 /guests/ramdisk.elf name=rd2 mem=16M -- $args" \
    "module2 /guests/shtnote.elf name=shtnote mem=16M" \
    "module2 /guests/dualcons.elf name=dc mem=16M" \
    "module2 /rd.img ramdisk-for=nobody" \
    "module2 /guests/ramdisk.elf name=dup mem=16M -- $args" \
    "module2 /rd.img ramdisk-for=dup" \
    "module2 /rd.img ramdisk-for=dup"
# shellcheck disable=SC2086
hv_boot bootloader -m 512 $DEBUG_EXIT

success() {   # success NAME WHAT
    log_line bootloader "^\($1\) Test result: SUCCESS" | grep -q . &&
        log_line bootloader "domain [0-9]+ \($1\): shut down: poweroff" | grep -q .
    check "$2" $? "$(log_line bootloader "^\($1\) (Test result|FAIL)")"
}
success rd "a domain gets its ramdisk (module after the kernel) and its command line"
log_line bootloader "^\(rd\) ramdisk: cmd_line \"$args\"" | grep -q .
check "the command line arrives whole in start_info" $? "$(log_line bootloader '^\(rd\) ramdisk: cmd_line')"
success rd2 "a ramdisk module before its kernel's module works the same"
success shtnote "a kernel with its Xen notes only in an SHT_NOTE section boots"
log_line bootloader 'module 6: ramdisk-for=nobody names no domain' | grep -q .
check "a ramdisk for no domain is named and ignored" $? "$(log_line bootloader 'module 6')"
log_line bootloader 'module 7 \(dup\): more than one ramdisk-for=dup module; domain not started' | grep -q .
check "two ramdisks for one domain: named, not started" $? "$(log_line bootloader 'module 7')"

success dc "the double-writing guest runs"
out=$(tr -d '\r' < "$WORK/bootloader.log")
counts=""
for l in "twice-written line 1" "twice-written line 2" "twice-written line 3" \
         "twice-written line 4" "twice-written line 5" "twice-written last line" \
         "console_io only" "ring only"; do
    n=$(printf '%s\n' "$out" | grep -c "^(dc) dualcons: $l\$")
    counts="$counts $n"
done
[ "$counts" = " 1 1 1 1 1 1 1 1" ]
check "console output is printed once (console_io and the ring carry the same lines)" $? \
    "counts of the 8 lines:$counts"

fin=$(log_line bootloader 'all domains have finished')
echo "$fin" | grep -q 'MEMORY LEAKED'
[ $? -ne 0 ] && [ -n "$fin" ]
check "every frame returned after all domains ended" $? "${fin:-never finished}"
[ "$status" -eq 33 ]
check "the hypervisor stopped with the success status (33)" $? "QEMU exited with $status"
exit $failed_any
