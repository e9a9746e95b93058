# Shared helpers for `make test-linux` and `make test-linux-xen` (sourced,
# POSIX sh).
#
# Owns: getting Debian 12's current Linux kernel package and busybox-static
# with `apt-get download` into a cache outside the clone
# ($PVCORE_CACHE, default /var/cache/pvcore: debs/ holds the packages,
# linux-<version>/ and busybox-<version>/ their unpacked trees), reused by
# every run and every clone; and building the test initramfs from them.
# Nothing is installed on the host.
#
# After linux_fetch: LINUX_VERSION (e.g. 6.1.0-57-amd64), LINUX_VMLINUZ (the
# bzImage as shipped), LINUX_PKG (the package file name), BUSYBOX (the
# static binary).

PVCORE_CACHE=${PVCORE_CACHE:-/var/cache/pvcore}
LINUX_DEBS="$PVCORE_CACHE/debs"

# linux_download PKG: the .deb of PKG's candidate version in $LINUX_DEBS
# (downloaded once). Prints the file name; fails printing why.
linux_download() {
    pkg=$1
    ver=$(apt-cache policy "$pkg" 2>/dev/null | awk '/Candidate:/ { print $2 }')
    if [ -z "$ver" ] || [ "$ver" = "(none)" ]; then
        echo "apt-cache knows no candidate version of $pkg (apt-get update?)"; return 1
    fi
    # apt-get download writes the epoch's ':' as '%3a'.
    file="$LINUX_DEBS/${pkg}_$(echo "$ver" | sed 's/:/%3a/')_amd64.deb"
    if [ ! -s "$file" ]; then
        mkdir -p "$LINUX_DEBS" || { echo "cannot create $LINUX_DEBS"; return 1; }
        ( cd "$LINUX_DEBS" && apt-get download "$pkg=$ver" ) >"$LINUX_DEBS/fetch-$pkg.log" 2>&1 ||
            { echo "apt-get download $pkg=$ver failed (see $LINUX_DEBS/fetch-$pkg.log)"; return 1; }
    fi
    echo "$file"
}

# linux_unpack DEB DIR: dpkg -x DEB into DIR once.
linux_unpack() {
    [ -f "$2/.unpacked" ] && return 0
    rm -rf "$2.tmp" && mkdir -p "$2.tmp" && dpkg -x "$1" "$2.tmp" &&
        touch "$2.tmp/.unpacked" && rm -rf "$2" && mv "$2.tmp" "$2" ||
        { echo "dpkg -x $1 failed"; return 1; }
}

# linux_fetch: Debian's current linux-image-6.1.0-*-amd64 (the one the
# metapackage linux-image-amd64 depends on now) and busybox-static.
# Prints why and fails when either cannot be had.
linux_fetch() {
    LINUX_PKG=$(apt-cache depends linux-image-amd64 2>/dev/null |
                awk '/Depends: linux-image-[0-9.]+-[0-9]+-amd64$/ { print $2; exit }')
    [ -n "$LINUX_PKG" ] ||
        { echo "apt-cache: linux-image-amd64 depends on no linux-image-*-amd64 (apt-get update?)"; return 1; }
    LINUX_VERSION=${LINUX_PKG#linux-image-}
    deb=$(linux_download "$LINUX_PKG") || { echo "$deb"; return 1; }
    linux_unpack "$deb" "$PVCORE_CACHE/linux-$LINUX_VERSION" || return 1
    LINUX_VMLINUZ="$PVCORE_CACHE/linux-$LINUX_VERSION/boot/vmlinuz-$LINUX_VERSION"
    [ -s "$LINUX_VMLINUZ" ] || { echo "$LINUX_PKG has no /boot/vmlinuz-$LINUX_VERSION"; return 1; }
    bdeb=$(linux_download busybox-static) || { echo "$bdeb"; return 1; }
    bdir="$PVCORE_CACHE/busybox-$(basename "$bdeb" .deb)"
    linux_unpack "$bdeb" "$bdir" || return 1
    BUSYBOX="$bdir/bin/busybox"
    [ -x "$BUSYBOX" ] || { echo "busybox-static has no /bin/busybox"; return 1; }
}

# linux_initramfs OUT [INIT [SRC=DST...]]: a gzip'd cpio (newc) with busybox
# and the test /init (INIT, default tests/linux/init.sh), plus each SRC
# copied to DST in the image.
linux_initramfs() {
    out=$1
    init=${2:-tests/linux/init.sh}
    [ $# -ge 2 ] && shift 2 || shift $#
    root=$(mktemp -d "${TMPDIR:-/tmp}/pvcore-initramfs.XXXXXX") || return 1
    mkdir -p "$root/bin" "$root/proc" "$root/sys" "$root/dev" "$root/tmp"
    cp "$BUSYBOX" "$root/bin/busybox"
    ln -s busybox "$root/bin/sh"
    cp "$init" "$root/init"
    cp tests/linux/blk.sh "$root/blk.sh"
    # the block device case's modules (blk.sh; netfront: hotplug.sh), when unpacked
    kmod="$PVCORE_CACHE/linux-${LINUX_VERSION:-none}/lib/modules/${LINUX_VERSION:-none}/kernel"
    if [ -d "$kmod" ]; then
        mkdir -p "$root/modules"
        for m in drivers/block/xen-blkfront drivers/net/xen-netfront lib/crc16 fs/mbcache fs/jbd2/jbd2 crypto/crc32c_generic fs/ext4/ext4; do
            cp "$kmod/$m.ko" "$root/modules/" 2>/dev/null
        done
    fi
    chmod 755 "$root/init"
    for f in "$@"; do
        mkdir -p "$root/$(dirname "${f#*=}")" && cp "${f%%=*}" "$root/${f#*=}" ||
            { rm -rf "$root"; echo "cannot add ${f%%=*} to the initramfs"; return 1; }
    done
    mkdir -p "$(dirname "$out")"
    ( cd "$root" && find . | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0 ) | gzip -9 -n >"$out.tmp" ||
        { rm -rf "$root"; echo "cpio of the initramfs failed"; return 1; }
    rm -rf "$root"
    mv "$out.tmp" "$out"
}
