#!/bin/sh
# Hot plug with Debian 12's own Linux (part of `make test-linux` and of
# `make test`): a running guest (tests/linux/hotplug.sh as its /init) gets
# a second disk with `pvctl block-attach` and writes and reads it, gets a vif on
# the internal switch with `pvctl net-attach`, has the vif's rate changed
# with `pvctl net-limit`, and loses both with `pvctl block-detach` /
# `net-detach` (its frontends close them and the devices vanish in the
# guest); the config follows each step (pvctl info) and the event log has
# them. TAP. Skipped only when the packages cannot be had.
set -u
BUILD=${BUILD:-build}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1
PVD=${PVD:-$BUILD/bin/pvd}
. tests/linux/linux-env.sh
. tests/lib/pvd_harness.sh
KEEP="$BUILD/test-logs/linux"
harness_on_failure() {
    mkdir -p "$KEEP"
    $PVCTL console lx --no-follow >"$KEEP/hotplug-console.log" 2>&1
    echo "# guest console: $KEEP/hotplug-console.log"; tail -n 15 "$KEEP/hotplug-console.log" | sed 's/^/# /'
}

if ! why=$(linux_fetch); then
    echo "ok 1 - linux hot plug # SKIP $why"
    exit 0
fi
linux_fetch >/dev/null
linux_initramfs "$T/initramfs.cpio.gz" tests/linux/hotplug.sh || { echo "not ok 1 - the initramfs"; exit 1; }
start_pvd --iso "$BUILD/pvcore.iso" --machine-mem 512 --image-dir "$(dirname "$LINUX_VMLINUZ")" --image-dir "$T"
ok $? "pvd starts and boots the machine"

console_has() { $PVCTL console lx --no-follow 2>/dev/null | tr -d '\r' | grep -aq "$1"; }
line_of() { $PVCTL console lx --no-follow 2>/dev/null | tr -d '\r' | grep -a "$1" | tail -n 1; }
info_json() { $PVCTL info lx --json; }

cat >"$T/lx.json" <<JSON
{"name": "lx", "kernel": "$LINUX_VMLINUZ", "ramdisk": "$T/initramfs.cpio.gz",
 "cmdline": "console=hvc0 quiet", "memory": 128, "on_poweroff": "destroy",
 "disks": [{"name": "root", "size": 8}]}
JSON
$PVCTL create "$T/lx.json" >/dev/null
ok $? "pvctl create: Linux with one disk (root, xvda) and no vif"
wait_for 120 console_has PVCORE-HOTPLUG-READY
ok $? "the guest is up with its frontend drivers loaded"

$PVCTL block-attach lx name=data,size=16M >"$T/out" 2>&1
ok $? "pvctl block-attach lx name=data,size=16M: $(cat "$T/out")"
wait_for 60 console_has "xvdb sectors=32768"
ok $? "the guest sees a second disk, xvdb of 16 MiB: $(line_of 'xvdb sectors')"
wait_for 60 console_has "xvdb io="
console_has "xvdb io=ok"
ok $? "4 MiB written to the new disk read back intact: $(line_of 'xvdb io')"
info_json | python3 -c '
import json, sys
d = {x["name"]: x for x in json.load(sys.stdin)["disks"]}
sys.exit(not (len(d) == 2 and d["data"]["device"] == "xvdb" and d["data"]["size_mib"] == 16
              and d["root"]["device"] == "xvda"))'
ok $? "pvctl info: the disk is in the config, as xvdb (root stays xvda)"

$PVCTL net-attach lx bridge=internal >"$T/out" 2>&1
ok $? "pvctl net-attach lx bridge=internal: $(cat "$T/out")"
mac=$(info_json | python3 -c 'import json,sys; v=json.load(sys.stdin)["vifs"]; print(v[0]["mac"] if v else "")')
wait_for 60 console_has "eth0 mac=$mac"
ok $? "the guest sees eth0 with the vif's MAC $mac: $(line_of 'eth0 mac')"
$PVCTL net-limit lx "$mac" --rate 1M --burst 64K >"$T/out" 2>&1
ok $? "pvctl net-limit --rate 1M --burst 64K: $(cat "$T/out")"
info_json | python3 -c '
import json, sys
v = json.load(sys.stdin)["vifs"][0]
sys.exit(not (v["rate"] == 1048576 and v["burst"] == 65536))'
ok $? "pvctl info: the vif's rate is 1048576 bytes/s, burst 65536 bytes"
grep -aq "netback:.*vif" "$T/pvd.log"
ok $? "netback served the vif"

$PVCTL block-detach lx data --timeout 60 >"$T/out" 2>&1
ok $? "pvctl block-detach lx data: $(cat "$T/out")"
wait_for 30 console_has "xvdb gone"
console_has "xvdb gone xvda=ok"
ok $? "xvdb is gone in the guest, xvda still reads: $(line_of 'xvdb gone')"
$PVCTL net-detach lx "$mac" --timeout 60 >"$T/out" 2>&1
ok $? "pvctl net-detach lx $mac: $(cat "$T/out")"
wait_for 30 console_has "eth0 gone"
ok $? "eth0 is gone in the guest"
info_json | python3 -c '
import json, sys
d = json.load(sys.stdin)
sys.exit(not ([x["name"] for x in d["disks"]] == ["root"] and d["vifs"] == []))'
ok $? "pvctl info: the config has neither any more (root remains)"
$PVCTL block-detach lx data >"$T/out" 2>&1
[ $? = 1 ] && grep -q 'no disk named "data"' "$T/out"
ok $? "detaching it again: an error naming the disk: $(cat "$T/out")"
$PVCTL events --domain lx --json | python3 -c '
import json, sys
t = [json.loads(l)["type"] for l in sys.stdin]
want = ["domain.block_attached", "domain.net_attached", "domain.net_limit", "domain.block_detached", "domain.net_detached"]
sys.exit(not all(w in t for w in want))'
ok $? "the event log has every step"
grep -aqE "hypervisor.*(warn|error)|ring shut" "$T/pvd.log"
[ $? != 0 ]
ok $? "no ring was shut and nothing went wrong in pvd's log"
$PVCTL destroy lx >/dev/null 2>&1
echo "1..$n"
exit $fail
