#!/bin/sh
# `make test-linux`: Debian 12's own Linux kernel on pvcore, through pvd and
# pvctl create, the way an operator would run it (TAP).
#
# pvd boots the machine (2 CPUs, 1 GiB) from an ISO like build/pvcore.iso
# but with loglevel=debug, so that the hypervisor log in the state dir says
# how many frames are free after each domain is destroyed. A probe domain
# (build/guests/hello.elf, 1 vCPU, created and destroyed) gives the
# baseline of free frames. Then, for each case:
#   shipped   the vmlinuz as Debian ships it, 1 vCPU, 128 MiB
#   vcpus2    the same with vcpus=2
#   blk       a 64 MiB disk: ext2 written; the domain started again with
#             it read-only and a second disk with a 16 MiB quota: the files
#             read back intact, a write refused, the quota case
#             (blk_check_case below; tests/linux/blk.sh, the checks are
#             its result lines)
# with the initramfs of tests/linux/init.sh, the checks are: pvctl create
# succeeds; the console shows "PVCORE-LINUX-RESULT: ok procs=100 cpus=<N>";
# the domain shut down with reason poweroff; the hypervisor logged no
# warning or error meanwhile; pvd did not have to boot the machine again
# (it does when the machine stops answering); and, once it is gone, the
# probe domain run again leaves exactly the baseline of free frames (the
# count is logged before a domain's own vCPU structures are freed, so only
# domains of the same shape compare).
# Skipped only when a package cannot be downloaded (the reason is printed).
# LINUX_BOOT_TIMEOUT (default 300 s) bounds each boot; LINUX_CASES picks
# cases (e.g. "vcpus2:2").
set -u
BUILD=${BUILD:-build}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1
. tests/linux/linux-env.sh
PVD=${PVD:-$BUILD/bin/pvd}
TIMEOUT=${LINUX_BOOT_TIMEOUT:-300}
CASES=${LINUX_CASES:-"shipped:1 vcpus2:2 blk:1"}
. tests/linux/linux-harness.sh
linux_harness linux

if ! why=$(linux_fetch); then
    for c in $CASES; do echo "ok - linux on pvcore: ${c%%:*} # SKIP $why"; done
    exit 0
fi
linux_fetch >/dev/null
echo "# $LINUX_PKG ($LINUX_VMLINUZ)"
linux_initramfs "$T/initramfs.cpio.gz" || { echo "not ok - building the initramfs"; exit 1; }

# The machine's ISO, with the destroy-time free-frame count in the log.
printf '%s\n' 'serial --unit=0 --speed=115200' 'terminal_input serial' \
    'terminal_output serial' 'set timeout=0' 'menuentry "pvcore" {' \
    '  multiboot2 /boot/pvcore.elf loglevel=debug' '  boot' '}' >"$T/grub.cfg"
sh tests/lib/mkiso.sh "$T/pvcore.iso" "$T/grub.cfg" "$BUILD/hypervisor/pvcore.elf=/boot/pvcore.elf" ||
    { echo "not ok - building the machine's ISO"; exit 1; }

"$PVD" --config /dev/null --state-dir "$T/state" --socket "$T/pvd.sock" --iso "$T/pvcore.iso" \
    --cpus 2 --machine-mem 1024 --image-dir "$(dirname "$LINUX_VMLINUZ")" --image-dir "$T" \
    --image-dir "$ROOT/$BUILD/guests" >>"$T/pvd.log" 2>&1 &
pid=$!
i=0
while ! $PVCTL version >/dev/null 2>&1; do
    i=$((i + 1))
    if ! kill -0 "$pid" 2>/dev/null || [ $i -gt 600 ]; then
        echo "not ok - pvd starts and boots the machine (log: $KEEP/pvd.log)"; exit 1
    fi
    sleep 0.1
done
echo "ok - pvd starts and boots the machine (2 CPUs, 1 GiB)"

. tests/lib/wait.sh
. tests/lib/frames.sh
# How often pvd has booted the machine again (it does when the machine
# stops answering; the hypervisor log then starts over).
reboot_count() { grep -ac 'machine: booting it again' "$T/pvd.log"; }
console_has() { $PVCTL console "$1" --no-follow 2>/dev/null | tr -d '\r' | grep -aq "$2"; }

