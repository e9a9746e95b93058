#!/bin/sh
# GRUB's Xen PV port (Debian 12's grub-xen-host / grub-xen-bin), a guest
# written independently of pvcore, through pvd and `pvctl create` (TAP).
# See tests/grub/grub-env.sh for the packages and the images.
#
# pvd boots the machine (2 CPUs, 1 GiB) from an ISO with loglevel=debug, so
# that the hypervisor log says how many frames are free after each destroy.
# A probe domain (hello.elf) gives the baseline. Cases:
#   marker   an image of ours (grub-mkimage -O x86_64-xen) whose embedded
#            config prints what GRUB finds in its domain: no disks, its
#            xenstore home (name, domid, device...), an empty device/, its
#            name and domid; then `halt` (SCHEDOP_shutdown poweroff)
#   shipped  the prebuilt grub-x86_64-xen.bin as Debian ships it: it looks
#            for a config on its disks, finds none and reaches its prompt;
#            destroyed there
#   linux    PV-GRUB proper: an image with a memdisk holding Debian's
#            vmlinuz and the test initramfs of tests/linux; GRUB's `linux`
#            loads the kernel into its own domain and starts it; /init
#            prints its result line and powers off (256 MiB)
# Each case checks the console, the shutdown reason, that the hypervisor
# logged no warning or error, that the domain is gone, and that the probe
# domain afterwards finds exactly the baseline of free frames; at the end
# pvd never had to boot the machine again. Skipped only when a package
# cannot be had (the reason is printed); the linux case also needs the
# Linux packages. GRUB_BOOT_TIMEOUT (default 240 s) bounds each case.
set -u
BUILD=${BUILD:-build}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1
PVD=${PVD:-$BUILD/bin/pvd}
TIMEOUT=${GRUB_BOOT_TIMEOUT:-240}
KEEP="$BUILD/test-logs/grub"
. tests/linux/linux-env.sh
. tests/grub/grub-env.sh
. tests/lib/pvd_harness.sh
. tests/lib/frames.sh
HVLOG="$T/state/machine/hv.log"

harness_on_failure() {
    mkdir -p "$KEEP"
    cp "$HVLOG" "$KEEP/hv.log" 2>/dev/null
    cp "$T/pvd.log" "$KEEP/pvd.log" 2>/dev/null
    cp "$T"/console-*.log "$KEEP/" 2>/dev/null
    echo "# logs: $KEEP"
}

CASES="marker shipped linux"
if ! why=$(grub_fetch); then
    for c in $CASES; do echo "ok - grub on pvcore: $c # SKIP $why"; done
    exit 0
fi
grub_fetch >/dev/null 2>&1
echo "# GRUB $GRUB_VERSION ($GRUB_SHIPPED)"
grub_marker_cfg >"$T/marker.cfg"
out=$(grub_image "$T/marker.elf" "$T/marker.cfg")
ok $? "grub-mkimage -O x86_64-xen builds the marker image${out:+: $out}"
linux_why=
if linux_why=$(linux_fetch); then
    linux_fetch >/dev/null
    mkdir -p "$T/md/boot"
    cp "$LINUX_VMLINUZ" "$T/md/boot/vmlinuz"
    linux_initramfs "$T/md/boot/initrd.gz" && (cd "$T/md" && tar -cf ../md.tar boot) &&
        grub_linux_cfg >"$T/linux.cfg" && out=$(grub_image "$T/linux.elf" "$T/linux.cfg" "$T/md.tar")
    ok $? "the PV-GRUB image with $LINUX_PKG and the test initramfs in its memdisk${out:+: $out}"
fi

# The machine's ISO, with the destroy-time free-frame count in the log.
printf '%s\n' 'serial --unit=0 --speed=115200' 'terminal_input serial' \
    'terminal_output serial' 'set timeout=0' 'menuentry "pvcore" {' \
    '  multiboot2 /boot/pvcore.elf loglevel=debug' '  boot' '}' >"$T/grub.cfg"
sh tests/lib/mkiso.sh "$T/pvcore.iso" "$T/grub.cfg" "$BUILD/hypervisor/pvcore.elf=/boot/pvcore.elf" ||
    { ok 1 "building the machine's ISO"; exit 1; }
start_pvd --iso "$T/pvcore.iso" --cpus 2 --machine-mem 1024 --image-dir "$T" \
    --image-dir "$(dirname "$GRUB_SHIPPED")" --image-dir "$ROOT/$BUILD/guests"
ok $? "pvd starts and boots the machine (2 CPUs, 1 GiB)"

console() { $PVCTL console "$1" --no-follow 2>/dev/null | grub_clean; }
console_has() { console "$1" | grep -aq "$2"; }
base=$(probe probe-before)
[ -n "$base" ]
ok $? "probe domain (hello.elf) created and destroyed: ${base:-?} frames free"

