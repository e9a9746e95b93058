#!/bin/sh
# Part of `make test-linux`: Debian's Linux kernel as a boot-loader domain
# (a GRUB module2 line, no Domain 0), with the test initramfs as its
# ramdisk module (TAP). The hypervisor has no decompressor, so the kernel
# line gets the ELF that build/bin/pvcore-extract-kernel writes out of the
# vmlinuz:
#   module2 /guests/vmlinux.elf name=linux mem=128M -- console=hvc0 ...
#   module2 /guests/initramfs.cpio.gz ramdisk-for=linux
# Checks: the domain prints "PVCORE-LINUX-RESULT: ok procs=100 cpus=1",
# shuts down with reason poweroff, the hypervisor logs no warning or error,
# reports every frame back when all domains have finished, and stops with
# the success status (33). Skipped only when a package cannot be had.
set -u
BUILD=${BUILD:-build}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1
. tests/linux/linux-env.sh
BOOT_TIMEOUT=${LINUX_BOOT_TIMEOUT:-300}
. tests/lib/hvtest.sh
EXTRACT=${PVCORE_EXTRACT_KERNEL:-$BUILD/bin/pvcore-extract-kernel}
WHAT="linux as a boot-loader domain"

if ! why=$(linux_fetch); then
    skip "$WHAT" "$why"
    exit 0
fi
linux_fetch >/dev/null
linux_initramfs "$WORK/initramfs.cpio.gz" || { not_ok "$WHAT: building the initramfs"; exit 1; }
"$EXTRACT" -v "$LINUX_VMLINUZ" "$WORK/vmlinux.elf" 2>"$WORK/extract.log"
check "$WHAT: $EXTRACT writes the ELF out of $(basename "$LINUX_VMLINUZ")" $? "$(cat "$WORK/extract.log")"
[ -s "$WORK/vmlinux.elf" ] || exit 1
sed 's/^/# /' "$WORK/extract.log"

HV_ISO_FILES="$WORK/vmlinux.elf=/guests/vmlinux.elf $WORK/initramfs.cpio.gz=/guests/initramfs.cpio.gz" \
    hv_iso linux "debug-exit=0xf4" \
    "module2 /guests/vmlinux.elf name=linux mem=128M vcpus=1 -- console=hvc0 earlyprintk=xen" \
    "module2 /guests/initramfs.cpio.gz ramdisk-for=linux" ||
    { not_ok "$WHAT: building the ISO"; exit 1; }
started=$(date +%s)
hv_boot linux -m 1024 -smp 2 -device isa-debug-exit,iobase=0xf4,iosize=0x04
secs=$(($(date +%s) - started))
echo "# serial log: $KEEP/linux.log (QEMU status $status after ${secs}s)"

line=$(log_line linux '^\(linux\) PVCORE-LINUX-RESULT:' | sed 's/^(linux) //')
echo "$line" | grep -q '^PVCORE-LINUX-RESULT: ok procs=100 cpus=1 '
check "$WHAT: ${line:-no result line}" $? "$(log_line linux 'crashed|unhandled|PANIC|refused|not started')"
[ -n "$(log_line linux 'domain [0-9]+ \(linux\): shut down: poweroff')" ]
check "$WHAT: shut down with reason poweroff" $? "$(log_line linux '\(linux\): shut down')"
warns=$(tr -d '\r' <"$WORK/linux.log" | grep -a -E '(^|\] )(warn|err): ' | head -n 3 | tr '\n' ' ')
[ -z "$warns" ]
check "$WHAT: no hypervisor warning" $? "$warns"
fin=$(log_line linux 'all domains have finished')
[ -n "$(log_line linux 'domain [0-9]+ \(linux\): [0-9]+ MiB')" ] &&
    echo "$fin" | grep -q 'frames free' && ! echo "$fin" | grep -q 'MEMORY LEAKED'
check "$WHAT: started, and every frame back after it ended" $? "${fin:-the hypervisor never reported all domains finished}"
[ "$status" -eq 33 ]
check "$WHAT: the hypervisor stopped with the success status (33)" $? "QEMU exited with $status"
exit $failed_any
