#!/usr/bin/env python3
"""Every domain accounted for: destroy and start racing, through pvd with a
real machine. Eight domains run; for ROUNDS rounds they are destroyed and
started again, alternately each in its own thread (destroy then start at
once, eight at a time) and in bulk (destroy all, then start all). After
every round pvd must list each domain running with a domid no other
domain has, no domain may have been reported "vanished" or stopped by pvd
on its own, and the hypervisor's own record (its log of domains created
and destroyed) must hold exactly the domids pvd lists: nothing unmanaged,
nothing duplicated, nothing stuck. Prints TAP lines."""
import glob
import os
import re
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "daemon"))
from pvdharness import BUILD, MachinePvd, ok, done, code  # noqa: E402

DOMAINS = 8
ROUNDS = int(os.environ.get("RACE_ROUNDS", "50"))
KERNEL = os.path.join(BUILD, "guests/ticker.elf")
INVALID_STATE = -32003


def config(name):
    return {"name": name, "kernel": KERNEL, "cmdline": f"name={name}", "memory": "16M", "vcpus": 1,
            "on_poweroff": "destroy", "on_reboot": "restart", "on_crash": "destroy"}


def start(p, name, refusals):
    """domain.start; a domain still dying in the hypervisor is refused with
    its state named: try again, as a script would, for at most 5 s."""
    deadline = time.time() + 5
    while True:
        r = p.call("domain.start", {"domain": name})
        if code(r) == INVALID_STATE and "dying" in r["error"]["message"] and time.time() < deadline:
            refusals.append(name)
            time.sleep(0.02)
            continue
        return r


def hypervisor_live(state):
    """Domids the hypervisor created and has not been asked to destroy,
    from its own log, with their names."""
    live = {}
    for log in glob.glob(os.path.join(state, "machine", "hv.log")):
        with open(log, errors="replace") as f:
            for line in f:
                m = re.search(r"control: domain (\d+) \(([^)]*)\) created", line)
                if m:
                    live[int(m.group(1))] = m.group(2)
                m = re.search(r"domain (\d+) \([^)]*\): destroy requested", line)
                if m:
                    live.pop(int(m.group(1)), None)
    return live


def adopt_one(p, every):
    """One of the lost store's domains is adopted by its UUID (any case),
    under a new name: pvd manages it from then on (info, its console from
    the record of the earlier pvd, destroy). Returns the others."""
    if not every:
        ok(False, "a domain to adopt", "none unmanaged")
        return every
    d = every[0]
    r = p.call("domain.adopt", {"uuid": "00000000-0000-0000-0000-000000000001"})
    ok(code(r) == -32001 and "list --all" in r["error"]["message"],
       "adopt of a UUID no unmanaged domain has is 'no such domain'", str(r))
    p.call("domain.define", {"config": config("taken")})
    r = p.call("domain.adopt", {"uuid": d["uuid"], "name": "taken"})
    ok(code(r) == -32002, "adopt under a name a defined domain has is 'already exists'", str(r))
    out = p.pvctl("adopt", d["uuid"].upper(), "adopted")
    ok(out.returncode == 0 and "adopted" in out.stdout, "pvctl adopt UUID NAME", out.stdout + out.stderr)
    info = p.call("domain.info", {"domain": "adopted"}).get("result", {})
    ok(info.get("uuid") == d["uuid"] and info.get("domid") == d["domid"] and info.get("state") == "running"
       and info.get("memory_mib") == 16 and info.get("desired_state") == "running",
       "the adopted domain is pvd's: its UUID, domid, state and memory, desired running", str(info))
    again = [x for x in p.call("domain.list", {"all": True}).get("result", []) if x.get("managed") is False]
    ok(d["uuid"] not in [x["uuid"] for x in again], "it is no longer listed unmanaged", str(again))
    size = p.call("domain.console", {"domain": "adopted"}).get("result", {}).get("size", 0)
    deadline = time.time() + 10
    grown = size
    while time.time() < deadline and grown <= size:
        time.sleep(0.3)
        grown = p.call("domain.console", {"domain": "adopted"}).get("result", {}).get("size", 0)
    ok(grown > size, "its console is served again (the earlier pvd's record)", f"{size} -> {grown}")
    r = p.call("domain.destroy", {"domain": "adopted"})
    ok("result" in r and r["result"].get("desired_state") == "shut-off", "pvd destroys the adopted domain", str(r))
    r = start(p, "adopted", [])
    ok(code(r) == -32602 and r["error"]["data"]["errors"][0]["path"] == "/kernel",
       "starting it again without a kernel is a configuration error naming /kernel", str(r))
    for n in ("adopted", "taken"):
        deadline = time.time() + 10
        while code(p.call("domain.undefine", {"domain": n})) == -32003 and time.time() < deadline:
            time.sleep(0.2)
    return every[1:]


