#!/usr/bin/env python3
"""info_bench - does pvd's loop block while it builds domains?

Starts pvd with a machine big enough for four domains of 512 MiB (QEMU
under TCG, --machine-mem 2560), defines them, and measures the latency of
domain.info (one connection, a call every 5 ms, timed from when it
was due) in two phases, side by
side in one run:

  idle    no domain is being built;
  builds  four domain.start calls run at the same time (each on its own
          connection, so they queue in pvd), while the info client keeps
          calling; the phase lasts until all four have answered. The
          domains are then destroyed and the phase is repeated ROUNDS
          times (BENCH_ROUNDS, default 3).

Prints p50/p99/max for each phase, the ratio builds/idle, and the build
times. A number to compare, never a pass/fail test: `make bench-info`.
"""
import json
import os
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "daemon"))
from pvdharness import BUILD, MachinePvd, readline  # noqa: E402

DOMAINS = 4
MEMORY = "512M"
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
INTERVAL = 0.005  # s between domain.info calls
KERNEL = os.path.join(BUILD, "guests/ticker.elf")


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p / 100))] if xs else float("nan")


def call(p, method, params, timeout=300):
    with p.connect(timeout) as s:
        s.sendall(json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode() + b"\n")
        return json.loads(readline(s))


def info_loop(p, name, stop, lat):
    """domain.info every INTERVAL on one connection until stop is set. A
    call is timed from when it was due, not from when it could be sent:
    while pvd does not answer, the calls that fall due all wait (without
    this, a loop blocked for seconds would count as one slow call)."""
    with p.connect(300) as s:
        n = 0
        t0 = time.monotonic()
        while not stop.is_set():
            due = t0 + n * INTERVAL
            n += 1
            now = time.monotonic()
            if now < due:
                time.sleep(due - now)
            s.sendall(json.dumps({"jsonrpc": "2.0", "id": n, "method": "domain.info",
                                  "params": {"domain": name}}).encode() + b"\n")
            r = json.loads(readline(s))
            done = time.monotonic()
            # every call that fell due while this one waited waited as long, less its lateness
            while t0 + n * INTERVAL < done and not stop.is_set():
                lat.append(done - (t0 + n * INTERVAL))
                n += 1
            lat.append(done - due)
            if "error" in r:
                raise RuntimeError(f"domain.info: {r['error']}")


def wait_gone(p, names, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        states = [p.call("domain.info", {"domain": n})["result"]["state"] for n in names]
        if all(s == "shut-off" for s in states):
            return
        time.sleep(0.2)
    raise RuntimeError(f"domains did not go: {states}")


def main():
    p = MachinePvd(machine_mem=2560 + 256)
    p.start_timeout = 120
    try:
        p.start()
        names = [f"big{i}" for i in range(DOMAINS)]
        for n in names + ["probe"]:
            mem = "16M" if n == "probe" else MEMORY
            r = call(p, "domain.define", {"config": {"name": n, "kernel": KERNEL, "memory": mem, "vcpus": 1,
                                                    "cmdline": f"name={n}"}})
            if "error" in r:
                raise RuntimeError(f"define {n}: {r['error']}")
        # idle: as many samples over as long as the build phase takes
        idle, busy, builds = [], [], []
        for rnd in range(ROUNDS):
            stop = threading.Event()
            t = threading.Thread(target=info_loop, args=(p, "probe", stop, idle))
            t.start()
            time.sleep(2.0)
            stop.set()
            t.join()

            stop = threading.Event()
            t = threading.Thread(target=info_loop, args=(p, "probe", stop, busy))
            results = {}

            def start(n):
                t0 = time.monotonic()
                results[n] = (call(p, "domain.start", {"domain": n}), time.monotonic() - t0)

            starters = [threading.Thread(target=start, args=(n,)) for n in names]
            t.start()
            time.sleep(0.2)
            for s in starters:
                s.start()
            for s in starters:
                s.join()
            stop.set()
            t.join()
            for n, (r, secs) in results.items():
                if "error" in r:
                    raise RuntimeError(f"start {n}: {r['error']}")
                builds.append(secs)
            for n in names:
                call(p, "domain.destroy", {"domain": n})
            wait_gone(p, names)
            print(f"# round {rnd + 1}/{ROUNDS}: {len(busy)} info calls during builds so far", flush=True)
        ms = 1000.0
        print(f"domain.info latency, {DOMAINS} domains of {MEMORY} built at once, {ROUNDS} rounds")
        print(f"{'phase':<8} {'calls':>7} {'p50 ms':>9} {'p99 ms':>9} {'max ms':>9}")
        for label, xs in (("idle", idle), ("builds", busy)):
            print(f"{label:<8} {len(xs):>7} {pct(xs, 50) * ms:>9.2f} {pct(xs, 99) * ms:>9.2f} {max(xs) * ms:>9.2f}")
        print(f"ratio builds/idle: p50 {pct(busy, 50) / pct(idle, 50):.1f}x, p99 {pct(busy, 99) / pct(idle, 99):.1f}x")
        print(f"domain.start answered after: p50 {pct(builds, 50):.2f} s, max {max(builds):.2f} s")
    finally:
        p.cleanup()


if __name__ == "__main__":
    main()
