# Shared helpers for the `make test-xen` scripts (sourced, POSIX sh).
#
# Owns: getting Debian's Xen 4.17 hypervisor and Xen headers without
# installing them (apt-get download + dpkg -x under $BUILD/xen), and
# booting one PV test kernel as dom0 of that Xen under QEMU/TCG, stopping
# QEMU as soon as Xen reports the end of dom0.

BUILD=${BUILD:-build}
XEN_DIR="$BUILD/xen"
XEN_GZ="$XEN_DIR/root/boot/xen-4.17-amd64.gz"
XEN_INCLUDE="$XEN_DIR/root/usr/include"
XEN_LOGS="$BUILD/test-logs/xen"

# xen_fetch PACKAGE: unpack a Debian package into $XEN_DIR/root once.
# Prints the reason and fails when the package cannot be had.
xen_fetch() {
    pkg=$1
    stamp="$XEN_DIR/.have-$pkg"
    [ -f "$stamp" ] && return 0
    mkdir -p "$XEN_DIR/debs" "$XEN_DIR/root"
    if ! ls "$XEN_DIR/debs/${pkg}_"*.deb >/dev/null 2>&1; then
        ( cd "$XEN_DIR/debs" && apt-get download "$pkg" ) >"$XEN_DIR/fetch-$pkg.log" 2>&1 ||
        { [ "$(id -u)" = 0 ] && apt-get update -q >>"$XEN_DIR/fetch-$pkg.log" 2>&1 &&
          ( cd "$XEN_DIR/debs" && apt-get download "$pkg" ) >>"$XEN_DIR/fetch-$pkg.log" 2>&1; } ||
        { echo "apt-get download $pkg failed (see $XEN_DIR/fetch-$pkg.log)"; return 1; }
    fi
    dpkg -x "$XEN_DIR/debs/${pkg}_"*.deb "$XEN_DIR/root" ||
        { echo "dpkg -x of $pkg failed"; return 1; }
    touch "$stamp"
}

# xen_boot NAME ELF SECONDS [GUEST_CMDLINE [VCPUS]]: boot ELF as dom0 (with
# VCPUS vCPUs on as many QEMU CPUs, default 1); the serial log is left in
# $XEN_LOGS/NAME.log. Returns 0 when Xen reported dom0's end, 1 on timeout.
# Optional: XEN_DOM0_OPTS (Xen's dom0 options), XEN_RAMDISK (a second
# module: dom0's initrd), XEN_QEMU_CPU, XEN_SMP (QEMU CPUs), XEN_QEMU_EXTRA
# (more QEMU options, split on blanks).
xen_boot() {
    name=$1 elf=$2 secs=$3 cmdline=${4:-} vcpus=${5:-1}
    mkdir -p "$XEN_LOGS" "$XEN_DIR/iso"
    cfg="$XEN_DIR/iso/$name.cfg" iso="$XEN_DIR/iso/$name.iso" log="$XEN_LOGS/$name.log"
    cat >"$cfg" <<CFG
serial --unit=0 --speed=115200
terminal_input serial
terminal_output serial
set timeout=0
menuentry pvcore-$name {
    multiboot2 /boot/xen.gz console=com1 com1=115200,8n1 ${XEN_DOM0_OPTS:-dom0_mem=64M,max:64M dom0_max_vcpus=$vcpus} noreboot loglvl=all guest_loglvl=all
    module2 /boot/guest.elf $cmdline
${XEN_RAMDISK:+    module2 /boot/ramdisk}
}
CFG
    sh tests/lib/mkiso.sh "$iso" "$cfg" "$XEN_GZ=/boot/xen.gz" "$elf=/boot/guest.elf" \
        ${XEN_RAMDISK:+"$XEN_RAMDISK=/boot/ramdisk"} || return 1
    rm -f "$log"
    qemu-system-x86_64 -accel tcg -machine pc -cpu "${XEN_QEMU_CPU:-max}" -m 512 -smp "${XEN_SMP:-$vcpus}" \
        -nographic -no-reboot -nic none -monitor none ${XEN_QEMU_EXTRA:-} \
        -cdrom "$iso" -boot d -serial "file:$log" </dev/null >/dev/null 2>&1 &
    qpid=$!
    t=0 rc=1
    while [ "$t" -lt "$secs" ]; do
        sleep 1
        t=$((t + 1))
        kill -0 "$qpid" 2>/dev/null || { rc=0; break; }
        if grep -qE "Hardware Dom0 (halted|crashed|shutdown)|Panic on CPU|'noreboot' set" "$log" 2>/dev/null; then
            sleep 1     # let the last lines reach the log
            rc=0
            break
        fi
    done
    kill "$qpid" 2>/dev/null
    wait "$qpid" 2>/dev/null
    echo "booted $name in ${t}s" >>"$log.time"
    return $rc
}
