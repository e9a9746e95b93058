#!/usr/bin/env python3
"""A randomized client against pvd with the real machine: for RANDOM_SECONDS
(default 300) it picks, at random, among 8 domain names and the lifecycle
methods (define, start, create, destroy, shutdown, reboot, pause, resume,
undefine), four threads at a time, accepting every documented error. Then
it lets things settle and checks that every domain is accounted for: the
hypervisor holds exactly the domains pvd lists as present (none unmanaged,
none twice, no UUID on two domids), no domain stays dying, and pvd answers
and is still running. Prints TAP lines and the counts."""
import collections
import os
import random
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "daemon"))
from pvdharness import BUILD, MachinePvd, ok, done  # noqa: E402
from test_domain_race import hypervisor_live  # noqa: E402

SECONDS = float(os.environ.get("RANDOM_SECONDS", "300"))
NAMES = [f"rnd-{i}" for i in range(8)]
KERNELS = ["ticker.elf", "hello.elf"]
DOCUMENTED = {-32001, -32002, -32003, -32004, -32005}


def config(name, rng):
    return {"name": name, "kernel": os.path.join(BUILD, "guests", rng.choice(KERNELS)), "memory": "16M",
            "on_poweroff": rng.choice(["destroy", "restart"]), "on_reboot": "restart",
            "on_crash": "destroy"}


def worker(p, seed, until, counts, problems):
    rng = random.Random(seed)
    while time.time() < until:
        name = rng.choice(NAMES)
        op = rng.choice(["define", "start", "create", "destroy", "shutdown", "reboot", "pause", "resume",
                         "undefine", "start", "destroy"])
        if op == "define":
            r = p.call("domain.define", {"config": config(name, rng), "replace": rng.random() < 0.5})
        elif op == "create":
            r = p.call("domain.create", {"config": config(name, rng), "transient": rng.random() < 0.3})
        elif op == "shutdown":
            r = p.call("domain.shutdown", {"domain": name, "timeout": 5})
        else:
            r = p.call(f"domain.{op}", {"domain": name})
        code = r.get("error", {}).get("code")
        counts[(op, "ok" if code is None else code)] += 1
        if code is not None and code not in DOCUMENTED:
            problems.append(f"{op} {name}: {r['error']}")


def main():
    p = MachinePvd(machine_mem=512)
    counts, problems = collections.Counter(), []
    try:
        p.start()
        until = time.time() + SECONDS
        threads = [threading.Thread(target=worker, args=(p, seed, until, counts, problems)) for seed in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        total = sum(counts.values())
        print(f"# {total} calls in {SECONDS:.0f} s: " + ", ".join(
            f"{op}:{res}={n}" for (op, res), n in sorted(counts.items(), key=str)))
        ok(not problems, f"{total} random calls got results or documented errors only", "; ".join(problems[:5]))
        ok(p.alive(), "pvd is still running")

        # settle: pending shutdowns time out (5 s), restarts happen, dying domains go
        deadline = time.time() + 60
        while time.time() < deadline:
            listed = p.call("domain.list", {"all": True}).get("result", [])
            if not any(d["state"] in ("dying", "building") for d in listed):
                break
            time.sleep(0.5)
        time.sleep(2)
        listed = p.call("domain.list", {"all": True}).get("result", [])
        stuck = [f"{d['name']}={d['state']}" for d in listed if d["state"] in ("dying", "building")]
        ok(not stuck, "no domain stays dying or building", stuck)
        unmanaged = [d for d in listed if d.get("managed") is False]
        ok(not unmanaged, "no unmanaged domain is left", unmanaged)
        present = {d["domid"]: d["name"] for d in listed if d.get("domid") is not None}
        uuids = [d["uuid"] for d in listed if d.get("domid") is not None]
        ok(len(uuids) == len(set(uuids)), "no UUID runs twice", uuids)
        live = hypervisor_live(p.state)
        ok(live == present, "the hypervisor holds exactly the domains pvd lists",
           f"hypervisor {sorted(live.items())}, pvd {sorted(present.items())}")
    finally:
        p.cleanup()


if __name__ == "__main__":
    main()
    done()
