#!/usr/bin/env python3
"""pvctl against a real pvd: every command, tables and --json, exit status
0 / 1 / 2 with one-line errors, --socket and PVD_SOCKET, help from the
command table, events --follow. Prints TAP lines."""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "daemon"))
from pvdharness import Pvd, PVCTL, ROOT, ok, done  # noqa: E402

EX = os.path.join(ROOT, "examples")


def main():
    p = Pvd().start()
    try:
        r = p.pvctl("define", f"{EX}/hello.json")
        ok(r.returncode == 0 and r.stdout.startswith('Domain "hello" defined (uuid '), "pvctl define FILE", r)
        r = p.pvctl("define", f"{EX}/hello.xml", "--json")
        d = json.loads(r.stdout)
        ok(r.returncode == 0 and d["name"] == "hello-xml" and d["vifs"][0]["mac"], "pvctl define FILE.xml --json", r)
        r = p.pvctl("define", f"{EX}/hello.json")
        ok(r.returncode == 1 and r.stderr.count("\n") == 1 and "already exists" in r.stderr,
           "defining twice: exit 1 with one line naming the cause", r)
        r = p.pvctl("list")
        ok(r.returncode == 0 and r.stdout.splitlines() == [r.stdout.splitlines()[0]] and "NAME" in r.stdout,
           "pvctl list shows only running domains (none)", r.stdout)
        r = p.pvctl("list", "--all")
        lines = r.stdout.splitlines()
        ok(r.returncode == 0 and len(lines) == 3 and "hello" in lines[1] and "shut-off" in lines[1]
           and "32 MiB" in lines[1], "pvctl list --all is a table", r.stdout)
        r = p.pvctl("list", "--all", "--json")
        ok([x["name"] for x in json.loads(r.stdout)] == ["hello", "hello-xml"], "pvctl list --all --json", r.stdout)
        uuid = json.loads(r.stdout)[0]["uuid"]
        r = p.pvctl("info", uuid)
        ok(r.returncode == 0 and "Name:         hello" in r.stdout and "Interfaces:" in r.stdout, "pvctl info UUID",
           r.stdout)
        r = p.pvctl("info", "hello", "--json")
        ok(json.loads(r.stdout)["uuid"] == uuid, "pvctl info NAME --json", r.stdout)
        r = p.pvctl("info", "3")
        ok(r.returncode == 1 and "domid 3" in r.stderr, "pvctl info DOMID: no running domain has it", r.stderr)
        r = p.pvctl("autostart", "hello", "on")
        ok(r.returncode == 0 and "autostart on" in r.stdout, "pvctl autostart DOM on", r)
        r = p.pvctl("autostart", "hello", "on")
        ok(r.returncode == 0 and "(unchanged)" in r.stdout, "pvctl autostart is idempotent and says so", r)
        r = p.pvctl("autostart", "hello", "maybe")
        ok(r.returncode == 2 and "on or off" in r.stderr, "pvctl autostart DOM maybe: usage error 2", r)
        r = p.pvctl("check", os.path.join(ROOT, "tests/configs/bad-weight.json"))
        ok(r.returncode == 1 and "/cpu/weight: 0 is below the minimum of 1" in r.stderr, "pvctl check names the field",
           r.stderr)
        r = p.pvctl("check", f"{EX}/hello.xml")
        ok(r.returncode == 0 and "valid" in r.stdout, "pvctl check on a valid XML config", r)
        r = p.pvctl("events")
        ok(r.returncode == 0 and "domain.defined" in r.stdout and "domain.autostart" in r.stdout, "pvctl events",
           r.stdout)
        r = p.pvctl("version")
        ok(r.returncode == 0 and "pvd 0.1.0" in r.stdout and "sqlite" in r.stdout, "pvctl version", r.stdout)

        # events --follow sees a change made by another client
        env = dict(os.environ, PVD_SOCKET=p.sock)
        follow = subprocess.Popen([PVCTL, "events", "--follow", "--json"], stdout=subprocess.PIPE, text=True, env=env)
        time.sleep(0.5)
        p.pvctl("undefine", "hello-xml")
        seen = []
        deadline = time.time() + 10
        while time.time() < deadline:
            line = follow.stdout.readline()
            if not line:
                break
            seen.append(json.loads(line))
            if seen[-1]["type"] == "domain.undefined":
                break
        follow.terminate()
        follow.wait()
        ok(seen and seen[-1]["type"] == "domain.undefined" and seen[-1]["domain"]["name"] == "hello-xml"
           and seen[0]["type"] == "daemon.started", "pvctl events --follow: the log, then new events", seen[-2:])

        # usage errors and help, all from the command table
        for args, what in ((["bogus"], "unknown command"), (["info"], "more arguments"),
                           (["list", "--follow"], "does not take --follow"), ([], "usage")):
            r = p.pvctl(*args)
            ok(r.returncode == 2 and what in r.stderr, f"pvctl {' '.join(args)}: exit 2 ({what})", r)
        r = p.pvctl("help")
        names = subprocess.run([PVCTL, "--list-commands"], capture_output=True, text=True).stdout.split()
        ok(r.returncode == 0 and all(f"  {n} " in r.stdout for n in names) and len(names) == 33,
           "pvctl help lists every command of the table", r.stdout)
        r = p.pvctl("help", "define")
        ok(r.returncode == 0 and "usage: pvctl define FILE" in r.stdout, "pvctl help COMMAND", r.stdout)
        # --socket wins over PVD_SOCKET; a missing socket is one clear line
        r = subprocess.run([PVCTL, "--socket", p.sock, "list", "--all"], capture_output=True, text=True,
                           env=dict(os.environ, PVD_SOCKET="/nonexistent/pvd.sock"))
        ok(r.returncode == 0 and "hello" in r.stdout, "--socket overrides PVD_SOCKET", r)
        r = subprocess.run([PVCTL, "list"], capture_output=True, text=True,
                           env=dict(os.environ, PVD_SOCKET="/nonexistent/pvd.sock"))
        ok(r.returncode == 1 and "cannot connect to /nonexistent/pvd.sock" in r.stderr and r.stderr.count("\n") == 1,
           "no pvd: exit 1, one line naming the socket", r.stderr)
        r = p.pvctl("define", "/nonexistent.json")
        ok(r.returncode == 1 and "/nonexistent.json: No such file" in r.stderr, "a missing config file", r.stderr)
        r = p.pvctl("undefine", "hello")
        ok(r.returncode == 0 and 'Domain "hello" undefined' in r.stdout, "pvctl undefine", r)
    finally:
        p.cleanup()
    done()


if __name__ == "__main__":
    main()