# The virtual block device case (tests/linux/blk.sh), when asked for: xvda
# appears, an ext2 filesystem is made and written, read back intact after
# the domain is started again, and the same image attached read-only
# refuses writes.
# blk_run NAME MODE DISK [define options]: prints blk.sh's result line.
blk_run() {
    cat >"$T/$1.json" <<JSON
{"name": "$1", "kernel": "$LINUX_VMLINUZ", "ramdisk": "$T/initramfs.cpio.gz",
 "cmdline": "console=hvc0 loglevel=4 pvtest=$2", "memory": 96, "vcpus": 1,
 "on_poweroff": "destroy", "on_crash": "destroy", "on_reboot": "destroy", "disks": [$3]}
JSON
    $PVCTL define "$T/$1.json" ${4:-} >/dev/null 2>&1 && $PVCTL start "$1" >/dev/null 2>&1 || return 1
    wait_for "$TIMEOUT" is_gone "$1" || $PVCTL destroy "$1" >/dev/null 2>&1
    $PVCTL console "$1" --no-follow >"$T/console-$1.log" 2>&1
    tr -d '\r' <"$T/console-$1.log" | grep -a '^PVCORE-LINUX-BLK:' | tail -n 1
}
# The rest of the virtual block device case (tests/linux/blk.sh,
# blk-check): the domain started again with its disk read-only (the files
# read back intact, a write refused) and a second disk of 64 MiB with a
# 16 MiB quota: the guest's 32 MiB write fails with an I/O error and the
# image stays within 16 MiB; the guest's retried write is refused until
# the quota, raised to 24 MiB while it runs, lets it in; after rm and
# fstrim 20 MiB fit again; pvd's event log has the levels and the refusal.
blk_check_case() {
    name=linux-blk
    cat >"$T/$name.json" <<JSON
{"name": "$name", "kernel": "$LINUX_VMLINUZ", "ramdisk": "$T/initramfs.cpio.gz",
 "cmdline": "console=hvc0 loglevel=4 pvtest=blk-check", "memory": 96, "vcpus": 1,
 "on_poweroff": "destroy", "on_crash": "destroy", "on_reboot": "destroy",
 "disks": [{"name": "root", "size": 64, "readonly": true}, {"name": "q", "size": 64, "quota": 16}]}
JSON
    $PVCTL define "$T/$name.json" --replace >/dev/null 2>&1 && $PVCTL start "$name" >/dev/null 2>&1
    ok $? "linux on pvcore: blk: started again with its disk read-only and a 64 MiB disk with a 16 MiB quota"
    uuid=$($PVCTL info $name --json | python3 -c "import json,sys; print(json.load(sys.stdin)['uuid'])")
    qimg="$T/state/pool/$uuid-q.img"
    wait_for "$TIMEOUT" console_has "$name" '^PVCORE-LINUX-BLK-RETRY 1'
    full=$?
    alloc=$(($(stat -c %b "$qimg") * 512))
    $PVCTL info "$name" >"$T/info.out" 2>&1
    [ "$full" = 0 ] && [ "$alloc" -le $((16 << 20)) ] && [ "$alloc" -ge $((12 << 20)) ]
    ok $? "linux on pvcore: blk quota: the guest's 32 MiB write failed with an I/O error and so did its retry, the image holds $alloc bytes (at most 16 MiB)"
    grep -Eq 'errors \([1-9][0-9]* over quota\)' "$T/info.out" && grep -q 'quota 16 MiB' "$T/info.out"
    ok $? "linux on pvcore: blk quota: pvctl info shows the quota and the refused writes: $(grep -E 'q \(|quota|over' "$T/info.out" | tr -s ' ' | tr '\n' '|')"
    $PVCTL disk-quota "$name" q 24M >/dev/null 2>&1
    ok $? "linux on pvcore: blk quota: pvctl disk-quota raises it to 24 MiB while the guest runs"
    wait_for "$TIMEOUT" is_gone "$name" || $PVCTL destroy "$name" >/dev/null 2>&1
    $PVCTL console "$name" --no-follow >"$T/console-$name.log" 2>&1
    line=$(tr -d '\r' <"$T/console-$name.log" | grep -a '^PVCORE-LINUX-BLK:' | tail -n 1)
    raised=$(tr -d '\r' <"$T/console-$name.log" | grep -a '^PVCORE-LINUX-BLK-RAISED' | tail -n 1)
    echo "$line" | grep -q "^PVCORE-LINUX-BLK: ok blk-check sectors=131072 ro=1"
    ok $? "linux on pvcore: blk: files intact after the restart, a write to the read-only disk refused; the raised quota let the write in (${raised:-no line}), after rm and fstrim 20 MiB fit, the earlier file intact: ${line:-no result line}"
    alloc=$(($(stat -c %b "$qimg") * 512))
    [ "$alloc" -le $((24 << 20)) ]
    ok $? "linux on pvcore: blk quota: the image holds $alloc bytes at the end (at most 24 MiB)"
    levels=$($PVCTL events --domain "$name" --json | python3 -c '
import json, sys
seen = []
for line in sys.stdin:
    e = json.loads(line)
    if e["type"] == "disk.quota": seen.append(str(e["detail"]["level"]))
    if e["type"] == "disk.quota_refused" and "refused" not in seen: seen.append("refused")
    if e["type"] == "domain.disk_quota": seen.append("raised")
print(" ".join(seen))')
    # 100 (full: not one more block fits) when the writes that fit filled it to the block
    case "$levels" in "80 95 100 refused raised"*|"80 95 refused 100 raised"*|"80 95 refused raised"*)
        ok 0 "linux on pvcore: blk quota: events: $levels" ;;
        *) ok 1 "linux on pvcore: blk quota: events 80 95 [100] refused raised ... (got: ${levels:-none})" ;; esac
}

