#!/usr/bin/env python3
"""pvctl start --all / shutdown --all against a pvd with a machine, and
pvd-guests (the script pvd-guests.service runs at host shutdown and boot)
with each ON_SHUTDOWN / ON_BOOT setting; the installed units pass
systemd-analyze verify. Prints TAP lines."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "daemon"))
from pvdharness import BUILD, MachinePvd, ROOT, ok, done  # noqa: E402

SCRIPT = os.path.join(ROOT, "packaging/systemd/pvd-guests")
HELLO = os.path.join(BUILD, "guests", "hello.elf")


def states(m):
    return {d["name"]: d["state"] for d in json.loads(m.pvctl("list", "--all", "--json").stdout)}


def guests(m, action, **env):
    e = dict(os.environ, PVD_SOCKET=m.sock, PVCTL=os.path.join(BUILD, "bin/pvctl"),
             PVD_GUESTS_LIST=os.path.join(m.tmp, "guests.shutdown"))
    e.update(env)
    return subprocess.run(["sh", SCRIPT, action], capture_output=True, text=True, env=e, timeout=120)


def test_bulk(m):
    for name in ("b1", "b2", "b3"):
        cfg = os.path.join(m.tmp, f"{name}.json")
        with open(cfg, "w") as f:
            json.dump({"name": name, "kernel": HELLO, "cmdline": f"name={name}", "memory": 16}, f)
        m.pvctl("define", cfg)
    r = m.pvctl("start", "--all")
    ok(r.returncode == 0 and sorted(line.split('"')[1] for line in r.stdout.splitlines()) == ["b1", "b2", "b3"]
       and all("started (domid" in line for line in r.stdout.splitlines()), "start --all starts every domain that is off",
       r)
    ok(set(states(m).values()) == {"running"}, "all three run", states(m))
    r = m.pvctl("start", "--all")
    ok(r.returncode == 0 and r.stdout == "No domain to act on\n", "start --all with nothing off", r)
    r = m.pvctl("shutdown", "--all", "--timeout", "20", "--json")
    res = json.loads(r.stdout) if r.returncode == 0 else []
    ok(r.returncode == 0 and sorted(x["name"] for x in res) == ["b1", "b2", "b3"]
       and all(x["state"] == "shut-off" for x in res), "shutdown --all --json: every domain off", r)
    ok(set(states(m).values()) == {"shut-off"}, "all three are off", states(m))
    for args, what in ((["start"], "a domain or --all"), (["start", "b1", "--all"], "a domain or --all"),
                       (["shutdown"], "a domain or --all")):
        r = m.pvctl(*args)
        ok(r.returncode == 2 and what in r.stderr, f"pvctl {' '.join(args)}: usage error", r)
    r = m.pvctl("shutdown", "b1")
    ok(r.returncode == 1 and r.stderr.count("\n") == 1 and "b1" in r.stderr,
       "shutdown of a domain that is off: exit 1, one line", r)


def test_guests_script(m):
    m.pvctl("start", "b1")
    m.pvctl("start", "b2")
    r = guests(m, "stop", ON_SHUTDOWN="keep")
    ok(r.returncode == 0 and "leaving the domains running" in r.stdout and states(m)["b1"] == "running",
       "pvd-guests stop with ON_SHUTDOWN=keep leaves them running", (r, states(m)))
    r = guests(m, "stop", ON_SHUTDOWN="shutdown", SHUTDOWN_TIMEOUT="20")
    with open(os.path.join(m.tmp, "guests.shutdown")) as f:
        listed = f.read().split()
    ok(r.returncode == 0 and states(m) == {"b1": "shut-off", "b2": "shut-off", "b3": "shut-off"}
       and sorted(listed) == ["b1", "b2"], "pvd-guests stop shuts the running domains down and records them",
       (r, states(m), listed))
    r = guests(m, "start", ON_BOOT="ignore")
    ok(r.returncode == 0 and states(m)["b1"] == "shut-off", "pvd-guests start with ON_BOOT=ignore", r)
    m.pvctl("start", "b2")
    r = guests(m, "start")
    ok(r.returncode == 0 and states(m) == {"b1": "running", "b2": "running", "b3": "shut-off"}
       and "already running" in r.stdout and not os.path.exists(os.path.join(m.tmp, "guests.shutdown")),
       "pvd-guests start starts the recorded domains again (one already running is fine)", (r, states(m)))
    r = guests(m, "stop", ON_SHUTDOWN="suspend")
    ok(r.returncode == 2 and "shutdown or keep" in r.stderr, "a bad ON_SHUTDOWN is refused", r)
    r = guests(m, "stop", SHUTDOWN_TIMEOUT="soon")
    ok(r.returncode == 2 and "SHUTDOWN_TIMEOUT" in r.stderr, "a bad SHUTDOWN_TIMEOUT is refused", r)
    m.pvctl("shutdown", "--all", "--timeout", "20")


def test_units_verify():
    if not shutil.which("systemd-analyze"):
        ok(True, "systemd-analyze verify # SKIP no systemd-analyze")
        return
    d = tempfile.mkdtemp(prefix="pvd-units.")
    try:
        r = subprocess.run(["make", "--no-print-directory", "install", f"BUILD={BUILD}", f"DESTDIR={d}", "PREFIX=/usr"],
                           capture_output=True, text=True, cwd=ROOT)
        if not ok(r.returncode == 0, "make install for the unit check", r.stderr[-500:]):
            return
        # the units as installed, their /usr and /etc paths moved under DESTDIR
        # so systemd-analyze finds the executables (and man pages) it checks
        units = os.path.join(d, "units")
        os.makedirs(units)
        for u in ("pvd.service", "pvd-guests.service"):
            with open(os.path.join(d, "lib/systemd/system", u)) as f:
                text = f.read()
            with open(os.path.join(units, u), "w") as f:
                f.write(text.replace("=/usr/", f"={d}/usr/").replace("=-/etc/", f"=-{d}/etc/"))
        r = subprocess.run(["systemd-analyze", "verify"] + [os.path.join(units, u) for u in os.listdir(units)],
                           capture_output=True, text=True, env=dict(os.environ, MANPATH=f"{d}/usr/share/man"))
        ok(r.returncode == 0 and not r.stderr.strip(), "pvd.service and pvd-guests.service pass systemd-analyze verify",
           r.stderr)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def main():
    test_units_verify()
    if not os.path.exists(os.path.join(BUILD, "pvcore.iso")) or not os.path.exists(HELLO):
        ok(True, "bulk start and shutdown # SKIP no ISO or guest built")
        done()
    m = MachinePvd().start()
    try:
        test_bulk(m)
        test_guests_script(m)
    finally:
        m.cleanup()
    done()


if __name__ == "__main__":
    main()
