#!/bin/sh
# Without isa-debug-exit the hypervisor stops the machine through ACPI S5:
# QEMU must exit by itself (status 0), not hang until the timeout.
. tests/lib/hvtest.sh
BOOT_TIMEOUT=30

hv_iso poweroff "selftest=boot" || { not_ok "build ISO"; exit 1; }
hv_boot poweroff -m 256
[ "$status" -eq 0 ] && log_line poweroff 'stopping the machine \(success\)' | grep -q .
check "ACPI power-off ends QEMU (status 0)" $? "QEMU status $status"
log_line poweroff 'acpi: .*S5 via PM1a_CNT' | grep -q .
check "ACPI tables parsed (FADT, DSDT \\_S5)" $? "$(log_line poweroff 'acpi:')"
exit $failed_any
