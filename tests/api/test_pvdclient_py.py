#!/usr/bin/env python3
"""api/python/pvdclient.py against a real pvd: calls and results, errors
with their codes and a refused config's problems, notifications with and
without a timeout, config_params' base_dir, URIs, TLS with certificates
made by openssl (and a refused host name); then api/examples/orchestrate.py
on a config whose kernel path is relative to the config's directory, on a
pvd with a machine: the domain starts. Prints TAP lines."""
import json
import os
import shutil
import ssl
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "daemon"))
from pvdharness import BUILD, MachinePvd, Pvd, ROOT, make_pki, ok, done, tls_pvd  # noqa: E402

sys.path.insert(0, os.path.join(ROOT, "api", "python"))
import pvdclient  # noqa: E402
from pvdclient import Client, PvdError, config_params  # noqa: E402

ORCHESTRATE = os.path.join(ROOT, "api/examples/orchestrate.py")
HELLO = os.path.join(BUILD, "guests", "hello.elf")


def raises(fn, kind):
    try:
        fn()
    except kind as e:
        return e
    return None


def test_uris():
    ok(pvdclient._parse_uri("unix:///run/x.sock") == ("unix", "/run/x.sock"), "unix:///path")
    ok(pvdclient._parse_uri("/run/x.sock") == ("unix", "/run/x.sock"), "a plain path is the socket")
    ok(pvdclient._parse_uri("tls://host.example:7007") == ("tls", "host.example", 7007), "tls://HOST:PORT")
    ok(pvdclient._parse_uri("tls://[::1]:7007/") == ("tls", "::1", 7007), "tls://[v6]:PORT")
    for bad in ("tls://host", "tls://:7007", "tls://host:port"):
        ok(raises(lambda: pvdclient._parse_uri(bad), ValueError), f"{bad} is refused")
    ok(raises(lambda: Client("tls://127.0.0.1:1"), ValueError), "TLS without certificates is refused")
    e = raises(lambda: Client("/nonexistent/pvd.sock"), ConnectionError)
    ok(e and "/nonexistent/pvd.sock" in str(e), "no pvd: ConnectionError naming the socket", e)


def test_config_params(tmp):
    sub = os.path.join(tmp, "cfgs")
    os.makedirs(sub)
    shutil.copy(os.path.join(ROOT, "examples/hello.xml"), sub)
    p = config_params(os.path.relpath(os.path.join(sub, "hello.xml")), replace=True)
    ok(p["format"] == "xml" and p["base_dir"] == sub and p["replace"] is True and p["config"].startswith("<"),
       "config_params: text, format, absolute base_dir, extra params", {k: v for k, v in p.items() if k != "config"})
    p = config_params(os.path.join(sub, "hello.xml"), base_dir=False)
    ok("base_dir" not in p, "config_params(base_dir=False) leaves it out (config.validate)", p.keys())
    p = config_params(os.path.join(sub, "hello.xml"), base_dir="/srv/kernels")
    ok(p["base_dir"] == "/srv/kernels", "config_params(base_dir=DIR)", p.get("base_dir"))


def test_calls(p):
    with Client(p.sock) as c:
        v = c.call("daemon.version")
        ok(v["pvd"] == "0.1.0", "a call returns its result", v)
        d = c.call("domain.define", **config_params(os.path.join(ROOT, "examples/hello.json")))
        ok(d["name"] == "hello", "domain.define with config_params", d)
        info = c.call("domain.info", domain=d["uuid"].upper())
        ok(info["base_dir"] == os.path.join(ROOT, "examples"), "pvd stored the base_dir sent", info.get("base_dir"))
        e = raises(lambda: c.call("domain.info", domain="nope"), PvdError)
        ok(e and e.code == pvdclient.NO_SUCH_DOMAIN and "nope" in e.message, "PvdError with code and message", e)
        bad = os.path.join(p.tmp, "bad.json")
        with open(bad, "w") as f:
            json.dump({"name": "bad", "kernel": "/k", "memory": 0, "vcpus": 99}, f)
        e = raises(lambda: c.call("config.validate", **config_params(bad, base_dir=False)), PvdError)
        ok(e and e.code == pvdclient.INVALID_PARAMS and {x["path"] for x in e.errors} >= {"/memory", "/vcpus"},
           "a refused config: every problem in errors", e and e.errors)
        e = raises(lambda: c.call("no.such.method"), PvdError)
        ok(e and e.code == pvdclient.METHOD_NOT_FOUND, "an unknown method", e)
        c.call("events.subscribe", types=["domain.autostart"])
        ok(c.next_notification(timeout=0.2) is None, "next_notification times out with None")
        with Client(p.sock) as other:
            other.call("domain.autostart", domain="hello", enabled=True)
        events = list(c.events(timeout=5))
        ok(len(events) == 1 and events[0]["type"] == "domain.autostart" and events[0]["domain"]["name"] == "hello",
           "a change by another client arrives as an event", events)
        c.call("domain.autostart", domain="hello", enabled=False)
        n = c.next_notification(timeout=5)
        ok(n and n["method"] == "events.event", "a notification that arrived during a call is queued", n)


