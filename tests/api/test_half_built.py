#!/usr/bin/env python3
"""A SIGKILL during a build must not leave a half-built domain adopted as
running. pvd writes a domain's console record before it unpauses it, so
after a restart a domain of pvd's without one was never finished: it is
destroyed and, if it should run, started again (domain.restarted, reason
half-built). The state a kill mid-build leaves is made by killing pvd and
removing one domain's console record; the other domain is adopted as it
is. Prints TAP lines."""
import os
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "daemon"))
from pvdharness import BUILD, MachinePvd, ok, done  # noqa: E402

HELLO = os.path.join(BUILD, "guests/hello.elf")


def info(p, name):
    return p.call("domain.info", {"domain": name}).get("result", {})


def main():
    if not os.path.exists(os.path.join(BUILD, "pvcore.iso")) or not os.path.exists(HELLO):
        ok(True, "half-built domains # SKIP no ISO or guest built")
        done()
    p = MachinePvd()
    try:
        p.start()
        for name in ("half", "whole"):
            cfg = {"name": name, "kernel": HELLO, "cmdline": f"name={name}", "memory": 16}
            p.call("domain.define", {"config": cfg})
            r = p.call("domain.start", {"domain": name})
            ok("result" in r, f"{name} starts", r)
        half, whole = info(p, "half"), info(p, "whole")
        p.stop(signal.SIGKILL)
        os.unlink(os.path.join(p.state, "consoles", half["uuid"] + ".log.pos"))
        p.start()
        deadline = time.time() + 30
        while time.time() < deadline:
            h = info(p, "half")
            if h.get("state") == "running" and h.get("domid") != half["domid"]:
                break
            time.sleep(0.2)
        h, w = info(p, "half"), info(p, "whole")
        ok(h.get("state") == "running" and h.get("domid") != half["domid"],
           "the domain without its console record is destroyed and started again (new domid)",
           (half.get("domid"), h.get("domid"), h.get("state")))
        ok(w.get("state") == "running" and w.get("domid") == whole["domid"], "the finished one is adopted as it is",
           (whole.get("domid"), w.get("domid")))
        ev = p.call("events.list", {"domain": "half", "limit": 1000})["result"]
        ok(any(e["type"] == "domain.restarted" and "half-built" in str(e.get("detail")) for e in ev),
           "domain.restarted says half-built", [e["type"] for e in ev])
        ok("left half-built by a killed pvd" in p.logtext(), "pvd logs it")
    finally:
        p.cleanup()
    done()


if __name__ == "__main__":
    main()
