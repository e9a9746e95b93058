#!/usr/bin/env python3
"""The API contract: pvd implements exactly the methods api/pvd.openrpc.json
documents, every error a method documents can be produced against a real
pvd, error codes match api/pvd_api.h and event types match events.c, and
the example orchestration script works. Prints TAP lines."""
import json
import os
import re
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "daemon"))
from pvdharness import BUILD, PVD, Pvd, MachinePvd, ROOT, ok, done, code, example, call_as, open_to_all  # noqa: E402

DOC = json.load(open(os.path.join(ROOT, "api/pvd.openrpc.json")))
ERRORS = DOC["components"]["errors"]
HELLO = json.loads(example("hello.json"))


def ref_code(ref):
    return ERRORS[ref["$ref"].rsplit("/", 1)[1]]["code"]


def producers(p):
    """For each (method, code): a call that must produce that error."""
    defined = {"config": dict(HELLO, name="exists")}
    mac = p.call("domain.info", {"domain": "exists"})["result"]["vifs"][0]["mac"]
    return {
        ("rpc.discover", -32602): ("rpc.discover", {"x": 1}),
        ("daemon.version", -32602): ("daemon.version", {"verbose": True}),
        ("host.info", -32602): ("host.info", {"verbose": True}),
        ("host.dmesg", -32602): ("host.dmesg", {"bytes": 0}),
        ("host.dmesg", -32006): ("host.dmesg", {}),
        ("config.validate", -32602): ("config.validate", {"config": "{\"name\": 5}"}),
        ("domain.define", -32602): ("domain.define", {"config": dict(HELLO, cpu={"weight": 0})}),
        ("domain.define", -32001): ("domain.define", {"config": dict(HELLO, name="absent"), "replace": True}),
        ("domain.define", -32002): ("domain.define", defined),
        ("domain.define", -32004): ("domain.define", {"config": dict(HELLO, name="over-quota")}),
        ("domain.define", -32603): ("domain.define", {"config": dict(HELLO, name="exists"), "replace": True}),
        ("domain.undefine", -32602): ("domain.undefine", {}),
        ("domain.undefine", -32001): ("domain.undefine", {"domain": "absent"}),
        ("domain.undefine", -32603): ("domain.undefine", {"domain": "exists"}),
        ("domain.list", -32602): ("domain.list", {"all": "yes"}),
        ("domain.info", -32602): ("domain.info", {"domain": None}),
        ("domain.info", -32001): ("domain.info", {"domain": "7"}),
        ("domain.get_config", -32602): ("domain.get_config", {"domain": ""}),
        ("domain.get_config", -32001): ("domain.get_config", {"domain": "absent"}),
        ("domain.autostart", -32602): ("domain.autostart", {"domain": "exists", "enabled": "on"}),
        ("domain.autostart", -32001): ("domain.autostart", {"domain": "absent", "enabled": True}),
        ("domain.autostart", -32603): ("domain.autostart", {"domain": "exists", "enabled": True}),
        ("domain.adopt", -32602): ("domain.adopt", {"uuid": "not-a-uuid"}),
        ("domain.adopt", -32006): ("domain.adopt", {"uuid": "00000000-0000-0000-0000-000000000001"}),
        ("domain.start", -32602): ("domain.start", {"domain": None}),
        ("domain.start", -32001): ("domain.start", {"domain": "absent"}),
        ("domain.start", -32006): ("domain.start", {"domain": "exists"}),
        ("domain.create", -32602): ("domain.create", {"config": dict(HELLO, name="c"), "transient": 1}),
        ("domain.create", -32006): ("domain.create", {"config": dict(HELLO, name="c")}),
        ("domain.console", -32602): ("domain.console", {"domain": "exists", "max": 0}),
        ("domain.console", -32001): ("domain.console", {"domain": "absent"}),
        ("domain.console", -32003): ("domain.console", {"domain": "exists", "input": "x"}),
        ("events.subscribe", -32602): ("events.subscribe", {"types": ["domain.exploded"]}),
        ("events.subscribe", -32004): ("events.subscribe", {}),
        ("events.unsubscribe", -32602): ("events.unsubscribe", {"all": True}),
        ("events.list", -32602): ("events.list", {"limit": 0}),
        ("domain.block_attach", -32602): ("domain.block_attach", {"domain": "exists", "disk": {}}),
        ("domain.block_attach", -32001): ("domain.block_attach", {"domain": "absent", "disk": {"name": "d", "size": 8}}),
        ("domain.block_attach", -32603): ("domain.block_attach", {"domain": "exists", "disk": {"name": "d1", "size": 8}}),
        ("domain.block_detach", -32602): ("domain.block_detach", {"domain": "exists", "name": "nope"}),
        ("domain.block_detach", -32001): ("domain.block_detach", {"domain": "absent", "name": "d0"}),
        ("domain.block_detach", -32603): ("domain.block_detach", {"domain": "exists", "name": "d0"}),
        ("domain.net_attach", -32602): ("domain.net_attach", {"domain": "exists", "vif": {"bridge": 5}}),
        ("domain.net_attach", -32001): ("domain.net_attach", {"domain": "absent", "vif": {}}),
        ("domain.net_attach", -32603): ("domain.net_attach", {"domain": "exists", "vif": {}}),
        ("domain.net_detach", -32602): ("domain.net_detach", {"domain": "exists", "mac": "02:00:00:00:00:01"}),
        ("domain.net_detach", -32001): ("domain.net_detach", {"domain": "absent", "mac": mac}),
        ("domain.net_detach", -32603): ("domain.net_detach", {"domain": "exists", "mac": mac}),
        ("domain.net_limit", -32602): ("domain.net_limit", {"domain": "exists", "mac": "02:00:00:00:00:01",
                                                            "rate": 1000}),
        ("domain.net_limit", -32001): ("domain.net_limit", {"domain": "absent", "mac": mac, "rate": 1000}),
        ("domain.net_limit", -32603): ("domain.net_limit", {"domain": "exists", "mac": mac, "rate": 1000}),
        ("domain.set_disk_quota", -32602): ("domain.set_disk_quota", {"domain": "exists", "disk": "d0", "quota": 9}),
        ("domain.set_disk_quota", -32001): ("domain.set_disk_quota", {"domain": "absent", "quota": 16}),
        ("domain.set_disk_quota", -32603): ("domain.set_disk_quota", {"domain": "exists", "quota": 16}),
        ("domain.set_disk_limit", -32602): ("domain.set_disk_limit", {"domain": "exists", "disk": "nodisk", "bps": 1}),
        ("domain.set_disk_limit", -32001): ("domain.set_disk_limit", {"domain": "absent", "disk": "d0", "iops": 5}),
        ("domain.set_disk_limit", -32603): ("domain.set_disk_limit", {"domain": "exists", "disk": "d0", "iops": 5}),
        ("vol.list", -32603): ("vol.list", {}, "broken-pool"),
        ("vol.create", -32602): ("vol.create", {"name": "../escape", "size": 1}),
        ("vol.create", -32002): ("vol.create", {"name": "v1", "size": 1}),
        ("vol.create", -32603): ("vol.create", {"name": "v2", "size": 1}),
        ("vol.delete", -32602): ("vol.delete", {"name": "nosuch"}),
        ("vol.delete", -32003): ("vol.delete", {"name": p.disk_volume}),
        ("vol.delete", -32603): ("vol.delete", {"name": "v1"}),
        ("vol.resize", -32602): ("vol.resize", {"name": "v1", "size": "1K"}),
        ("vol.resize", -32003): ("vol.resize", {"name": p.disk_volume, "size": 4}),
        ("vol.resize", -32603): ("vol.resize", {"name": "v1", "size": 2}),
        ("xs.ls", -32602): ("xs.ls", {"path": "relative"}),
        ("xs.ls", -32006): ("xs.ls", {"path": "/"}),
        ("xs.read", -32602): ("xs.read", {}),
        ("xs.read", -32006): ("xs.read", {"path": "/tool"}),
        ("xs.write", -32602): ("xs.write", {"path": "/tool/x"}),
        ("xs.write", -32006): ("xs.write", {"path": "/tool/x", "value": "1"}),
        ("xs.rm", -32602): ("xs.rm", {"path": 5}),
        ("xs.rm", -32006): ("xs.rm", {"path": "/tool/x"}),
        ("xs.watch", -32602): ("xs.watch", {"path": "/tool", "after": -2}),
        ("xs.watch", -32006): ("xs.watch", {"path": "/tool"}),
    }