def test_tls(tmp):
    pki = os.path.join(tmp, "pki")
    make_pki(pki)
    p, port = tls_pvd(os.path.join(tmp, "tls-pvd"), pki)
    try:
        creds = dict(cert=f"{pki}/ops.pem", key=f"{pki}/ops.key", ca=f"{pki}/ca.pem")
        with Client(f"tls://127.0.0.1:{port}", **creds) as c:
            d = c.call("domain.define", **config_params(os.path.join(ROOT, "examples/hello.json")))
            ok(d["name"] == "hello", "a call over TLS", d)
            ev = c.call("events.list", domain="hello")
            ok(ev[0]["caller"].startswith("tls:/CN=ops@"), "pvd names the TLS caller by its certificate", ev)
        e = raises(lambda: Client(f"tls://localhost:{port}", **creds), ssl.SSLCertVerificationError)
        ok(e is not None, "pvd's certificate not naming the host is refused", e)
    finally:
        p.cleanup()


def test_orchestrate_relative_kernel(tmp):
    if not os.path.exists(os.path.join(BUILD, "pvcore.iso")) or not os.path.exists(HELLO):
        ok(True, "orchestrate.py with a relative kernel # SKIP no ISO or guest built")
        return
    d = os.path.join(tmp, "site", "web")
    os.makedirs(os.path.join(d, "kernels"))
    shutil.copy(HELLO, os.path.join(d, "kernels", "hello.elf"))
    with open(os.path.join(d, "web.json"), "w") as f:
        json.dump({"name": "web", "kernel": "kernels/hello.elf", "cmdline": "name=web", "memory": 16}, f)
    m = MachinePvd(["--image-dir", os.path.join(tmp, "site")]).start()
    try:
        r = subprocess.run([sys.executable, ORCHESTRATE, "--socket", m.sock, "--start", "web/web.json"],
                           capture_output=True, text=True, cwd=os.path.join(tmp, "site"), timeout=60)
        ok(r.returncode == 0 and "web: defined as" in r.stdout and "web: started, domid" in r.stdout
           and "domain.started web" in r.stdout,
           "orchestrate.py --start: a kernel relative to the config's directory starts (base_dir sent)",
           r.stdout + r.stderr)
        with Client(m.sock) as c:
            info = c.call("domain.info", domain="web")
            ok(info["state"] == "running" and info["base_dir"] == d, "the domain runs, base_dir stored", info)
            c.call("domain.destroy", domain="web")
            params = config_params(os.path.join(d, "web.json"))
            del params["base_dir"]
            c.call("domain.define", replace=True, **params)
            e = raises(lambda: c.call("domain.start", domain="web"), PvdError)
            ok(e is not None, "without base_dir the same relative kernel is not found (pvd's directory)", e)
    finally:
        m.cleanup()


def main():
    tmp = tempfile.mkdtemp(prefix="pvdclient-py.")
    try:
        test_uris()
        test_config_params(tmp)
        p = Pvd().start()
        try:
            test_calls(p)
        finally:
            p.cleanup()
        test_tls(tmp)
        test_orchestrate_relative_kernel(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    done()


if __name__ == "__main__":
    main()
