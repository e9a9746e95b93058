#!/bin/sh
# Build a bootable GRUB (BIOS, multiboot2) ISO.
# Usage: mkiso.sh OUT.iso GRUB.CFG [SRC=ISO_PATH]...
#   GRUB.CFG is copied to /boot/grub/grub.cfg; each SRC file is copied to
#   ISO_PATH inside the image (e.g. build/hypervisor/pvcore.elf=/boot/pvcore.elf).
set -eu
out=$1; cfg=$2; shift 2
root=$(mktemp -d "${TMPDIR:-/tmp}/pvcore-iso.XXXXXX")
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/boot/grub"
cp "$cfg" "$root/boot/grub/grub.cfg"
for spec in "$@"; do
    src=${spec%%=*}; dst=${spec#*=}
    mkdir -p "$root/$(dirname "$dst")"
    cp "$src" "$root/$dst"
done
mkdir -p "$(dirname "$out")"
# Only the BIOS platform: keeps the image small and the build quick.
grub-mkrescue -d /usr/lib/grub/i386-pc -o "$out.tmp" "$root" >"$out.log" 2>&1 ||
    { cat "$out.log" >&2; exit 1; }
mv "$out.tmp" "$out"
