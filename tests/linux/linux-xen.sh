#!/bin/sh
# `make test-linux-xen` (also part of `make test-xen`): the reference run of
# the `make test-linux` harness. Debian's Linux kernel and the test
# initramfs boot as dom0 of Debian's real Xen 4.17 under QEMU (TAP):
#   shipped   the vmlinuz (bzImage) as Debian ships it, 1 vCPU
#   vcpus2    the same with 2 vCPUs
#   extracted the ELF that build/bin/pvcore-extract-kernel wrote out of the
#             vmlinuz (what a pvcore boot-loader domain is given)
# Each must print "PVCORE-LINUX-RESULT: ok procs=100 cpus=<vCPUs>" and power
# off (Linux: "reboot: Power down"; Xen, whose dom0 owns ACPI: "Entering
# ACPI S5 state"). Skipped only when a package cannot be had.
# QEMU's `max` CPU has SMAP, which Xen 4.17 under this QEMU cannot run a
# PV Linux with, so the CPU is `max,smap=off`.
set -u
. "$(dirname "$0")/../xen/xen-env.sh"
. "$(dirname "$0")/linux-env.sh"

CASES="shipped vcpus2 extracted"
TIMEOUT=${XEN_BOOT_TIMEOUT:-300}
EXTRACT=${PVCORE_EXTRACT_KERNEL:-$BUILD/bin/pvcore-extract-kernel}

skip_all() {
    for c in $CASES; do echo "ok - linux on xen: $c # SKIP $1"; done
    exit 0
}
why=$(xen_fetch xen-hypervisor-4.17-amd64) || skip_all "$why"
why=$(linux_fetch) || skip_all "$why"
linux_fetch >/dev/null           # again in this shell, for the variables

work="$BUILD/test-linux/xen"
mkdir -p "$work"
initrd="$work/initramfs.cpio.gz"
linux_initramfs "$initrd" || { echo "not ok - linux on xen: building the initramfs failed"; exit 1; }
echo "# $LINUX_PKG, initramfs $(wc -c <"$initrd") bytes"

# verdict CASE VCPUS: one TAP line from the case's serial log.
verdict() {
    log="$XEN_LOGS/linux-$1.log"
    line=$(grep -a -m1 '^PVCORE-LINUX-RESULT:' "$log" 2>/dev/null | tr -d '\r')
    secs=$(sed -n 's/^booted .* in \([0-9]*\)s$/\1/p' "$log.time" 2>/dev/null | tail -n 1)
    if echo "$line" | grep -q "^PVCORE-LINUX-RESULT: ok procs=100 cpus=$2 " &&
       grep -aq "reboot: Power down" "$log" && grep -aq "Entering ACPI S5 state" "$log"; then
        echo "ok - linux on xen: $1: $line; powered off after ${secs}s"
    else
        echo "not ok - linux on xen: $1: expected 'ok procs=100 cpus=$2' and a poweroff, got '${line:-no result line}' (log: $log)"
        grep -a -E 'Panic|BUG|Oops|Kernel panic' "$log" | head -n 5 | sed 's/^/# /'
    fi
}

boot() {   # CASE KERNEL VCPUS
    XEN_DOM0_OPTS="dom0_mem=256M,max:256M dom0_max_vcpus=$3" XEN_RAMDISK="$initrd" \
    XEN_QEMU_CPU="max,smap=off" XEN_SMP="$3" \
        xen_boot "linux-$1" "$2" "$TIMEOUT" "console=hvc0 earlyprintk=xen loglevel=4"
}

boot shipped "$LINUX_VMLINUZ" 1
verdict shipped 1
boot vcpus2 "$LINUX_VMLINUZ" 2
verdict vcpus2 2
if "$EXTRACT" "$LINUX_VMLINUZ" "$work/vmlinux.elf" >"$work/extract.log" 2>&1; then
    boot extracted "$work/vmlinux.elf" 1
    verdict extracted 1
else
    echo "not ok - linux on xen: extracted: $EXTRACT failed: $(tail -n 1 "$work/extract.log")"
fi
exit 0