LIVE = ("domain.destroy", "domain.shutdown", "domain.reboot", "domain.pause", "domain.resume",
        "domain.set_memory", "domain.set_maxmem", "domain.set_sched")
# Codes only a machine can produce: machine_errors() produces them against a
# second pvd that boots the real machine (QEMU, $BUILD/pvcore.iso).
NEEDS_MACHINE = {(m, -32003) for m in LIVE + ("domain.start",)} | \
    {(m, -32603) for m in LIVE + ("domain.start",)} | {("domain.create", c) for c in (-32002, -32004, -32603)} | \
    {(m, -32007) for m in ("xs.ls", "xs.read", "xs.write", "xs.rm", "xs.watch")} | {("xs.watch", -32004)} | \
    {("domain.adopt", -32001), ("domain.adopt", -32002), ("domain.undefine", -32003)} | \
    {("domain.block_attach", -32006), ("domain.net_attach", -32006)}
def locked(p, method, params):
    """The call while another process holds the database's write lock
    (taking it waits for a transaction of pvd's own loop to end)."""
    lock = sqlite3.connect(os.path.join(p.state, "pvd.db"), timeout=10)
    lock.execute("BEGIN IMMEDIATE")
    try:
        return p.call(method, params)
    finally:
        lock.rollback()
        lock.close()