case " $CASES " in *" blk:"*)
    line=$(blk_run linux-blk blk-write '{"name": "root", "size": 64}')
    echo "$line" | grep -q "^PVCORE-LINUX-BLK: ok blk-write sectors=131072 ro=0"
    ok $? "linux on pvcore: blk: xvda (64 MiB) appears, mke2fs and files written: ${line:-no result line}"
    blk_check_case
    ;;
esac

base=$(probe probe-before)
[ -n "$base" ]
ok $? "probe domain (hello.elf) created and destroyed: ${base:-?} frames free"

for c in $CASES; do
    [ "${c%%:*}" = blk ] && continue    # below
    name=linux-${c%%:*} vcpus=${c#*:}
    what="linux on pvcore: ${c%%:*}"
    cat >"$T/$name.json" <<JSON
{"name": "$name", "kernel": "$LINUX_VMLINUZ", "ramdisk": "$T/initramfs.cpio.gz",
 "cmdline": "console=hvc0 earlyprintk=xen", "memory": 128, "vcpus": $vcpus,
 "on_poweroff": "destroy", "on_crash": "destroy", "on_reboot": "destroy"}
JSON
    hv_lines=$(wc -l <"$HVLOG")
    reboots=$(reboot_count)
    started=$(date +%s)
    $PVCTL create "$T/$name.json" >"$T/create.out" 2>&1
    ok $? "$what: pvctl create ($(tr '\n' ' ' <"$T/create.out"))"
    wait_for "$TIMEOUT" is_gone "$name"
    gone=$?
    secs=$(($(date +%s) - started))
    $PVCTL console "$name" --no-follow >"$T/console-$name.log" 2>&1
    line=$(tr -d '\r' <"$T/console-$name.log" | grep -a -m1 '^PVCORE-LINUX-RESULT:' | sed 's/?*$//')
    echo "$line" | grep -q "^PVCORE-LINUX-RESULT: ok procs=100 cpus=$vcpus "
    ok $? "$what: ${line:-no result line on the console} (after ${secs}s; console: $KEEP/console-$name.log)"
    reason=$(shutdown_reason "$name")
    [ "$gone" = 0 ] && [ "$reason" = poweroff ]
    ok $? "$what: shut down with reason poweroff (got '${reason:-none}', gone=$([ "$gone" = 0 ] && echo yes || echo no))"
    [ "$gone" = 0 ] || $PVCTL destroy "$name" >/dev/null 2>&1
    warns=$(tail -n +"$((hv_lines + 1))" "$HVLOG" | tr -d '\r' | grep -a -E '(^|\] )(warn|err): ')
    [ -z "$warns" ]
    ok $? "$what: no hypervisor warning${warns:+: $(echo "$warns" | head -n 3 | tr '\n' ' ')}"
    if [ "$(reboot_count)" = "$reboots" ] &&
       tr -d '\r' <"$HVLOG" | grep -aq "domain [0-9]* ($name) created"; then
        wait_for 60 has_frames_after "$name"
        after=$(probe "probe-after-${c%%:*}")
        [ -n "$base" ] && [ "$after" = "$base" ]
        ok $? "$what: the machine's free frames are back (probe after: ${after:-?}, before: ${base:-?})"
    elif [ "$(reboot_count)" = "$reboots" ]; then
        ok 1 "$what: the machine's free frames are back (no domain was created to give them back)"
    else
        ok 1 "$what: the machine's free frames are back (not measured: the machine was booted again)"
    fi
    if [ "$(reboot_count)" = "$reboots" ]; then
        ok 0 "$what: the machine stayed up"
    else
        ok 1 "$what: the machine stayed up: pvd booted it again after $(grep -a 'machine is not usable' \
            "$T/pvd.log" | tail -n 1 | sed 's/^.*machine is not usable: //')"
        wait_for 120 $PVCTL list    # let the next case start on a machine that answers
    fi
done

# The guest cooperates with the toolstack (xenstore): its tree is there,
# its balloon follows mem-set down and up, and pvctl shutdown powers it off
# through its own orderly power-off.
if [ -n "${LINUX_COOP-yes}" ]; then
    name=linux-coop what="linux on pvcore: cooperative"
    cat >"$T/$name.json" <<JSON
{"name": "$name", "kernel": "$LINUX_VMLINUZ", "ramdisk": "$T/initramfs.cpio.gz",
 "cmdline": "console=hvc0 earlyprintk=xen pvcore_wait", "memory": 128, "maxmem": 128,
 "on_poweroff": "destroy", "on_crash": "destroy", "on_reboot": "destroy"}
JSON
    $PVCTL create "$T/$name.json" >/dev/null 2>&1 && wait_for "$TIMEOUT" console_has "$name" '^PVCORE-LINUX-READY'
    ok $? "$what: boots and waits"
    domid=$($PVCTL info "$name" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["domid"])')
    tree=$($PVCTL xs ls "/local/domain/$domid" 2>&1)
    echo "$tree" | grep -q 'feature-poweroff' && echo "$tree" | grep -q 'target' &&
        echo "$tree" | grep -q 'device'
    ok $? "$what: pvctl xs ls /local/domain/$domid shows its tree with the guest's control/feature-poweroff"
    # console input: through the API, and typed into pvctl console on a terminal
    $PVCTL --version >/dev/null
    python3 - "$T/pvd.sock" "$name" <<'PY' && wait_for 30 console_has "$name" '^PVCORE-INPUT: typed-by-api'
import json, socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
req = {"jsonrpc": "2.0", "id": 1, "method": "domain.console", "params": {"domain": sys.argv[2], "input": "typed-by-api\n"}}
s.sendall(json.dumps(req).encode() + b"\n")
r = json.loads(s.makefile().readline())
sys.exit(0 if r.get("result", {}).get("written") == 13 else 1)
PY
    ok $? "$what: domain.console input reaches the guest (its shell echoes the line back)"
    python3 - "$BUILD/bin/pvctl" "$T/pvd.sock" "$name" <<'PY' && wait_for 30 console_has "$name" '^PVCORE-INPUT: typed-in-pvctl'
import os, pty, select, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], [sys.argv[1], "--socket", sys.argv[2], "console", sys.argv[3]])
time.sleep(2)
os.write(fd, b"typed-in-pvctl\r")
time.sleep(2)
os.write(fd, b"\x1d")                      # Ctrl-] leaves
end = time.time() + 10
while time.time() < end:
    done, status = os.waitpid(pid, os.WNOHANG)
    if done:
        sys.exit(0 if os.WEXITSTATUS(status) == 0 else 1)
    if select.select([fd], [], [], 0.2)[0]:
        try:
            os.read(fd, 4096)
        except OSError:
            pass
