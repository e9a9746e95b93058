#!/usr/bin/env python3
"""pvctl top and pvctl events --since/--domain against a pvd with the real
machine: a CPU-bound domain and an idle one; top's CPU shares tell them
apart, its batch and JSON forms stop after --iterations, bad values are
usage errors; the event log filters by domain and by time. Prints TAP
lines."""
import json
import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "daemon"))
from pvdharness import BUILD, MachinePvd, ok, done  # noqa: E402


def config(name, kernel, cmdline=""):
    return {"name": name, "kernel": os.path.join(BUILD, "guests", kernel), "cmdline": cmdline, "memory": "16M"}


def main():
    p = MachinePvd(machine_mem=256)
    try:
        p.start()
        # cpu_burn burns from a machine time on: the hypervisor log's last stamp, plus a little
        stamps = re.findall(r"^\[\s*(\d+)\.\d+\]", p.call("host.dmesg")["result"]["log"], re.M)
        start_ms = (int(stamps[-1]) + 3) * 1000 if stamps else 10000
        r = p.call("domain.create", {"config": config("burner", "cpu_burn.elf", f"start={start_ms} len=600000")})
        ok("result" in r, "burner runs", r)
        ok("result" in p.call("domain.create", {"config": config("idle", "ticker.elf")}), "idle runs")
        time.sleep(4)
        r = p.pvctl("top", "--batch", "--json", "--iterations", "2", "--delay", "1")
        tables = [json.loads(line) for line in r.stdout.splitlines() if line.startswith("[")]
        ok(r.returncode == 0 and len(tables) == 2, "top --batch --json --iterations 2 prints two tables and ends",
           f"{r.returncode} {r.stdout[-300:]} {r.stderr}")
        last = {d["name"]: d for d in (tables[-1] if tables else [])}
        burn = last.get("burner", {}).get("cpu_percent", 0)
        idle = last.get("idle", {}).get("cpu_percent", 100)
        print(f"# top: burner {burn:.1f}%, idle {idle:.1f}%")
        ok(burn > 50 and idle < burn / 2, "top shows the CPU-bound domain busy and the idle one much less so",
           f"burner {burn:.1f}%, idle {idle:.1f}%")
        ok(tables and tables[-1][0]["name"] == "burner", "the busiest domain comes first", tables[-1:])
        r = p.pvctl("top", "--batch", "--iterations", "1", "--delay", "0.5")
        ok(r.returncode == 0 and "CPU(%)" in r.stdout and "burner" in r.stdout and "MiB free" in r.stdout,
           "top --batch prints a header and a table", r.stdout)
        for bad in (("--delay", "0"), ("--iterations", "0"), ("--delay", "x")):
            r = p.pvctl("top", "--batch", *bad)
            ok(r.returncode == 2, f"top {' '.join(bad)} is a usage error", r.stderr)

        r = p.pvctl("events", "--domain", "idle")
        lines = [line for line in r.stdout.splitlines() if line.strip()]
        ok(r.returncode == 0 and lines and all(" idle " in line for line in lines),
           "events --domain shows only that domain's events", r.stdout)
        time.sleep(2)
        mark = time.time()
        p.call("domain.pause", {"domain": "idle"})
        r = p.pvctl("events", "--since", "1s")
        ok(r.returncode == 0 and "domain.paused" in r.stdout and "domain.defined" not in r.stdout,
           "events --since 1s shows only what happened in the last second", r.stdout)
        at = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(mark - 1))
        r = p.pvctl("events", "--since", at, "--json")
        types = [json.loads(line)["type"] for line in r.stdout.splitlines() if line.strip()]
        ok(r.returncode == 0 and types == ["domain.paused"], "events --since TIME (UTC) likewise", types)
        r = p.pvctl("events", "--since", "yesterday")
        ok(r.returncode == 2 and "--since" in r.stderr, "events --since with a bad value is a usage error",
           r.stderr)

        # shutdown: the hypervisor for a guest that does not watch control/shutdown (and says so),
        # the guest itself for one that does, the hypervisor again with --force
        r = p.pvctl("shutdown", "idle", "--timeout", "20")
        ok(r.returncode == 0 and "does not watch control/shutdown" in r.stdout,
           "pvctl shutdown of a guest without control/feature-poweroff says the hypervisor shut it down",
           r.stdout + r.stderr)
        for name, force in (("obey-a", False), ("obey-b", True)):
            p.call("domain.create", {"config": config(name, "xenstore_obey.elf")})
            deadline = time.time() + 30
            while time.time() < deadline and not any(
                    "waiting for control/shutdown" in line for line in
                    p.call("domain.console", {"domain": name}).get("result", {}).get("data", "").splitlines()):
                time.sleep(0.2)
            res = p.call("domain.shutdown", {"domain": name, "force": force}).get("result", {})
            want = "hypervisor" if force else "guest"
            ok(res.get("shutdown_by") == want, f"domain.shutdown{' force' if force else ''} of a cooperating "
               f"guest is done by the {want}", res.get("shutdown_by"))
        big = dict(config("huge", "hello.elf"), memory="1G")
        r = p.call("domain.create", {"config": big})
        msg = r.get("error", {}).get("message", "")
        ok("needs 1024 MiB" in msg and "MiB free of" in msg and "--machine-mem" in msg,
           "a domain too big for the machine says what it needs, what is free and the machine's size", msg)
    finally:
        p.cleanup()


if __name__ == "__main__":
    main()
    done()
