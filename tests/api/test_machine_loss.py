#!/usr/bin/env python3
"""A lost machine: pvd with the real machine, two running domains and one
shut off; QEMU is killed. pvd must say the machine is down (host.info,
and domains listed "machine-down", never "shut-off"), boot it again on its
own, start the domains that were meant to run (not the shut-off one),
record machine.lost / machine.restarted / domain.restarted, and host.info
and `pvctl host` must show the last loss and its reason. Prints TAP lines."""
import os
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "daemon"))
from pvdharness import BUILD, MachinePvd, ok, done  # noqa: E402

KERNEL = os.path.join(BUILD, "guests/ticker.elf")


def config(name):
    return {"name": name, "kernel": KERNEL, "cmdline": f"name={name}", "memory": "16M", "vcpus": 1}


def wait(fn, seconds):
    deadline = time.time() + seconds
    while time.time() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(0.1)
    return None


def states(p):
    return {d["name"]: d["state"] for d in p.call("domain.list", {"all": True}).get("result", [])}


def main():
    p = MachinePvd(machine_mem=256)
    try:
        p.start()
        for n in ("keep-a", "keep-b"):
            ok("result" in p.call("domain.create", {"config": config(n)}), f"{n} runs")
        ok("result" in p.call("domain.define", {"config": config("off")}), "a third domain is defined, shut off")
        h = p.call("host.info")["result"]
        ok(h["machine"] == "running" and h["memory_mib"] > 200 and h["cpus"] >= 1 and h["restarts"] == 0
           and h["last_death"] is None and h["hypervisor_version"], "host.info describes the running machine", h)
        d = p.call("host.dmesg", {"bytes": 4096})["result"]
        ok("pvcore" in d["log"] and d["size"] >= len(d["log"]), "host.dmesg returns the hypervisor's log",
           d["log"][-300:])

        # A machine that does not answer for a while (QEMU stopped for 8 s: control calls time out)
        # is waited for, not booted again: that would end every domain on it.
        before = {d["name"]: d["domid"] for d in p.call("domain.list").get("result", [])}
        os.kill(h["qemu_pid"], signal.SIGSTOP)
        time.sleep(8)
        os.kill(h["qemu_pid"], signal.SIGCONT)
        back = wait(lambda: (lambda s: s if s.get("keep-a") == "running" and s.get("keep-b") == "running"
                             else None)(states(p)), 30)
        after = {d["name"]: d["domid"] for d in p.call("domain.list").get("result", [])}
        types = [e["type"] for e in p.call("events.list", {"limit": 10000})["result"]]
        ok(back is not None and after == before and "machine.lost" not in types
           and p.call("host.info")["result"]["restarts"] == 0,
           "a machine silent for 8 s is waited for: the same domains run on, no machine.lost",
           f"before {before}, after {after}, events {types[-5:]}")

        os.kill(h["qemu_pid"], signal.SIGKILL)
        down = wait(lambda: (lambda s: s if s.get("keep-a") == "machine-down" else None)(states(p)), 10)
        ok(down and down["keep-b"] == "machine-down",
           "after QEMU is killed the running domains are listed machine-down, not shut-off", states(p))
        h = p.call("host.info")["result"]
        ok(h["machine"] in ("down", "booting") and h["reason"] and h["last_death"]
           and h["last_death_at"], "host.info says the machine is down and why", h)
        print(f"# last death: {h['last_death']}")

        up = wait(lambda: (lambda r: r if r["machine"] == "running" else None)(p.call("host.info")["result"]),
                  90)
        ok(up and up["restarts"] == 1 and up["last_death"], "pvd boots the machine again on its own", up)
        back = wait(lambda: (lambda s: s if s.get("keep-a") == "running" and s.get("keep-b") == "running"
                             else None)(states(p)), 30)
        ok(back is not None and back.get("off") == "shut-off",
           "the domains meant to run run again; the shut-off one stays off", states(p))
        types = [e["type"] for e in p.call("events.list", {"limit": 10000})["result"]]
        ok("machine.lost" in types and "machine.restarted" in types and types.count("domain.restarted") >= 2,
           "machine.lost, machine.restarted and domain.restarted are recorded", types[-12:])
        out = p.pvctl("host").stdout
        ok("machine            : running" in out and "last machine lost" in out and "machine restarts   : 1"
           in out, "pvctl host shows the machine and its last loss", out)
        ok("pvcore" in p.pvctl("dmesg").stdout, "pvctl dmesg prints the hypervisor's log")
        ok(p.alive(), "pvd kept running throughout")
    finally:
        p.cleanup()


if __name__ == "__main__":
    main()
    done()