# create NAME KERNEL MIB: the domain, destroyed on poweroff, crash, reboot.
create() {
    cat >"$T/$1.json" <<JSON
{"name": "$1", "kernel": "$2", "memory": $3,
 "on_poweroff": "destroy", "on_crash": "destroy", "on_reboot": "destroy"}
JSON
    hv_lines=$(wc -l <"$HVLOG")
    $PVCTL create "$T/$1.json" >"$T/create.out" 2>&1
    ok $? "grub on pvcore: $1: pvctl create ($(tr '\n' ' ' <"$T/create.out"))"
}

# finish NAME WHAT: shut down with reason poweroff (when WHAT is set), no
# hypervisor warning, gone, and the frames back.
finish() {
    if [ -n "$2" ]; then
        reason=$(shutdown_reason "$1")
        [ "$reason" = poweroff ]
        ok $? "grub on pvcore: $1: $2 (shutdown reason '${reason:-none}')"
    fi
    warns=$(tail -n +"$((hv_lines + 1))" "$HVLOG" | tr -d '\r' | grep -a -E '\] (warn|err): ')
    [ -z "$warns" ]
    ok $? "grub on pvcore: $1: no hypervisor warning${warns:+: $(echo "$warns" | head -n 3 | tr '\n' ' ')}"
    is_gone "$1" || $PVCTL destroy "$1" >/dev/null 2>&1
    wait_for 30 has_frames_after "$1"
    after=$(probe "probe-after-$1")
    [ -n "$base" ] && [ "$after" = "$base" ]
    ok $? "grub on pvcore: $1: the machine's free frames are back (probe after: ${after:-?}, before: ${base:-?})"
}

# marker
create marker "$T/marker.elf" 64
domid=$($PVCTL info marker --json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin).get("domid"))')
wait_for "$TIMEOUT" is_gone marker
gone=$?
console marker >"$T/console-marker.log"
grep -aq '^PVCORE-GRUB: done$' "$T/console-marker.log" && [ "$gone" = 0 ]
ok $? "grub on pvcore: marker: runs its embedded config to the end and is gone (console: $KEEP/console-marker.log)"
disks=$(grub_after disks <"$T/console-marker.log")
[ -z "$disks" ]
ok $? "grub on pvcore: marker: no disks (ls: '$disks')"
home=$(grub_after home <"$T/console-marker.log")
for k in name domid device control memory; do
    echo " $home " | grep -q " $k "
    ok $? "grub on pvcore: marker: its xenstore home lists $k ('$home')"
done
dev=$(grub_after device <"$T/console-marker.log")
[ -z "$dev" ]
ok $? "grub on pvcore: marker: device/ is empty ('$dev')"
name=$(grub_after name <"$T/console-marker.log") id=$(grub_after domid <"$T/console-marker.log")
[ "$name" = marker ] && [ "$id" = "$domid" ]
ok $? "grub on pvcore: marker: reads its name and domid from xenstore ('$name' '$id', domid $domid)"
finish marker "powers off with halt"

# shipped
create shipped "$GRUB_SHIPPED" 64
wait_for "$TIMEOUT" console_has shipped '^grub> '
ok $? "grub on pvcore: shipped: finds no config on its (absent) disks and reaches the grub> prompt"
console shipped >"$T/console-shipped.log"
grep -aq "GNU GRUB  version $(echo "${GRUB_VERSION%%-*}" | sed 's/\./\\./g')" "$T/console-shipped.log"
ok $? "grub on pvcore: shipped: prints its banner (GNU GRUB version ${GRUB_VERSION%%-*})"
$PVCTL destroy shipped >/dev/null 2>&1
finish shipped ""

# linux
if [ -n "$linux_why" ] || [ ! -s "$T/linux.elf" ]; then
    echo "ok - grub on pvcore: linux # SKIP ${linux_why:-no PV-GRUB image}"
else
    create linux "$T/linux.elf" 256
    started=$(date +%s)
    wait_for "$TIMEOUT" is_gone linux
    gone=$?
    secs=$(($(date +%s) - started))
    console linux >"$T/console-linux.log"
    line=$(grep -a -m1 '^PVCORE-LINUX-RESULT:' "$T/console-linux.log")
    grep -aq '^PVCORE-GRUB: booting linux$' "$T/console-linux.log" &&
        echo "$line" | grep -q '^PVCORE-LINUX-RESULT: ok procs=100 cpus=1 ' && [ "$gone" = 0 ]
    ok $? "grub on pvcore: linux: GRUB boots $LINUX_PKG from its memdisk: ${line:-no result line} (after ${secs}s)"
    finish linux "Linux powers off"
fi

! grep -q 'booting it again' "$T/pvd.log"
ok $? "pvd never had to boot the machine again"
kill -TERM "$pid"; wait "$pid"; rc=$?; pid=
ok $rc "pvd stops on SIGTERM"
exit $fail