def unmanaged_domains(p, listed):
    """pvd loses its store (killed, pvd.db gone) and starts again on the
    same machine: the domains still run, list --all shows each unmanaged
    with its name and domid, and destroy by UUID ends it."""
    p.stop(signal.SIGKILL)
    for f in glob.glob(os.path.join(p.state, "pvd.db*")):
        os.unlink(f)
    p.start()
    every = p.call("domain.list", {"all": True}).get("result", [])
    shown = {d["domid"]: d["name"] for d in every if d.get("managed") is False}
    ok(shown == listed, "list --all shows the domains of a lost store as unmanaged, with name and domid",
       f"unmanaged {sorted(shown.items())}, running before {sorted(listed.items())}")
    ok(p.call("domain.list").get("result") == [], "a plain list shows only pvd's own domains")
    out = p.pvctl("list", "--all").stdout
    ok(out.count("unmanaged") == len(listed), "pvctl list --all marks them unmanaged", out)
    every = adopt_one(p, every)
    for d in every:
        r = p.call("domain.destroy", {"domain": d["uuid"].upper()})
        ok("error" not in r and r["result"]["domid"] == d["domid"],
           f"destroy by UUID ends unmanaged domain {d['domid']} ({d['name']})", str(r))
    time.sleep(0.5)
    left = [d for d in p.call("domain.list", {"all": True}).get("result", [])]
    ok(not left and not hypervisor_live(p.state), "no domain is left in pvd or the hypervisor",
       f"pvd {left}, hypervisor {hypervisor_live(p.state)}")
    r = p.call("domain.destroy", {"domain": "00000000-0000-0000-0000-000000000000"})
    ok(code(r) == -32001, "destroy of a UUID nobody has is 'no such domain'", str(r))


def main():
    names = [f"race-{i}" for i in range(DOMAINS)]
    p = MachinePvd(machine_mem=512)
    errors, refusals = [], []
    try:
        p.start()
        for n in names:
            r = p.call("domain.create", {"config": config(n)})
            if "error" in r:
                ok(False, "eight domains are created", f"{n}: {r['error']}")
                return
        ok(True, "eight domains are created")
        bad_rounds = []
        for rnd in range(ROUNDS):
            if rnd % 2 == 0:
                def cycle(n):
                    r = p.call("domain.destroy", {"domain": n})
                    if "error" in r:
                        errors.append(f"round {rnd}: destroy {n}: {r['error']['message']}")
                    r = start(p, n, refusals)
                    if "error" in r:
                        errors.append(f"round {rnd}: start {n}: {r['error']['message']}")
                threads = [threading.Thread(target=cycle, args=(n,)) for n in names]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
            else:
                for n in names:
                    r = p.call("domain.destroy", {"domain": n})
                    if "error" in r:
                        errors.append(f"round {rnd}: destroy {n}: {r['error']['message']}")
                for n in reversed(names):    # each takes an id another just left
                    r = start(p, n, refusals)
                    if "error" in r:
                        errors.append(f"round {rnd}: start {n}: {r['error']['message']}")
            listed = {d["name"]: d for d in p.call("domain.list").get("result", [])}
            domids = [listed[n].get("domid") for n in names if n in listed]
            if (sorted(listed) != sorted(names) or any(listed[n]["state"] != "running" for n in listed)
                    or len(set(domids)) != DOMAINS):
                bad_rounds.append(f"round {rnd}: " + ", ".join(
                    f"{n}={d['state']}/{d.get('domid')}" for n, d in sorted(listed.items())))
        ok(not errors, f"{ROUNDS} rounds of destroy and start give no error",
           "; ".join(errors[:5]) + f" ({len(errors)} in all)")
        ok(not bad_rounds, "after every round all eight are listed running with distinct domids",
           "; ".join(bad_rounds[:3]) + f" ({len(bad_rounds)} bad rounds)")
        print(f"# starts refused while the previous instance was still dying: {len(refusals)}")

        # The hypervisor's view equals pvd's (let the last destroys finish).
        time.sleep(1)
        listed = {d["domid"]: d["name"] for d in p.call("domain.list").get("result", [])}
        live = hypervisor_live(p.state)
        ok(live == listed, "the hypervisor holds exactly the domains pvd lists (none unmanaged, "
           "none duplicated)", f"hypervisor {sorted(live.items())}, pvd {sorted(listed.items())}")
        ev = p.call("events.list", {"limit": 10000}).get("result", [])
        if isinstance(ev, dict):
            ev = ev.get("events", [])
        lost = [e for e in ev if e.get("type") == "domain.stopped" and e.get("caller") == "pvd"]
        ok(not lost, "pvd never reports a raced domain as stopped or vanished",
           "; ".join(str(e.get("detail")) for e in lost[:5]))
        ok(p.alive(), "pvd is still running")
        unmanaged_domains(p, listed)
    finally:
        if errors or not p.alive():
            print("# pvd log tail:")
            for line in p.logtext().splitlines()[-30:]:
                print("# " + line)
        p.cleanup()


if __name__ == "__main__":
    main()
    done()
