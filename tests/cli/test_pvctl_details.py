#!/usr/bin/env python3
"""What a new pvctl user runs into, one case each, against a real pvd:
bash completion of domain names (with --socket anywhere), global options
anywhere, --version, "did you mean", every validation error printed,
upper-case UUIDs, absolute console log paths, rates in bytes/s, a console
that ends when its domain stops, and the autostart documentation agreeing
with the behaviour. Prints TAP lines."""
import json
import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "daemon"))
from pvdharness import BUILD, MachinePvd, Pvd, PVCTL, ROOT, ok, done  # noqa: E402

EX = os.path.join(ROOT, "examples")
COMPLETION = os.path.join(ROOT, "packaging/completion/pvctl")


def complete(words, env_socket=None):
    """Run the bash completion on a command line (the last word is being
    completed); returns the candidates."""
    line = " ".join(f"'{w}'" for w in words)
    script = (f"source '{COMPLETION}'; COMP_WORDS=({line}); COMP_CWORD={len(words) - 1}; _pvctl; "
              "printf '%s\\n' \"${COMPREPLY[@]}\"")
    env = dict(os.environ, PATH=os.path.dirname(PVCTL) + ":" + os.environ.get("PATH", ""))
    env.pop("PVD_SOCKET", None)
    if env_socket:
        env["PVD_SOCKET"] = env_socket
    r = subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=env, timeout=30)
    return [w for w in r.stdout.split("\n") if w]


def run(*args, env_socket=None, cwd=None):
    env = dict(os.environ)
    env.pop("PVD_SOCKET", None)
    if env_socket:
        env["PVD_SOCKET"] = env_socket
    return subprocess.run([PVCTL] + list(args), capture_output=True, text=True, env=env, timeout=30, cwd=cwd)


def test_completion(p):
    names = complete(["pvctl", "--socket", p.sock, "info", ""])
    ok(sorted(names) == ["hello", "hello-xml"], "completion offers the domain names of the --socket pvd", names)
    names = complete(["pvctl", "start", "--socket", p.sock, "hel"])
    ok(sorted(names) == ["hello", "hello-xml"], "completion honours --socket after the command", names)
    names = complete(["pvctl", "console", "hello-"], env_socket=p.sock)
    ok(names == ["hello-xml"], "completion asks the PVD_SOCKET pvd without --socket", names)
    names = complete(["pvctl", "list", "--"])
    ok("--all" in names and "--name" in names and "--socket" in names and "--follow" not in names,
       "completion offers the flags the command's help lists, and the global options", names)
    names = complete(["pvctl", "--socket", p.sock, "autostart", "hello", ""])
    ok(names == ["on", "off"], "completion of autostart's second argument", names)
    names = complete(["pvctl", "li"])
    ok(names == ["list"], "completion of a command name", names)


def test_global_options(p):
    r = run("list", "--all", "--socket", p.sock)
    ok(r.returncode == 0 and "hello" in r.stdout, "--socket after the command and its flags", r)
    r = run("list", "--socket=" + p.sock, "--all", "--name")
    ok(r.returncode == 0 and r.stdout.split() == ["hello", "hello-xml"], "--socket=PATH between flags; list --name",
       r)
    r = run("info", "hello", "--help")
    ok(r.returncode == 0 and r.stdout.startswith("usage: pvctl"), "--help after a command", r)
    r = run("--version")
    ok(r.returncode == 0 and r.stdout == "pvctl 0.1.0\n", "pvctl --version, without a pvd", r)
    r = run("list", "--version")
    ok(r.returncode == 0 and r.stdout == "pvctl 0.1.0\n", "--version anywhere on the line", r)
    r = run("list", "--socket")
    ok(r.returncode == 2 and "--socket needs a value" in r.stderr, "--socket without its value: usage error", r)


def test_did_you_mean():
    for typo, meant in (("lsit", "list"), ("stat", "start"), ("destory", "destroy"), ("inf", "info"),
                        ("undef", "undefine")):
        r = run(typo)
        ok(r.returncode == 2 and f'did you mean "{meant}"' in r.stderr, f"pvctl {typo}: did you mean {meant}", r)
    r = run("frobnicate")
    ok(r.returncode == 2 and "unknown command" in r.stderr and "did you mean" not in r.stderr,
       "nothing close: no suggestion", r)