sys.exit(1)
PY
    ok $? "$what: pvctl console is interactive: a line typed on its terminal reaches the guest, Ctrl-] leaves"
    mem_now() { $PVCTL console "$name" --no-follow 2>/dev/null | tr -d '\r' | sed -n 's/^PVCORE-MEM: \([0-9]*\).*/\1/p' | tail -n 1; }
    mem_below() { m=$(mem_now); [ -n "$m" ] && [ "$m" -lt "$1" ]; }
    mem_above() { m=$(mem_now); [ -n "$m" ] && [ "$m" -gt "$1" ]; }
    sleep 2
    full=$(mem_now)
    $PVCTL mem-set "$name" 96 >/dev/null 2>&1 && wait_for 60 mem_below $(( ${full:-0} - 24000 ))
    ok $? "$what: mem-set 96 M: the guest's MemTotal follows down (${full:-?} kB -> $(mem_now) kB)"
    low=$(mem_now)
    $PVCTL mem-set "$name" 128 >/dev/null 2>&1 && wait_for 60 mem_above $(( ${full:-0} - 8000 ))
    ok $? "$what: mem-set 128 M: and back up (${low:-?} kB -> $(mem_now) kB)"
    started=$(date +%s)
    $PVCTL shutdown "$name" --timeout 60 >/dev/null 2>&1 && wait_for 90 is_gone "$name"
    gone=$?
    secs=$(($(date +%s) - started))
    $PVCTL console "$name" --no-follow >"$T/console-$name.log" 2>&1
    reason=$(shutdown_reason "$name")
    [ "$gone" = 0 ] && [ "$reason" = poweroff ] && grep -aq '^PVCORE-LINUX-POWEROFF' "$T/console-$name.log" &&
        grep -q "asked to power off through xenstore" "$T/pvd.log"
    ok $? "$what: pvctl shutdown powers it off through its own shutdown path in ${secs}s (reason '${reason:-none}')"
fi

kill -TERM "$pid"; wait "$pid"; rc=$?; pid=
ok $rc "pvd stops on SIGTERM"
exit $fail
