#!/bin/sh
# `make install DESTDIR=...` lays out pvd, pvctl, schemas, the API document,
# the unit, the config, man pages and completion; the installed pvd works.
set -u
d=$(mktemp -d "${TMPDIR:-/tmp}/pvd-install.XXXXXX")
trap 'rm -rf "$d"' EXIT
if make --no-print-directory install DESTDIR="$d" PREFIX=/usr >"$d.log" 2>&1; then
    echo "ok - make install DESTDIR=... succeeds"
else
    echo "not ok - make install DESTDIR=... succeeds: $(tail -5 "$d.log")"
fi
rm -f "$d.log"
for f in usr/sbin/pvd usr/bin/pvctl usr/share/pvcore/schemas/domain.schema.json usr/share/pvcore/schemas/domain.rng \
         usr/share/pvcore/schemas/001-initial.sql usr/share/pvcore/api/pvd.openrpc.json \
         lib/systemd/system/pvd.service etc/pvd/pvd.conf usr/share/man/man1/pvctl.1 usr/share/man/man8/pvd.8 \
         usr/share/bash-completion/completions/pvctl usr/lib/libpvdclient.a usr/include/pvdclient.h \
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
"$d/usr/sbin/pvd" --config "$d/etc/pvd/pvd.conf" --check-config "$d/usr/share/doc/pvcore/examples/hello.json" \
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