def test_every_validation_error(p, tmp):
    bad = os.path.join(tmp, "three-errors.json")
    with open(bad, "w") as f:
        json.dump({"name": "bad", "kernel": "/k.elf", "memory": 0, "vcpus": 99, "cpu": {"weight": 0},
                   "extra": 1}, f)
    for cmd in ("check", "define"):
        r = p.pvctl(cmd, bad)
        lines = r.stderr.splitlines()
        paths = sorted(re.sub(r"^pvctl: [^:]*: ([^:]*):.*", r"\1", line) for line in lines)
        ok(r.returncode == 1 and len(lines) >= 4 and all(line.startswith(f"pvctl: {bad}: /") for line in lines)
           and {"/memory", "/vcpus", "/cpu/weight"} <= set(paths),
           f"pvctl {cmd}: every validation error on its own line, naming file and field", r.stderr)
    many = os.path.join(tmp, "many-errors.json")
    with open(many, "w") as f:
        json.dump({"name": "many", "kernel": "/k.elf", "memory": 32,
                   "vifs": [{"weight": 0, "rate": -1, "burst": -1}] * 8}, f)
    r = p.pvctl("check", many)
    lines = r.stderr.splitlines()
    ok(r.returncode == 1 and len(lines) == 17 and re.match(rf"pvctl: {many}: and \d+ more problems$", lines[-1]),
       "more problems than pvd lists: the count of the rest", r.stderr)
    xml = os.path.join(tmp, "two-errors.xml")
    with open(xml, "w") as f:
        f.write("<domain><name>x</name><kernel>/k.elf</kernel><memory>0</memory><vcpus>99</vcpus></domain>")
    r = p.pvctl("check", xml)
    ok(r.returncode == 1 and len(r.stderr.splitlines()) >= 2 and "/domain/vcpus" in r.stderr
       and "/domain/memory" in r.stderr, "XML: every error, by XPath", r.stderr)


def test_upper_case_uuid(p):
    uuid = json.loads(p.pvctl("info", "hello", "--json").stdout)["uuid"]
    up = uuid.upper()
    r = p.pvctl("info", up)
    ok(r.returncode == 0 and f"UUID:         {uuid}" in r.stdout, "pvctl info UPPER-CASE-UUID", r)
    r = p.pvctl("autostart", up, "on")
    ok(r.returncode == 0 and 'Domain "hello"' in r.stdout, "pvctl autostart UPPER-CASE-UUID on", r)
    r = p.pvctl("start", up)
    ok(r.returncode == 1 and "No such domain" not in r.stderr, "pvctl start UPPER-CASE-UUID finds the domain", r)
    ev = p.call("events.list", {"domain": up})["result"]
    ok(ev and all(e["domain"]["uuid"] == uuid for e in ev), "events.list with an upper-case UUID", ev)
    mixed = uuid[:18].upper() + uuid[18:]
    r = p.pvctl("info", mixed, "--json")
    ok(r.returncode == 0 and json.loads(r.stdout)["uuid"] == uuid, "a mixed-case UUID", r)


def test_info_paths_and_rates(tmp):
    cwd = os.getcwd()
    os.makedirs(os.path.join(tmp, "rel"))
    os.chdir(tmp)
    try:
        q = Pvd(["--state-dir", "relative-state"], tmp=os.path.join(tmp, "rel")).start()
    finally:
        os.chdir(cwd)
    try:
        cfg = os.path.join(tmp, "rates.json")
        with open(cfg, "w") as f:
            json.dump({"name": "rates", "kernel": "/k.elf", "memory": 32,
                       "disks": [{"name": "root", "size": 64, "bps": "2M", "iops": 300, "quota": 32}],
                       "vifs": [{"rate": "10M", "burst": 1536}, {"rate": 1000}, {}]}, f)
        r = q.pvctl("define", cfg)
        ok(r.returncode == 0, "define a domain with rates", r)
        r = q.pvctl("info", "rates")
        log = re.search(r"^Console log: +(\S+)$", r.stdout, re.M)
        ok(log and os.path.isabs(log.group(1)) and
           log.group(1).startswith(os.path.join(tmp, "relative-state", "consoles") + "/"),
           "info shows the console log as an absolute path (pvd started with a relative --state-dir)", r.stdout)
        ok("rate 10485760 bytes/s (10 MiB/s), burst 1536 bytes," in r.stdout, "a vif rate in bytes/s", r.stdout)
        ok("rate 1000 bytes/s, burst one second of rate" in r.stdout, "a rate that is no whole KiB, default burst",
           r.stdout)
        ok("rate unlimited" in r.stdout, "rate 0 is shown as unlimited", r.stdout)
        ok("quota 32 MiB, rate 2097152 bytes/s (2 MiB/s), ops/s 300" in r.stdout, "disk limits in their units",
           r.stdout)
    finally:
        q.cleanup()


