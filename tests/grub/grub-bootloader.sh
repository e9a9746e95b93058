#!/bin/sh
# GRUB's Xen PV port as boot-loader domains (GRUB module2 lines, no
# Domain 0), TAP. The hypervisor is then the domains' console and answers
# their xenstore ring (ENOSYS to every request, xenstore_absent.c): GRUB
# lists device/vbd before anything else and waits for the answer.
# Boot 1 (1 GiB, 2 CPUs):
#   module2 /guests/marker.elf name=marker mem=64M
#   module2 /guests/pvgrub.elf name=linux mem=256M
# marker is tests/grub's marker image (its disks, xenstore home, device/,
# name and domid, then halt: here each xenstore read ends in ENOSYS); pvgrub the PV-GRUB image with Debian's vmlinuz
# and the test initramfs in its memdisk. Checks: what marker prints, the
# Linux result line, both shut down with reason poweroff, no hypervisor
# warning, every frame back and the success status (33).
# Boot 2: Debian's prebuilt grub-x86_64-xen.bin alone reaches its prompt
# (it stays there: the boot ends at its timeout, GRUB_PROMPT_TIMEOUT).
# Skipped only when a package cannot be had.
set -u
BUILD=${BUILD:-build}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1
. tests/linux/linux-env.sh
. tests/grub/grub-env.sh
BOOT_TIMEOUT=${GRUB_BOOT_TIMEOUT:-240}
. tests/lib/hvtest.sh
DEBUG_EXIT="-device isa-debug-exit,iobase=0xf4,iosize=0x04"

if ! why=$(grub_fetch); then
    skip "grub as a boot-loader domain" "$why"
    exit 0
fi
grub_fetch >/dev/null 2>&1
grub_marker_cfg >"$WORK/marker.cfg"
out=$(grub_image "$WORK/marker.elf" "$WORK/marker.cfg")
check "grub-mkimage builds the marker image" $? "$out"
files="$WORK/marker.elf=/guests/marker.elf"
lines="module2 /guests/marker.elf name=marker mem=64M"
if linux_why=$(linux_fetch); then
    linux_fetch >/dev/null
    mkdir -p "$WORK/md/boot"
    cp "$LINUX_VMLINUZ" "$WORK/md/boot/vmlinuz"
    linux_initramfs "$WORK/md/boot/initrd.gz" && (cd "$WORK/md" && tar -cf ../md.tar boot) &&
        grub_linux_cfg >"$WORK/linux.cfg" && out=$(grub_image "$WORK/pvgrub.elf" "$WORK/linux.cfg" "$WORK/md.tar")
    check "the PV-GRUB image with $LINUX_PKG in its memdisk" $? "$out"
    files="$files $WORK/pvgrub.elf=/guests/pvgrub.elf"
    lines="$lines|module2 /guests/pvgrub.elf name=linux mem=256M"
else
    linux_why="${linux_why:-no Linux packages}"
fi

# shellcheck disable=SC2086
OLDIFS=$IFS; IFS='|'; set -- $lines; IFS=$OLDIFS
HV_ISO_FILES="$files" hv_iso grub "debug-exit=0xf4" "$@" || { not_ok "building the ISO"; exit 1; }
hv_boot grub -m 1024 -smp 2 $DEBUG_EXIT
echo "# serial log: $KEEP/grub.log (QEMU status $status)"

# console NAME: what domain NAME printed, cleaned.
console() { tr -d '\r' <"$WORK/grub.log" | sed -n "s/^($1) //p" | grub_clean; }
console marker >"$WORK/marker.out"
grep -q '^PVCORE-GRUB: done$' "$WORK/marker.out" &&
    [ -n "$(log_line grub 'domain [0-9]+ \(marker\): shut down: poweroff')" ]
check "marker: runs its embedded config to the end and powers off with halt" $? \
    "$(log_line grub '\(marker\)' ; log_line grub 'marker.*(crashed|not started)')"
v=$(grub_after disks <"$WORK/marker.out")
[ -z "$v" ]
check "marker: no disks" $? "ls: '$v'"
# No Domain 0, no xenstore: the hypervisor answers every request with
# ENOSYS (hypervisor/common/xenstore_absent.c), and GRUB goes on.
for what in home device name domid; do
    v=$(grub_after "$what" <"$WORK/marker.out")
    echo "$v" | grep -q "couldn't read xenstorage .*: ENOSYS"
    check "marker: its xenstore request ($what) is answered: ENOSYS, no xenstore without Domain 0" $? "'$v'"
done

if [ -n "$linux_why" ]; then
    skip "PV-GRUB boots Linux as a boot-loader domain" "$linux_why"
else
    line=$(console linux | grep -a -m1 '^PVCORE-LINUX-RESULT:')
    echo "$line" | grep -q '^PVCORE-LINUX-RESULT: ok procs=100 cpus=1 ' &&
        [ -n "$(log_line grub 'domain [0-9]+ \(linux\): shut down: poweroff')" ]
    check "PV-GRUB boots $LINUX_PKG from its memdisk and Linux powers off: ${line:-no result line}" $? \
        "$(log_line grub '\(linux\): shut down|linux.*(crashed|not started)')"
fi
warns=$(tr -d '\r' <"$WORK/grub.log" | grep -a -E '(^|\] )(warn|err): ' | head -n 3 | tr '\n' ' ')
[ -z "$warns" ]
check "no hypervisor warning" $? "$warns"
fin=$(log_line grub 'all domains have finished')
[ -n "$fin" ] && ! echo "$fin" | grep -q 'MEMORY LEAKED'
check "every frame back after all domains ended" $? "${fin:-never finished}"
[ "$status" -eq 33 ]
check "the hypervisor stopped with the success status (33)" $? "QEMU exited with $status"

# Boot 2: the shipped image to its prompt.
HV_ISO_FILES="$GRUB_SHIPPED=/guests/shipped.elf" hv_iso shipped "debug-exit=0xf4" \
    "module2 /guests/shipped.elf name=shipped mem=64M" || { not_ok "building the ISO"; exit 1; }
BOOT_TIMEOUT=${GRUB_PROMPT_TIMEOUT:-45} hv_boot shipped -m 512 $DEBUG_EXIT
tr -d '\r' <"$WORK/shipped.log" | sed -n 's/^(shipped) //p' | grub_clean >"$WORK/shipped.out"
grep -q "GNU GRUB  version ${GRUB_VERSION%%-*}" "$WORK/shipped.out" &&
    grep -q 'Minimal BASH-like line editing is supported' "$WORK/shipped.out"
check "shipped: Debian's grub-x86_64-xen.bin finds no config and reaches its prompt" $? \
    "$(tail -n 3 "$WORK/shipped.out" | tr '\n' ' ')"
exit $failed_any
