#!/usr/bin/env python3
"""A crash loop: a domain with on_crash=restart whose kernel crashes at
once (guests/kernels/hostile_stack.c). pvd must not rebuild it as fast as
it can: the first quick crash restarts at once, then each restart waits
twice as long (1 s, 2 s, 4 s, ... 5 min), recorded as
domain.restart_delayed; domain.destroy ends the loop (no start after it),
and pvd answers calls quickly meanwhile. Prints TAP lines."""
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "daemon"))
from pvdharness import BUILD, MachinePvd, ok, done  # noqa: E402

WATCH_S = 9


def events(p, name):
    return [e for e in p.call("events.list", {"limit": 10000, "domain": name}).get("result", [])]


def main():
    p = MachinePvd(machine_mem=256)
    try:
        p.start()
        cfg = {"name": "crasher", "kernel": os.path.join(BUILD, "guests/hostile_stack.elf"), "memory": "16M",
               "on_crash": "restart"}
        ok("result" in p.call("domain.create", {"config": cfg}), "a domain whose kernel crashes at once is created")
        slow = 0.0
        end = time.time() + WATCH_S
        while time.time() < end:
            t = time.time()
            p.call("domain.info", {"domain": "crasher"})
            slow = max(slow, time.time() - t)
            time.sleep(0.1)
        ev = events(p, "crasher")
        restarts = [e for e in ev if e["type"] == "domain.restarted"]
        delayed = [e for e in ev if e["type"] == "domain.restart_delayed"]
        delays = []
        for e in delayed:
            d = e.get("detail")
            d = json.loads(d) if isinstance(d, str) else d
            delays.append(d.get("delay_ms"))
        print(f"# in {WATCH_S} s: {len(restarts)} restarts, delays {delays} ms, slowest domain.info {slow:.3f} s")
        ok(2 <= len(restarts) <= 6, f"restarted a few times in {WATCH_S} s, not in a tight loop",
           f"{len(restarts)} restarts")
        ok(len(delays) >= 2 and delays == sorted(delays) and delays[0] == 1000 and delays[1] == 2000,
           "each delayed restart waits twice as long as the one before (1 s, 2 s, ...)", delays)
        ok(slow < 1.0, "pvd answers domain.info within 1 s throughout", f"{slow:.3f} s")
        r = p.call("domain.destroy", {"domain": "crasher"})
        ok("result" in r, "domain.destroy ends the loop", r)
        before = len([e for e in events(p, "crasher") if e["type"] == "domain.restarted"])
        time.sleep(5)
        after = len([e for e in events(p, "crasher") if e["type"] == "domain.restarted"])
        info = p.call("domain.info", {"domain": "crasher"}).get("result", {})
        ok(after == before and info.get("state") == "shut-off" and info.get("desired_state") == "shut-off",
           "no restart after the destroy; the domain is shut off", f"{before} -> {after}, {info.get('state')}")
    finally:
        p.cleanup()


if __name__ == "__main__":
    main()
    done()