def test_autostart_docs():
    said = {
        "pvctl help autostart": run("help", "autostart").stdout,
        "pvctl.1": open(os.path.join(ROOT, "packaging/man/pvctl.1")).read(),
        "pvd.8": open(os.path.join(ROOT, "packaging/man/pvd.8")).read(),
        "README.md": open(os.path.join(ROOT, "README.md")).read(),
        "docs/daemon.md": open(os.path.join(ROOT, "docs/daemon.md")).read(),
        "pvd.openrpc.json": open(os.path.join(ROOT, "api/pvd.openrpc.json")).read(),
        "domain.schema.json": open(os.path.join(ROOT, "schemas/domain.schema.json")).read(),
    }
    for where, text in said.items():
        flat = " ".join(text.split())
        ok("when pvd starts" not in flat and re.search(r"(pvd boots the machine|once per machine boot)", flat),
           f"{where}: autostart is per machine boot, as pvd does it", flat[:200])


def test_console_ends_when_domain_stops():
    hello = os.path.join(BUILD, "guests", "hello.elf")
    if not os.path.exists(os.path.join(BUILD, "pvcore.iso")) or not os.path.exists(hello):
        ok(True, "console ends when the domain stops # SKIP no ISO or guest built")
        return
    m = MachinePvd().start()
    try:
        tmp = m.tmp
        cfg = os.path.join(tmp, "c.json")
        for transient, name in ((False, "cons"), (True, "cons-t")):
            with open(cfg, "w") as f:
                json.dump({"name": name, "kernel": hello, "cmdline": f"name={name}", "memory": 16}, f)
            args = ["create", cfg] + (["--transient"] if transient else [])
            r = m.pvctl(*args)
            ok(r.returncode == 0, f"create {name}", r)
            env = dict(os.environ, PVD_SOCKET=m.sock)
            con = subprocess.Popen([PVCTL, "console", name], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   text=True, env=env)
            deadline = time.time() + 20
            while time.time() < deadline and "Hello from pvcore" not in \
                    m.pvctl("console", name, "--no-follow").stdout:
                time.sleep(0.2)
            m.pvctl("destroy", name)
            try:
                out, err = con.communicate(timeout=15)
            except subprocess.TimeoutExpired:
                con.kill()
                out, err = con.communicate()
                ok(False, f"console of {name} ends when it is destroyed", "still following after 15 s")
                continue
            want = "is gone" if transient else 'is shut-off: console closed'
            ok(con.returncode == 0 and "Hello from pvcore" in out and want in err,
               f"console of a {'transient' if transient else 'defined'} domain says it stopped and exits",
               (con.returncode, out[-200:], err))
        r = m.pvctl("console", "cons")
        ok(r.returncode == 0 and "Hello from pvcore" in r.stdout and "is shut-off" in r.stderr,
           "console of a domain already off: its log, then says so and exits", r)
    finally:
        m.cleanup()


def main():
    p = Pvd().start()
    tmp = tempfile.mkdtemp(prefix="pvctl-details.")
    try:
        for f in ("hello.json", "hello.xml"):
            r = p.pvctl("define", f"{EX}/{f}")
            if r.returncode != 0:
                raise RuntimeError(r.stderr)
        test_completion(p)
        test_global_options(p)
        test_did_you_mean()
        test_every_validation_error(p, tmp)
        test_upper_case_uuid(p)
        test_info_paths_and_rates(tmp)
        test_autostart_docs()
    finally:
        p.cleanup()
        subprocess.run(["rm", "-rf", tmp])
    test_console_ends_when_domain_stops()
    done()


if __name__ == "__main__":
    main()
