# Shell helpers for tests that boot the hypervisor under QEMU. Source it.
#
#   hv_iso NAME CMDLINE [GRUB_LINE...]  build $WORK/NAME.iso booting pvcore with
#                                       CMDLINE; extra lines go after multiboot2
#                                       (module2 ...), files via HV_ISO_FILES
#   hv_boot NAME [QEMU ARGS...]         boot $WORK/NAME.iso, serial log in
#                                       $WORK/NAME.log; sets $status to QEMU's
#                                       exit status (124 on timeout)
#   ok / not_ok / skip WHAT [WHY]       TAP result lines
# QEMU exit statuses with isa-debug-exit: 33 = pass, 35 = fail.
# Logs of failing tests are kept under $BUILD/test-logs/qemu/.
set -u
BUILD=${BUILD:-build}
HV_ELF=${HV_ELF:-$BUILD/hypervisor/pvcore.elf}
QEMU=${QEMU:-qemu-system-x86_64}
QEMU_ACCEL=${QEMU_ACCEL:-tcg}
BOOT_TIMEOUT=${BOOT_TIMEOUT:-60}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/pvcore-test.XXXXXX")
KEEP="$BUILD/test-logs/qemu"
failed_any=0
trap 'rm -rf "$WORK"' EXIT
HV_ISO_FILES=${HV_ISO_FILES:-}

ok() { echo "ok - $1"; }
not_ok() {
    echo "not ok - $1${2:+: $2}"
    failed_any=1
}
skip() { echo "ok - $1 # SKIP ${2:-}"; }
check() {   # check WHAT CONDITION-EXIT-STATUS [WHY]
    if [ "$2" -eq 0 ]; then ok "$1"; else not_ok "$1" "${3:-}"; fi
}

hv_iso() {
    name=$1 cmdline=$2
    shift 2
    {
        echo 'serial --unit=0 --speed=115200'
        echo 'terminal_input serial'
        echo 'terminal_output serial'
        echo 'set timeout=0'
        echo 'menuentry "pvcore test" {'
        echo "  multiboot2 /boot/pvcore.elf $cmdline"
        for l in "$@"; do echo "  $l"; done
        echo '  boot'
        echo '}'
    } > "$WORK/$name.cfg"
    # shellcheck disable=SC2086
    sh tests/lib/mkiso.sh "$WORK/$name.iso" "$WORK/$name.cfg" \
        "$HV_ELF=/boot/pvcore.elf" $HV_ISO_FILES
}

hv_boot() {
    name=$1
    shift
    timeout -k 5 "$BOOT_TIMEOUT" "$QEMU" -accel "$QEMU_ACCEL" -machine pc \
        -display none -no-reboot -monitor none \
        -serial "file:$WORK/$name.log" -cdrom "$WORK/$name.iso" "$@" \
        </dev/null >"$WORK/$name.qemu.out" 2>&1
    status=$?
    # Keep the logs of every boot; the runner only reports where they are.
    mkdir -p "$KEEP"
    cp "$WORK/$name.log" "$KEEP/$name.log" 2>/dev/null
    cat "$WORK/$name.qemu.out" >> "$KEEP/$name.log" 2>/dev/null
}

# Log line of a given boot that matches an extended regexp (first match).
log_line() { tr -d '\r' < "$WORK/$1.log" | grep -aE "$2" | head -n 1; }

# hv_survived NAME WHAT: the checks a boot of hostile domains ends with:
# no panic, BUG or assertion in the log, every frame back at the end
# ("all domains have finished" without MEMORY LEAKED), QEMU exit 33.
hv_survived() {
    bad=$(tr -d '\r' < "$WORK/$1.log" | grep -aE "PANIC|panic|BUG at|assertion failed" | head -n 3)
    [ -z "$bad" ]
    check "$1: no panic, BUG or assertion in the hypervisor" $? "$bad"
    fin=$(log_line "$1" 'all domains have finished')
    echo "$fin" | grep -q 'frames free' && ! echo "$fin" | grep -q 'MEMORY LEAKED'
    check "$1: every frame came back" $? "${fin:-no end line}"
    [ "$status" -eq 33 ]
    check "$1: the hypervisor survived $2 (QEMU exit 33)" $? "QEMU exited with $status"
}

# hv_boot_timed NAME [QEMU ARGS...]: hv_boot; $took = its wall-clock seconds.
hv_boot_timed() {
    _t0=$(date +%s)
    hv_boot "$@"
    took=$(( $(date +%s) - _t0 ))
}