def wait_state(p, name, states, seconds=20):
    deadline = time.time() + seconds
    while time.time() < deadline:
        r = p.call("domain.info", {"domain": name}).get("result") or {}
        if r.get("state") in states:
            return r
        time.sleep(0.1)
    return None


def machine_errors():
    """{(method, code): response} for NEEDS_MACHINE, produced against a pvd
    with the real machine. Order matters: create's -32603 needs room under
    the quota, the -32603s of the live methods leave the hypervisor acted
    on (one domain each for reboot, shutdown and destroy)."""
    got = {}
    kernel = os.path.join(BUILD, "guests/hello.elf")

    def cfg(name):
        return dict(HELLO, name=name, kernel=kernel, cmdline=f"console=hvc0 name={name}")

    m = MachinePvd(["--max-domains", "4"])
    try:
        m.start()
        ok(True, "a second pvd boots the machine (--machine-mem 256, --max-domains 4)")
        got[("domain.create", -32603)] = locked(m, "domain.create", {"config": cfg("c")})
        ok(code(m.call("domain.info", {"domain": "c"})) == -32001, "the failed create left nothing defined")
        for name in ("r1", "r2", "r3"):
            r = m.call("domain.create", {"config": cfg(name)})
            ok(r.get("result", {}).get("state") == "running", f"domain.create {name} runs it", r)
        r = m.call("domain.define", {"config": cfg("off")})
        ok("result" in r, "domain.define off (the 4th domain: the quota is full)", r)
        # a device the backend refuses: HypervisorError, the config as it was
        before = m.call("domain.info", {"domain": "r1"}).get("result", {})
        got[("domain.block_attach", -32006)] = m.call("domain.block_attach", {
            "domain": "r1", "disk": {"name": "gone", "size": 8, "path": "/nonexistent/gone.img"}})
        got[("domain.net_attach", -32006)] = m.call("domain.net_attach", {"domain": "r1", "vif": {"bridge": "nobr0"}})
        r = m.call("domain.info", {"domain": "r1"}).get("result", {})
        ok(r.get("disks") == before.get("disks") == [] and r.get("vifs") == before.get("vifs"),
           "refused hot plugs leave r1's config as it was", (before, r))
        got[("domain.create", -32002)] = m.call("domain.create", {"config": cfg("r1")})
        got[("domain.create", -32004)] = m.call("domain.create", {"config": cfg("c")})
        got[("domain.start", -32003)] = m.call("domain.start", {"domain": "r1"})
        got[("domain.undefine", -32003)] = m.call("domain.undefine", {"domain": "r1"})
        got[("domain.adopt", -32001)] = m.call("domain.adopt", {"uuid": "00000000-0000-0000-0000-000000000001"})
        got[("domain.adopt", -32002)] = m.call("domain.adopt", {"uuid": "00000000-0000-0000-0000-000000000001",
                                                                 "name": "r1"})
        for meth in LIVE:  # every live method on a shut-off domain
            extra = {"memory": 64} if meth == "domain.set_memory" else {"maxmem": 64} if meth == "domain.set_maxmem" else {}
            got[(meth, -32003)] = m.call(meth, dict(extra, domain="off"))
        # the hypervisor acts, recording it fails: -32603 (the hypervisor did act)
        got[("domain.set_memory", -32603)] = locked(m, "domain.set_memory", {"domain": "r1", "memory": 48})
        got[("domain.set_maxmem", -32603)] = locked(m, "domain.set_maxmem", {"domain": "r1", "maxmem": 64})
        got[("domain.set_sched", -32603)] = locked(m, "domain.set_sched", {"domain": "r1", "weight": 512})
        got[("domain.pause", -32603)] = locked(m, "domain.pause", {"domain": "r1"})
        got[("domain.resume", -32603)] = locked(m, "domain.resume", {"domain": "r1"})
        got[("domain.reboot", -32603)] = locked(m, "domain.reboot", {"domain": "r1"})
        got[("domain.shutdown", -32603)] = locked(m, "domain.shutdown", {"domain": "r2", "timeout": 1})
        got[("domain.destroy", -32603)] = locked(m, "domain.destroy", {"domain": "r3"})
        got[("domain.start", -32603)] = locked(m, "domain.start", {"domain": "off"})
        ok(m.alive() and wait_state(m, "off", ("running",)) is not None,
           "pvd survives the failed commits and reconciles the domain started behind the store's back")
        # xenstore, as Domain 0
        got[("xs.ls", -32007)] = m.call("xs.ls", {"path": "/nonexistent"})
        got[("xs.read", -32007)] = m.call("xs.read", {"path": "/local/domain/9999/name"})
        got[("xs.write", -32007)] = m.call("xs.write", {"path": "/a//b", "value": "1"})
        got[("xs.rm", -32007)] = m.call("xs.rm", {"path": "/no/such/parent"})
        got[("xs.watch", -32007)] = m.call("xs.watch", {"path": "/a b"})
        for i in range(33):
            r = m.call("xs.watch", {"path": f"/tool/w{i}"})
        got[("xs.watch", -32004)] = r
    except Exception as e:  # every expected error not produced fails below
        ok(False, "the machine part ran to the end", repr(e) + "\n" + m.logtext()[-2000:])
    finally:
        m.cleanup()
    return got


