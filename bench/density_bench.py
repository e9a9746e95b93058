#!/usr/bin/env python3
"""density_bench.py - how many small domains one machine holds, and whether
the last one is created as fast as the first (`make bench-density`).

Starts a real pvd that boots a machine big enough for COUNT domains of
MEM MiB (its state under /dev/shm, so the RAM file is not written back to
disk; its RAM faulted in at boot, --machine-prealloc: without it the host's
zeroing of fresh pages, 44 % of QEMU's time once creations reach memory
never touched, lands on the later domains), then creates domains one after another with domain.create (the
ticker guest: one console line, then it sleeps for an hour on a one-shot
timer, an idle single-vCPU domain) until COUNT exist or a creation fails
(the failure is printed: that is the limit). Prints the time of the 1st,
10th, 100th, 1,000th ... creation (one JSON-RPC call: define, build,
unpause), medians of the first and last 50, per hundred domains the
median creation and the CPU time pvd and QEMU (the machine: hypervisor
and guests) spent per creation, the total, the hypervisor
memory each domain costs beyond its own pages (the machine's free memory
before and after, from host.info, less COUNT * MEM), checks that the
first, middle and last domain printed their line, then destroys them all
(timed too). Asserts nothing about speed: a benchmark, not a test.

Usage: density_bench.py [COUNT] [MEM_MIB]   (defaults 1000 and 4;
environment DENSITY_COUNT, DENSITY_MEM_MIB do the same).
"""
import os
import statistics
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "daemon"))
from pvdharness import BUILD, MachinePvd  # noqa: E402


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def cpu_ms(pid):
    """User + system CPU time of a process so far, in ms (0 if it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def call(p, method, params=None):
    r = p.call(method, params)
    if "error" in r:
        raise RuntimeError(f"{method}: {r['error'].get('message')}")
    return r["result"]


def wait_line(p, name, text, timeout=30):
    end = time.time() + timeout
    while time.time() < end:
        if text in call(p, "domain.console", {"domain": name}).get("data", ""):
            return True
        time.sleep(0.1)
    return False


def main():
    count = int(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("DENSITY_COUNT", 1000))
    mem = int(sys.argv[2] if len(sys.argv) > 2 else os.environ.get("DENSITY_MEM_MIB", 4))
    if count < 1 or count > 2047 or mem < 1:
        print("usage: density_bench.py [COUNT 1-2047] [MEM_MIB >= 1]", file=sys.stderr)
        return 2
    kernel = os.path.join(BUILD, "guests", "ticker.elf")
    # The domains, the hypervisor's own (frame table, heap of structures),
    # a margin; whole GiB above 3 GiB so the PCI-hole split is exercised.
    machine_mib = count * mem + count // 8 + 256
    shm = "/dev/shm" if os.path.isdir("/dev/shm") else None
    p = MachinePvd(tmp=tempfile.mkdtemp(prefix="pvd-density.", dir=shm), machine_mem=machine_mib,
                   extra=("--image-dir", os.path.dirname(kernel), "--machine-prealloc"))
    p.start_timeout = 120
    print(f"bench-density: up to {count} domains of {mem} MiB (ticker guest, 1 vCPU) on one machine "
          f"of {machine_mib} MiB (QEMU TCG); load average {loadavg()}", flush=True)
    try:
        p.start()
        host = call(p, "host.info")
        free0 = host["free_mib"]
        print(f"machine: {host['memory_mib']} MiB usable, {free0} MiB free before the first domain")
        times, names, stop, windows = [], [], None, []
        qemu = host.get("qemu_pid")
        cpu0 = (cpu_ms(p.proc.pid), cpu_ms(qemu) if qemu else 0.0)
        t_all = time.monotonic()
        for i in range(count):
            name = f"d{i + 1:04d}"
            cfg = {"name": name, "kernel": kernel, "cmdline": "period_ms=3600000",
                   "memory": mem, "vcpus": 1}
            t0 = time.monotonic()
            r = p.call("domain.create", {"config": cfg, "transient": True})
            dt = time.monotonic() - t0
            if "error" in r:
                stop = f"creation {i + 1} failed: {r['error'].get('message')}"
                break
            times.append(dt)
            names.append(name)
            if (i + 1) % 100 == 0:
                cpu1 = (cpu_ms(p.proc.pid), cpu_ms(qemu) if qemu else 0.0)
                windows.append((i + 1, statistics.median(times[-100:]), (cpu1[0] - cpu0[0]) / 100,
                                (cpu1[1] - cpu0[1]) / 100))
                cpu0 = cpu1
                print(f"  {i + 1} domains, the last in {dt * 1e3:.1f} ms", flush=True)
        total = time.monotonic() - t_all
        n = len(times)
        host = call(p, "host.info")
        free1 = host["free_mib"]
        doms = call(p, "domain.list", {"all": True})
        running = sum(1 for d in doms if d.get("state") == "running")
        print(f"\n{n} domains created in {total:.1f} s" + (f"; stopped: {stop}" if stop else "") +
              f"; {running} running by domain.list")
        print("\n| creation | time (ms) |\n|---|---:|")
        for k in (1, 10, 100, 1000, 2000):
            if k <= n:
                print(f"| {k}th | {times[k - 1] * 1e3:.1f} |")
        if n >= 100:
            first, last = statistics.median(times[:50]), statistics.median(times[-50:])
            print(f"| median of the first 50 | {first * 1e3:.1f} |")
            print(f"| median of the last 50 | {last * 1e3:.1f} |")
            print(f"| last 50 / first 50 | {last / first:.2f} |")
        print(f"| mean | {total / max(n, 1) * 1e3:.1f} |")
        if windows:
            print("\n| domains | median creation ms | pvd CPU ms per creation | QEMU CPU ms per creation |"
                  "\n|---|---:|---:|---:|")
            for k, med, pv, qe in windows:
                print(f"| {k - 99}-{k} | {med * 1e3:.1f} | {pv:.1f} | {qe:.1f} |")
        used_kib = (free0 - free1) * 1024
        per = (used_kib - n * mem * 1024) / n if n else 0
        print(f"\nhypervisor memory per domain beyond its {mem} MiB: {per:.1f} KiB "
              f"({free0 - free1} MiB taken by {n} domains; host.info counts whole MiB, "
              f"so +-{1024 / max(n, 1):.1f} KiB)")
        for k in sorted({1, (n + 1) // 2, n}):
            if k:
                print(f"{names[k - 1]}: console line {'seen' if wait_line(p, names[k - 1], 'tick 1') else 'MISSING'}")
        t0 = time.monotonic()
        for name in names:
            call(p, "domain.destroy", {"domain": name})
        print(f"\ndestroying all {n}: {time.monotonic() - t0:.1f} s; load average {loadavg()}")
        return 0
    finally:
        p.cleanup()


if __name__ == "__main__":
    sys.exit(main())
