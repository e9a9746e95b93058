#!/bin/sh
# Grants between two domains on pvcore (issue 9, "Events and grants"):
# grant_pair as granter (domain 1, its table switched to v2) and mapper
# (domain 2, v1): status frames seen by the granter while the mapper maps,
# set_version refused meanwhile, sub-page copies, unmap_and_replace and a
# host+device mapping unmapped in two parts. pvcore only: Xen runs only
# dom0 under this QEMU (the one-domain checks are grant_v2, which also
# runs on Xen 4.17). Run: make guests && sh tests/guests/grant_test.sh
. tests/lib/hvtest.sh
DEBUG_EXIT="-device isa-debug-exit,iobase=0xf4,iosize=0x04"
BOOT_TIMEOUT=${GUEST_BOOT_TIMEOUT:-150}
G=$BUILD/guests

[ -f "$G/grant_pair.elf" ] || { not_ok "grant_pair kernel built" "no $G/grant_pair.elf (make guests)"; exit 1; }
HV_ISO_FILES="$G/grant_pair.elf=/guests/grant_pair.elf"

# result NAME WHAT: the domain's verdict, with its first FAIL lines.
result() {
    r=$(log_line pair "^\($1\) Test result: ")
    case $r in
    *SUCCESS) ok "$2: Test result: SUCCESS" ;;
    *) not_ok "$2" "expected Test result: SUCCESS, got '${r:-no result line}' $(tr -d '\r' < "$WORK/pair.log" | grep -aE "^\($1\) FAIL: " | head -n 3 | tr '\n' ' ')" ;;
    esac
}

hv_iso pair "debug-exit=0xf4" \
    "module2 /guests/grant_pair.elf name=granter mem=32M -- role=granter peer=2" \
    "module2 /guests/grant_pair.elf name=mapper mem=32M -- role=mapper peer=1" ||
    not_ok "pair: ISO"
# shellcheck disable=SC2086
hv_boot pair -m 512 -smp 1 $DEBUG_EXIT
result granter "grant_pair granter (v2 table, status frames)"
result mapper "grant_pair mapper (sub-page copies, unmap_and_replace, partial unmaps)"
fin=$(log_line pair 'all domains have finished')
before=$(echo "$fin" | sed -nE 's/.*; ([0-9]+) frames free \(([0-9]+) before.*/\2/p')
after=$(echo "$fin" | sed -nE 's/.*; ([0-9]+) frames free \(([0-9]+) before.*/\1/p')
[ "$status" -eq 33 ] && [ -n "$after" ] && [ "$after" = "$before" ]
check "pair: all domains finished, every frame returned, QEMU exit 33" $? \
    "exit $status, '${fin:-no end line}'"
exit $failed_any
