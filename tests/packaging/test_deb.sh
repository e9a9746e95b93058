#!/bin/sh
# `make deb` builds pvcore_VERSION_amd64.deb with debhelper; lintian reports
# no error or warning (packaging/debian/README explains what is left);
# the package installs into a fresh root with `dpkg --root` (its maintainer
# scripts run there, chrooted: the root gets a shell and the libraries its
# Depends name, copied from this host) and removes and purges cleanly; in
# that root `pvd --version` and `pvctl --version` run, pvd checks the
# installed example, which names an installed guest, and the GRUB snippet
# writes a menu entry GRUB can parse. Needs root (chroot). Prints TAP lines.
set -u
BUILD=${BUILD:-build}
if [ "$(id -u)" -ne 0 ]; then
    echo "ok - make deb installs into a fresh root # SKIP needs root for dpkg --root and chroot"
    exit 0
fi
for tool in dpkg-buildpackage dh lintian; do
    if ! command -v $tool >/dev/null 2>&1; then
        echo "not ok - $tool is installed (apt-get install debhelper lintian)"
        exit 1
    fi
done
log=$(mktemp)
start=$(date +%s)
if make --no-print-directory deb BUILD="$BUILD" >"$log" 2>&1; then
    echo "ok - make deb ($(($(date +%s) - start)) s)"
else
    echo "not ok - make deb: $(tail -20 "$log")"
    rm -f "$log"
    exit 1
fi
rm -f "$log"
deb=$(ls "$BUILD"/deb/pvcore_*_amd64.deb)
[ -f "$deb" ] && echo "ok - the package is $deb" || { echo "not ok - no $BUILD/deb/pvcore_*_amd64.deb"; exit 1; }

tags=$(lintian --pedantic "$deb" 2>/dev/null | grep -E '^[EW]: ')
[ -z "$tags" ] && echo "ok - lintian: no error or warning" || echo "not ok - lintian: $tags"

# a fresh root: an empty dpkg database, a shell for the maintainer scripts,
# and the libraries of pvd and pvctl (what Depends would bring)
r=$(mktemp -d "${TMPDIR:-/tmp}/pvcore-root.XXXXXX")
trap 'rm -rf "$r"' EXIT
mkdir -p "$r/var/lib/dpkg/info" "$r/var/lib/dpkg/updates" "$r/var/lib/dpkg/triggers" "$r/bin" "$r/tmp" \
    "$r/usr/bin" "$r/dev"
: >"$r/var/lib/dpkg/status"
: >"$r/var/lib/dpkg/available"
cp /bin/dash "$r/bin/sh"
x=$(mktemp -d)
dpkg-deb -x "$deb" "$x"
for f in /bin/dash "$x/usr/sbin/pvd" "$x/usr/bin/pvctl"; do
    ldd "$f" | sed -n 's|.*=> \(/[^ ]*\) .*|\1|p; s|^[[:space:]]*\(/[^ ]*\) .*|\1|p'
done | sort -u | while read -r lib; do
    mkdir -p "$r$(dirname "$lib")" && cp -L "$lib" "$r$lib"
done
rm -rf "$x"
if out=$(dpkg --root="$r" --force-depends -i "$deb" 2>&1); then
    echo "ok - dpkg --root installs the package into a fresh root (maintainer scripts run)"
else
    echo "not ok - dpkg --root installs the package into a fresh root: $out"
fi
st=$(dpkg --root="$r" -s pvcore 2>/dev/null | sed -n 's/^Status: //p')
[ "$st" = "install ok installed" ] && echo "ok - dpkg says pvcore is installed" ||
    echo "not ok - dpkg says pvcore is installed: \"$st\""
v=$(chroot "$r" /usr/sbin/pvd --version 2>&1)
[ "$v" = "pvd 0.1.0" ] && echo "ok - pvd --version runs in the root: $v" || echo "not ok - pvd --version in the root: $v"
v=$(chroot "$r" /usr/bin/pvctl --version 2>&1)
[ "$v" = "pvctl 0.1.0" ] && echo "ok - pvctl --version runs in the root" || echo "not ok - pvctl --version: $v"
for f in usr/share/pvcore/pvcore.iso usr/lib/pvcore/pvcore.elf usr/lib/pvcore/guests/hello.elf \
         usr/share/pvcore/schemas/domain.schema.json usr/share/pvcore/api/pvd.openrpc.json \
         lib/systemd/system/pvd.service lib/systemd/system/pvd-guests.service usr/libexec/pvcore/pvd-guests \
         etc/default/pvd-guests etc/pvd/pvd.conf etc/grub.d/42_pvcore usr/share/man/man1/pvctl.1.gz \
         usr/share/man/man8/pvd.8.gz usr/share/man/man8/pvd-guests.8.gz \
         usr/share/bash-completion/completions/pvctl usr/share/doc/pvcore/copyright; do
    [ -f "$r/$f" ] && echo "ok - installs /$f" || echo "not ok - installs /$f: missing"
done
conf=$(dpkg-query --admindir="$r/var/lib/dpkg" -W -f='${Conffiles}' pvcore | awk '{print $1}' | sort | tr '\n' ' ')
[ "$conf" = "/etc/default/pvd-guests /etc/grub.d/42_pvcore /etc/pvd/pvd.conf " ] &&
    echo "ok - the files under /etc are conffiles" || echo "not ok - conffiles: $conf"
out=$(chroot "$r" /usr/sbin/pvd --config /etc/pvd/pvd.conf --check-config /usr/share/doc/pvcore/examples/hello.json 2>&1)
rc=$?
k=$(sed -n 's|.*"kernel": "\([^"]*\)".*|\1|p' "$r/usr/share/doc/pvcore/examples/hello.json")
[ $rc -eq 0 ] && echo "$out" | grep -q valid && [ -n "$k" ] && [ -f "$r$k" ] &&
    echo "ok - in the root, pvd checks the example, whose kernel $k is installed" ||
    echo "not ok - in the root, pvd checks the example ($k): $out"
if command -v grub-script-check >/dev/null 2>&1 && [ -f /usr/share/grub/grub-mkconfig_lib ]; then
    d=$(mktemp -d)
    printf 'PVCORE_GRUB_HYPERVISOR=%s\nPVCORE_GRUB_GUESTS="%s name=hello mem=32M -- name=hello"\n' \
        "$r/usr/lib/pvcore/pvcore.elf" "$r/usr/lib/pvcore/guests/hello.elf" >"$d/defaults"
    PVCORE_GRUB_DEFAULTS="$d/defaults" sh "$r/etc/grub.d/42_pvcore" >"$d/grub.cfg" 2>/dev/null
    grep -q "multiboot2.*pvcore.elf loglevel=info" "$d/grub.cfg" && grep -q "module2.*hello.elf name=hello" "$d/grub.cfg" &&
        grub-script-check "$d/grub.cfg" &&
        echo "ok - the GRUB snippet writes a menu entry with the hypervisor and a guest that GRUB parses" ||
        echo "not ok - the GRUB snippet: $(cat "$d/grub.cfg")"
    rm -rf "$d"
else
    echo "ok - the GRUB snippet # SKIP no grub-common here"
fi
if out=$(dpkg --root="$r" --purge pvcore 2>&1) && [ ! -e "$r/usr/sbin/pvd" ] && [ ! -e "$r/etc/pvd/pvd.conf" ]; then
    echo "ok - dpkg --root --purge removes it, conffiles too"
else
    echo "not ok - dpkg --root --purge: $out"
fi
