# Shared helpers for the PV GRUB tests (sourced, POSIX sh, after
# tests/linux/linux-env.sh, whose cache and download helpers they use).
#
# GRUB's Xen PV port is a guest written independently of pvcore: it uses
# the PV console ring, xenstore (it lists device/vbd at start), grant
# tables and event channels, and its `linux` command is PV-GRUB (it loads
# a PV kernel into its own domain and starts it). Debian 12 ships it:
# grub-xen-host has the prebuilt image /usr/lib/grub-xen/grub-x86_64-xen.bin
# (the one xl users boot as `kernel`), grub-xen-bin the x86_64-xen modules
# that grub-mkimage (grub-common, a build dependency of the project)
# assembles into images of our own. Both go to $PVCORE_CACHE with
# `apt-get download` and are unpacked with `dpkg -x`; nothing is installed.
#
# After grub_fetch: GRUB_SHIPPED (the prebuilt image), GRUB_MODDIR (the
# x86_64-xen modules), GRUB_VERSION.

# grub_fetch: both packages, at the version of the installed grub-common
# when the archive has it (grub-mkimage and the modules must match), else
# the candidate. Prints why and fails when they cannot be had.
grub_fetch() {
    command -v grub-mkimage >/dev/null 2>&1 || { echo "grub-mkimage is missing (grub-common)"; return 1; }
    GRUB_VERSION=$(dpkg-query -W -f '${Version}' grub-common 2>/dev/null)
    ver=$(apt-cache policy grub-xen-bin 2>/dev/null | awk '/Candidate:/ { print $2 }')
    [ -n "$ver" ] && [ "$ver" != "(none)" ] ||
        { echo "apt-cache knows no candidate version of grub-xen-bin (apt-get update?)"; return 1; }
    [ -n "$GRUB_VERSION" ] && [ "$GRUB_VERSION" != "$ver" ] &&
        echo "# grub-common is $GRUB_VERSION, grub-xen-bin's candidate $ver" >&2
    for p in grub-xen-bin grub-xen-host; do
        deb=$(linux_download "$p") || { echo "$deb"; return 1; }
        linux_unpack "$deb" "$PVCORE_CACHE/$(basename "$deb" .deb)" || return 1
        eval "GRUB_DIR_$(echo "$p" | tr - _)=\"$PVCORE_CACHE/$(basename "$deb" .deb)\""
    done
    GRUB_VERSION=$ver
    GRUB_MODDIR="$GRUB_DIR_grub_xen_bin/usr/lib/grub/x86_64-xen"
    GRUB_SHIPPED="$GRUB_DIR_grub_xen_host/usr/lib/grub-xen/grub-x86_64-xen.bin"
    [ -f "$GRUB_MODDIR/kernel.img" ] || { echo "grub-xen-bin has no x86_64-xen/kernel.img"; return 1; }
    [ -s "$GRUB_SHIPPED" ] || { echo "grub-xen-host has no grub-x86_64-xen.bin"; return 1; }
}

# grub_image OUT CONFIG [MEMDISK_TAR]: a 64-bit PV GRUB (grub-mkimage -O
# x86_64-xen) with CONFIG embedded as its early config, and the modules
# the test configs use; with MEMDISK_TAR, that tar as (memdisk).
grub_image() {
    out=$1 cfg=$2 md=${3:-}
    grub-mkimage -O x86_64-xen -d "$GRUB_MODDIR" -c "$cfg" -o "$out" \
        ${md:+-m "$md"} -p "${md:+(memdisk)}/boot/grub" \
        echo ls lsxen halt normal memdisk tar linux gzio xzio 2>&1
}

# The marker guest's embedded config: what it finds in its domain (its
# disks, its xenstore home, device/, its name and domid), each after a
# "PVCORE-GRUB: <what>:" line, then "PVCORE-GRUB: done" and `halt`, which
# on Xen is SCHEDOP_shutdown(poweroff).
grub_marker_cfg() {
    cat <<'CFG'
echo "PVCORE-GRUB: start"
echo "PVCORE-GRUB: disks:"
ls
echo
echo "PVCORE-GRUB: home:"
xen_ls
echo "PVCORE-GRUB: device:"
xen_ls device
echo "PVCORE-GRUB: name:"
xen_cat name
echo
echo "PVCORE-GRUB: domid:"
xen_cat domid
echo
echo "PVCORE-GRUB: done"
halt
CFG
}

# The PV-GRUB config: boot the kernel and initramfs of the memdisk.
grub_linux_cfg() {
    cat <<'CFG'
echo "PVCORE-GRUB: loading linux"
linux (memdisk)/boot/vmlinuz console=hvc0 earlyprintk=xen loglevel=4
initrd (memdisk)/boot/initrd.gz
echo "PVCORE-GRUB: booting linux"
boot
echo "PVCORE-GRUB: boot failed"
halt
CFG
}

# grub_clean < CONSOLE: the console text without GRUB's terminal escapes
# and CRs (GRUB ends lines with LF CR), raw or as pvctl console shows them
# (every byte outside printable ASCII as '?').
grub_clean() {
    tr -d '\r' | sed 's/\(\x1b\|?\)\[[0-9;?]*[A-Za-z]//g; s/^?*//; s/?*$//'
}

# grub_after WHAT < CLEAN_CONSOLE: the lines after "PVCORE-GRUB: WHAT:" up
# to the next PVCORE-GRUB line, blank lines dropped, joined with spaces.
grub_after() {
    awk -v m="PVCORE-GRUB: $1:" 'index($0, "PVCORE-GRUB: ") == 1 { on = ($0 == m); next }
        on && NF { printf "%s%s", sep, $0; sep = " " } END { print "" }'
}
