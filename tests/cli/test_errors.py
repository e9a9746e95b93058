#!/usr/bin/env python3
"""Errors that say what to do, through pvctl and a pvd with the real
machine: live sched / mem-set / mem-max give config validation's own
messages (the same text config.validate gives for the same value in a
config); a missing kernel is a configuration error naming /kernel, on
start, from pvd --check-config and from pvctl check, never a hypervisor
error; while four
domains build, pvd keeps answering (the loop does not wait for builds).
Prints TAP lines."""
import json
import os
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "daemon"))
from pvdharness import BUILD, PVD, MachinePvd, ok, done, code, readline  # noqa: E402

KERNEL = os.path.join(BUILD, "guests", "ticker.elf")


def config(name, **kw):
    return dict({"name": name, "kernel": KERNEL, "memory": "16M", "vcpus": 1}, **kw)


def validator_message(p, cfg):
    """What config validation says about cfg: its first problem."""
    r = p.call("config.validate", {"config": cfg})
    errs = r.get("error", {}).get("data", {}).get("errors", [])
    return f"{errs[0]['path']}: {errs[0]['message']}" if errs else ""


def main():
    p = MachinePvd(machine_mem=384)
    try:
        p.start()
        ok("result" in p.call("domain.create", {"config": config("live")}), "a domain runs")
        cases = (
            (("sched", "live", "--cap", "101"), config("x", cpu={"cap": 101})),
            (("mem-set", "live", "2"), config("x", memory=2)),
            (("mem-max", "live", "8"), config("x", maxmem=8)),
        )
        for args, cfg in cases:
            want = validator_message(p, cfg)
            r = p.pvctl(*args)
            ok(r.returncode == 1 and want and want in r.stderr,
               f"pvctl {' '.join(args)} says what config validation says ({want})", r.stderr)
        r = p.pvctl("sched", "live", "--weight", "0")
        ok(r.returncode == 1 and "0 is below the minimum of 1" in r.stderr and
           "0 is below the minimum of 1" in validator_message(p, config("x", cpu={"weight": 0})),
           "pvctl sched --weight 0: the validator's words", r.stderr)
        r = p.pvctl("sched", "live", "--weight", "512", "--cap", "50")
        ok(r.returncode == 0, "a valid live sched change is made", r.stderr)

        # a missing kernel: a configuration error, named
        r = p.call("domain.create", {"config": config("nokernel", kernel=os.path.join(BUILD, "guests", "absent.elf"))})
        err = r.get("error", {})
        ok(err.get("code") == -32602 and "configuration error" in err.get("message", "") and
           err.get("data", {}).get("errors", [{}])[0].get("path") == "/kernel" and
           "Hypervisor" not in err.get("message", ""),
           "a missing kernel is a configuration error naming /kernel (-32602), not a hypervisor error", r)
        ok(code(p.call("domain.info", {"domain": "nokernel"})) == -32001, "the failed create left nothing defined")
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "k.json")
            with open(path, "w") as f:
                json.dump(config("k", kernel="absent.elf"), f)
            c = subprocess.run([PVD, "--check-config", path], capture_output=True, text=True)
            ok(c.returncode == 1 and "/kernel" in c.stderr and "absent.elf" in c.stderr,
               "pvd --check-config reports the missing kernel", c.stdout + c.stderr)
            c = p.pvctl("check", path)
            ok(c.returncode == 1 and "/kernel" in c.stderr and "absent.elf" in c.stderr,
               "pvctl check reports the missing kernel", c.stdout + c.stderr)
            good = os.path.join(d, "good.json")
            with open(good, "w") as f:
                json.dump(config("good"), f)
            c = p.pvctl("check", good)
            ok(c.returncode == 0 and "valid config" in c.stdout, "pvctl check of a config whose kernel is there",
               c.stdout + c.stderr)

        # a batch with a start: one frame, sent once the build is done, with both answers
        p.call("domain.define", {"config": config("batched")})
        with p.connect(60) as sock:
            sock.sendall(json.dumps([
                {"jsonrpc": "2.0", "id": 1, "method": "domain.start", "params": {"domain": "batched"}},
                {"jsonrpc": "2.0", "id": 2, "method": "daemon.version"}]).encode() + b"\n")
            answer = json.loads(readline(sock))
        by_id = {a.get("id"): a for a in answer} if isinstance(answer, list) else {}
        ok(len(by_id) == 2 and by_id[1].get("result", {}).get("state") == "running" and "result" in by_id[2],
           "a batch with domain.start is answered in one frame once the domain runs", answer)

        # builds do not stall the loop: four 64 MiB starts at once, info answers meanwhile
        for i in range(4):
            p.call("domain.define", {"config": config(f"b{i}", memory="64M")})
        slowest = [0.0]
        stop = threading.Event()

        def probe():
            while not stop.is_set():
                t0 = time.monotonic()
                p.call("domain.info", {"domain": "live"})
                slowest[0] = max(slowest[0], time.monotonic() - t0)
                time.sleep(0.01)
        starts = [threading.Thread(target=p.call, args=("domain.start", {"domain": f"b{i}"})) for i in range(4)]
        t = threading.Thread(target=probe)
        t.start()
        t0 = time.monotonic()
        for s in starts:
            s.start()
        for s in starts:
            s.join()
        took = time.monotonic() - t0
        stop.set()
        t.join()
        states = [p.call("domain.info", {"domain": f"b{i}"}).get("result", {}).get("state") for i in range(4)]
        print(f"# four starts took {took:.2f} s; slowest domain.info meanwhile {slowest[0] * 1000:.0f} ms")
        ok(all(s == "running" for s in states), "four domains started at once all run", states)
        ok(slowest[0] < max(1.0, took / 3), "domain.info answers while they build", f"{slowest[0]:.2f} s of {took:.2f} s")
    finally:
        p.cleanup()
    done()


if __name__ == "__main__":
    main()
