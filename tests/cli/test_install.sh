#!/bin/sh
# `make install DESTDIR=...` lays out pvd, pvctl, the ISO, the guests,
# schemas, the API document, the units, the config, man pages and
# completion; it builds the ISO and guests first and fails when something
# is missing; the installed examples and pvd.conf name installed files;
# the installed pvd works, and refuses to run without a machine image.
set -u
d=$(mktemp -d "${TMPDIR:-/tmp}/pvd-install.XXXXXX")
trap 'rm -rf "$d"' EXIT
if make --no-print-directory install BUILD="${BUILD:-build}" DESTDIR="$d" PREFIX=/usr >"$d.log" 2>&1; then
    echo "ok - make install DESTDIR=... succeeds"
else
    echo "not ok - make install DESTDIR=... succeeds: $(tail -5 "$d.log")"
fi
rm -f "$d.log"
for f in usr/share/pvcore/pvcore.iso usr/lib/pvcore/pvcore.elf etc/grub.d/42_pvcore usr/lib/pvcore/guests/hello.elf usr/lib/pvcore/guests/ticker.elf \
         usr/sbin/pvd usr/bin/pvctl usr/bin/pvcore-extract-kernel usr/share/pvcore/schemas/domain.schema.json usr/share/pvcore/schemas/domain.rng \
         usr/share/pvcore/schemas/001-initial.sql usr/share/pvcore/api/pvd.openrpc.json \
         lib/systemd/system/pvd.service etc/pvd/pvd.conf usr/share/man/man1/pvctl.1 usr/share/man/man8/pvd.8 \
         usr/share/bash-completion/completions/pvctl usr/lib/libpvdclient.a usr/include/pvdclient.h \
         usr/share/pvcore/python/pvdclient.py \
         usr/share/doc/pvcore/examples/hello.json lib/systemd/system/pvd-guests.service \
         usr/libexec/pvcore/pvd-guests etc/default/pvd-guests usr/share/man/man8/pvd-guests.8; do
    [ -f "$d/$f" ] && echo "ok - installs /$f" || echo "not ok - installs /$f: missing"
done
grep -q '^ExecStart=/usr/sbin/pvd ' "$d/lib/systemd/system/pvd.service" &&
    grep -q '^Type=notify' "$d/lib/systemd/system/pvd.service" &&
    grep -q '^RuntimeDirectory=pvd' "$d/lib/systemd/system/pvd.service" &&
    grep -q '^StateDirectory=pvd' "$d/lib/systemd/system/pvd.service" &&
    echo "ok - the unit runs /usr/sbin/pvd, Type=notify, with runtime and state directories" ||
    echo "not ok - the unit runs /usr/sbin/pvd, Type=notify, with runtime and state directories"
# --check-config also opens the kernel the config names: the installed
# example names /usr/lib/pvcore/guests/..., which lies under $d here
sed "s|\"/usr/lib/pvcore/|\"$d/usr/lib/pvcore/|" "$d/usr/share/doc/pvcore/examples/hello.json" >"$d/hello-here.json"
"$d/usr/sbin/pvd" --config "$d/etc/pvd/pvd.conf" --check-config "$d/hello-here.json" \
    >/dev/null 2>&1 && echo "ok - installed pvd reads the installed pvd.conf and checks a config" ||
    echo "not ok - installed pvd reads the installed pvd.conf and checks a config"
bash -n "$d/usr/share/bash-completion/completions/pvctl" 2>/dev/null &&
    echo "ok - the bash completion parses" || echo "not ok - the bash completion parses: bash -n failed"
if command -v man >/dev/null 2>&1; then
    for m in usr/share/man/man1/pvctl.1 usr/share/man/man8/pvd.8 usr/share/man/man8/pvd-guests.8; do
        out=$(MANWIDTH=80 man -l "$d/$m" 2>&1 >/dev/null)
        [ -z "$out" ] && echo "ok - $m renders without warnings" || echo "not ok - $m renders: $out"
    done
fi
for f in hello.json hello.xml; do
    k=$(sed -n 's|.*[">]\(/[^"<]*\.elf\)[<"].*|\1|p' "$d/usr/share/doc/pvcore/examples/$f")
    [ "$k" = /usr/lib/pvcore/guests/hello.elf ] && [ -f "$d$k" ] &&
        echo "ok - the installed example $f names the installed guest" ||
        echo "not ok - the installed example $f names the installed guest: kernel \"$k\""
done
PVCORE_PYTHON="$d/usr/share/pvcore/python" python3 "$d/usr/share/doc/pvcore/examples/orchestrate.py" --help \
    >/dev/null 2>&1 && grep -q '"/usr/share/pvcore/python"' "$d/usr/share/doc/pvcore/examples/orchestrate.py" &&
    echo "ok - the installed orchestrate.py imports the installed pvdclient module" ||
    echo "not ok - the installed orchestrate.py imports the installed pvdclient module"
grep -qx 'iso = /usr/share/pvcore/pvcore.iso' "$d/etc/pvd/pvd.conf" &&
    echo "ok - the installed pvd.conf names the installed ISO" ||
    echo "not ok - the installed pvd.conf names the installed ISO: $(grep iso "$d/etc/pvd/pvd.conf")"
# on a fresh build dir, install builds the ISO and the guests before installing
e=$(mktemp -d "${TMPDIR:-/tmp}/pvd-install-build.XXXXXX")
plan=$(make --no-print-directory -n install BUILD="$e" DESTDIR="$d/fresh" 2>&1)
iso_at=$(echo "$plan" | grep -n "mkiso.sh $e/pvcore.iso" | head -1 | cut -d: -f1)
elf_at=$(echo "$plan" | grep -n -- "-o $e/guests/hello.elf" | head -1 | cut -d: -f1)
inst_at=$(echo "$plan" | grep -n "install -m 0644 $e/pvcore.iso" | head -1 | cut -d: -f1)
rm -rf "$e"
[ -n "$iso_at" ] && [ -n "$elf_at" ] && [ -n "$inst_at" ] && [ "$iso_at" -lt "$inst_at" ] && [ "$elf_at" -lt "$inst_at" ] &&
    echo "ok - make install on a fresh build dir builds the ISO and guests first" ||
    echo "not ok - make install on a fresh build dir builds the ISO and guests first: iso $iso_at, elf $elf_at, install $inst_at"
# a guest the examples need that is not there: install fails and names it
out=$(make --no-print-directory install BUILD="${BUILD:-build}" DESTDIR="$d/partial" GUEST_ELFS="${BUILD:-build}/guests/ticker.elf" 2>&1)
[ $? -ne 0 ] && echo "$out" | grep -q "kernel /usr/lib/pvcore/guests/hello.elf is not installed" &&
    echo "ok - make install fails when a guest the examples name is missing" ||
    echo "not ok - make install fails when a guest the examples name is missing: $(echo "$out" | tail -2)"
# no machine image: pvd exits 1 saying so (unless --no-machine)
if [ -e /usr/share/pvcore/pvcore.iso ]; then
    echo "ok - pvd without an ISO exits 1 # SKIP /usr/share/pvcore/pvcore.iso exists on this host"
else
    out=$(cd "$d" && timeout 30 "$d/usr/sbin/pvd" --config /dev/null --state-dir "$d/state" --socket "$d/pvd.sock" 2>&1)
    rc=$?
    [ $rc -eq 1 ] && echo "$out" | grep -q "no hypervisor ISO.*--no-machine" &&
        echo "ok - pvd without an ISO exits 1, naming --iso and --no-machine" ||
        echo "not ok - pvd without an ISO exits 1, naming --iso and --no-machine: rc $rc: $out"
fi