def live_producers():
    p = {}
    for m in LIVE:
        extra = {"memory": 64} if m == "domain.set_memory" else {"maxmem": 64} if m == "domain.set_maxmem" else {}
        p[(m, -32602)] = (m, {"domain": "exists", "bogus": 1})
        p[(m, -32001)] = (m, dict(extra, domain="absent"))
        p[(m, -32006)] = (m, dict(extra, domain="exists"))
    return p


def main():
    machine = machine_errors()
    p = Pvd(["--max-domains", "1", "--max-subscribers", "1", "--reader-group", "nogroup"]).start()
    try:
        served = p.call("rpc.discover")["result"]
        ok(served == DOC, "rpc.discover returns api/pvd.openrpc.json exactly")
        documented = [m["name"] for m in DOC["methods"]]
        for m in documented:
            r = p.call(m, {"__probe": 1})
            ok(code(r) != -32601, f"{m} is implemented", r)
        for m in ("domain.migrate", "domain.snapshot", "rpc.nothing", "Domain.List"):
            ok(code(p.call(m)) == -32601, f"{m} is not a method (-32601)")

        # pvd_api.h and events.c agree with the document
        hdr = open(os.path.join(ROOT, "api/pvd_api.h")).read()
        codes = {int(v) for v in re.findall(r"PVD_ERR_\w+\s*=\s*(-\d+)", hdr)}
        ok(codes == {e["code"] for e in ERRORS.values()}, "api/pvd_api.h has exactly the documented codes",
           sorted(codes))
        ev_c = open(os.path.join(ROOT, "daemon/events.c")).read()
        types = DOC["components"]["schemas"]["EventType"]["enum"]
        ok(all(f'"{t}"' in ev_c for t in types), "daemon/events.c knows every documented event type")

        # every documented error of every method, produced for real
        assert "result" in p.call("domain.define", {"config": dict(HELLO, name="exists", disks=[{"name": "d0", "size": 8}],
                                                                   vifs=[{"bridge": "internal"}])})
        # the pool image of "exists"'s disk d0 is a volume in use; v1 a free volume
        p.disk_volume = p.call("domain.info", {"domain": "exists"})["result"]["uuid"] + "-d0.img"
        assert "result" in p.call("vol.create", {"name": "v1", "size": 1})
        # a pvd whose pool cannot be (a path below a regular file): vol.list fails
        open(os.path.join(p.tmp, "file"), "w").close()
        broken = Pvd(["--pool", os.path.join(p.tmp, "file", "pool")]).start()
        holder = p.connect()
        holder.sendall(b'{"jsonrpc":"2.0","id":1,"method":"events.subscribe"}\n')
        holder.recv(4096)
        prod = producers(p)
        prod.update(live_producers())
        for m in DOC["methods"]:
            for ref in m.get("errors", []):
                c = ref_code(ref)
                key = (m["name"], c)
                if key in NEEDS_MACHINE:
                    r = machine.get(key, {})
                    err = r.get("error", {})
                    ok(err.get("code") == c and err.get("message"),
                       f"{m['name']} produces {c} with the machine ({err.get('message')})", r or "not tried")
                    continue
                if key not in prod:
                    ok(False, f"{m['name']} can produce {c}", "no producer in this test")
                    continue
                method, params, *on = prod[key]
                target = broken if on else p
                lock = None
                if c == -32603 and not on:  # another process holds the database: pvd must fail cleanly
                    lock = sqlite3.connect(os.path.join(p.state, "pvd.db"), timeout=0)
                    lock.execute("BEGIN IMMEDIATE")
                r = target.call(method, params)
                if lock:
                    lock.rollback()
                    lock.close()
                err = r.get("error", {})
                ok(err.get("code") == c and err.get("message"), f"{m['name']} produces {c} ({err.get('message')})",
                   r)
        ok("result" in p.call("domain.info", {"domain": "exists"}), "nothing was lost by the failed calls")
        vols = {v["name"]: v for v in p.call("vol.list")["result"]}
        ok({"v1", p.disk_volume} <= set(vols) and "v2" not in vols and vols[p.disk_volume]["domain"] == "exists" and
           vols["v1"]["domain"] is None and vols["v1"]["size_bytes"] == 1 << 20,
           "vol.list: the failed vol calls changed nothing (v1 still 1 MiB, v2 not made)", vols)
        broken.cleanup()
        holder.close()
        for ref in DOC["x-reserved-errors"] + DOC["x-protocol-errors"]:
            ok(ref["$ref"].startswith("#/components/errors/"), f"{ref['$ref']} is documented at protocol level")
        for r, c in ((p.raw(b"{\n"), -32700), (p.raw(b"1\n"), -32600), (p.raw(b'{"jsonrpc":"2.0","id":1,"method":"x"}\n'), -32601)):
            ok(code(r) == c, f"protocol error {c} is produced", r)
        # -32008: a caller whose role the method's x-role exceeds (nobody, in --reader-group nogroup)
        if os.geteuid() == 0:
            open_to_all(p)
            r, = call_as(p, "nobody", [["domain.define", {"config": dict(HELLO, name="by-reader")}]])
            ok(code(r) == -32008 and "domain.define" in r["error"]["message"] and "admin" in r["error"]["message"],
               "protocol error -32008 is produced (a reader defining)", r)
            roles = {m["name"]: m.get("x-role") for m in DOC["methods"]}
            ok(all(v in ("any", "reader", "admin") for v in roles.values()), "every method documents its x-role",
               roles)
        else:
            ok(True, "protocol error -32008 # SKIP needs root to run a client as nobody")

        # the orchestration example, end to end
        p.call("domain.undefine", {"domain": "exists"})
        env = dict(os.environ, PVD_SOCKET=p.sock)
        r = subprocess.run([sys.executable, os.path.join(ROOT, "api/examples/orchestrate.py"),
                            os.path.join(ROOT, "examples/hello.json")], capture_output=True, text=True,
                           env=env, timeout=60)
        ok(r.returncode == 0 and "hello: defined as" in r.stdout and "domain.autostart hello" in r.stdout,
           "api/examples/orchestrate.py defines, marks autostart and reports events", r.stdout + r.stderr)
        r = subprocess.run([sys.executable, os.path.join(ROOT, "api/examples/orchestrate.py"),
                            os.path.join(ROOT, "tests/configs/bad-weight.json")], capture_output=True, text=True,
                           env=env, timeout=60)
        ok(r.returncode == 1 and "/cpu/weight" in r.stderr, "orchestrate.py reports an invalid config by field",
           r.stderr)
    finally:
        p.cleanup()
    done()


if __name__ == "__main__":
    main()
