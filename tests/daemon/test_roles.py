#!/usr/bin/env python3
"""Roles: a pvd with --admin-group and --reader-group, and TLS clients whose
roles come from --tls-roles. Creates system groups and users for the test
(removed at the end) and runs clients as those users (runuser): a reader
can list, read info, events and consoles and watch events, but not define,
start or name host files; a user in neither group can only ask the version;
an admin-group user can define; a reader certificate likewise reads but
cannot change; every refusal is -32008 naming the method, the role and what
grants it, and is logged with the caller. Prints TAP lines."""
import json
import os
import socket
import ssl
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from pvdharness import SYSTEM_PYTHON, Pvd, call_as, code, done, example, make_pki, ok, open_to_all, readline  # noqa: E402

HELLO = json.loads(example("hello.json"))
TAG = f"pvdt{os.getpid() % 100000}"
ADMINS, READERS = f"{TAG}adm", f"{TAG}rd"
ADMIN, READER, NOBODY = f"{TAG}a", f"{TAG}r", f"{TAG}n"

WATCH = r"""
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(20)
s.connect(sys.argv[1])
s.sendall(b'{"jsonrpc":"2.0","id":1,"method":"events.subscribe"}\n')
f = s.makefile("rb")
print(f.readline().decode().strip(), flush=True)
print(f.readline().decode().strip(), flush=True)
"""


def sh(*a):
    subprocess.run(a, check=True, capture_output=True)


def setup_accounts():
    sh("groupadd", "--system", ADMINS)
    sh("groupadd", "--system", READERS)
    for user, groups in ((ADMIN, ADMINS), (READER, READERS), (NOBODY, None)):
        sh("useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "--user-group",
           *(["--groups", groups] if groups else []), user)


def remove_accounts():
    for user in (ADMIN, READER, NOBODY):
        subprocess.run(["userdel", user], capture_output=True)
    for group in (ADMINS, READERS):
        subprocess.run(["groupdel", group], capture_output=True)


def denied(r, method, needed, grant):
    e = (r or {}).get("error", {})
    m = e.get("message", "")
    return (e.get("code") == -32008 and method in m and f"the {needed} role" in m and grant in m
            and e.get("data", {}).get("method") == method.split(" ")[0])


def tls_call(port, pki, name, method, params=None):
    ctx = ssl.create_default_context(cafile=f"{pki}/ca.pem")
    ctx.check_hostname = False
    ctx.load_cert_chain(f"{pki}/{name}.pem", f"{pki}/{name}.key")
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw, ctx.wrap_socket(raw) as s:
        req = {"jsonrpc": "2.0", "id": 1, "method": method}
        if params is not None:
            req["params"] = params
        s.sendall(json.dumps(req).encode() + b"\n")
        return json.loads(readline(s))


def test_unix(p):
    root_def = p.call("domain.define", {"config": dict(HELLO, name="exists")})
    ok("result" in root_def, "root (uid 0) defines a domain", root_def)
    uid_r = int(subprocess.run(["id", "-u", READER], capture_output=True, text=True).stdout)
    uid_n = int(subprocess.run(["id", "-u", NOBODY], capture_output=True, text=True).stdout)

    lst, info, evl, cons, host, xs, ver = call_as(p, READER, [
        ["domain.list", {"all": True}], ["domain.info", {"domain": "exists"}], ["events.list", {"limit": 5}],
        ["domain.console", {"domain": "exists"}], ["host.info", None], ["xs.ls", {"path": "/"}],
        ["daemon.version", None]])
    ok([d["name"] for d in lst.get("result", [])] == ["exists"], "a reader lists domains", lst)
    ok(info.get("result", {}).get("name") == "exists", "a reader reads domain.info", info)
    ok("result" in evl, "a reader reads events.list", evl)
    ok(code(cons) != -32008, "a reader may read a console", cons)
    ok("result" in host, "a reader reads host.info", host)
    ok(code(xs) == -32006, "a reader may ask xs.ls (no machine here: -32006, not -32008)", xs)
    ok("result" in ver, "a reader asks the version", ver)

    watcher = subprocess.Popen(["runuser", "-u", READER, "--", SYSTEM_PYTHON, "-c", WATCH, p.sock],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = json.loads(watcher.stdout.readline() or "{}")
    ok("result" in first, "a reader subscribes to events", first)
    p.call("domain.define", {"config": dict(HELLO, name="watched")})
    try:
        note = json.loads(watcher.stdout.readline() or "{}")
    finally:
        watcher.kill()
        watcher.wait()
    ok(note.get("method") == "events.event" and note["params"]["event"]["domain"]["name"] == "watched",
       "the reader's subscription receives the admin's change", note)

    cfg = dict(HELLO, name="by-reader", ramdisk="/etc/shadow")
    rdef, rstart, rcreate, rxsw, rund, rinput = call_as(p, READER, [
        ["domain.define", {"config": cfg}], ["domain.start", {"domain": "exists"}],
        ["domain.create", {"config": cfg}], ["xs.write", {"path": "/tool/x", "value": "1"}],
        ["domain.undefine", {"domain": "exists"}], ["domain.console", {"domain": "exists", "input": "reboot\n"}]])
    ok(denied(rdef, "domain.define", "admin", f"group {ADMINS}"),
       "a reader may not define (naming /etc/shadow): -32008 naming method, role and group", rdef)
    ok(rdef["error"]["data"].get("role") == "reader", "the refusal names the caller's role", rdef)
    ok(denied(rstart, "domain.start", "admin", ADMINS), "a reader may not start", rstart)
    ok(denied(rcreate, "domain.create", "admin", ADMINS), "a reader may not create", rcreate)
    ok(denied(rxsw, "xs.write", "admin", ADMINS), "a reader may not write xenstore", rxsw)
    ok(denied(rund, "domain.undefine", "admin", ADMINS), "a reader may not undefine", rund)
    ok(denied(rinput, "domain.console with input", "admin", ADMINS), "a reader may not type into a console",
       rinput)
    names = [d["name"] for d in p.call("domain.list", {"all": True})["result"]]
    ok(sorted(names) == ["exists", "watched"], "nothing the reader tried changed anything", names)

    nver, nlist = call_as(p, NOBODY, [["daemon.version", None], ["domain.list", {}]])
    ok("result" in nver, "a user in neither group asks the version", nver)
    ok(denied(nlist, "domain.list", "reader", f"group {READERS}"),
       "a user in neither group may not list: -32008 naming the reader group", nlist)

    adef, = call_as(p, ADMIN, [["domain.define", {"config": dict(HELLO, name="by-admin")}]])
    ok("result" in adef, "an --admin-group member defines", adef)

    log = p.logtext()
    for method, uid in (("domain.define", uid_r), ("domain.start", uid_r), ("domain.create", uid_r),
                        ("domain.console with input", uid_r),
                        ("xs.write", uid_r), ("domain.undefine", uid_r), ("domain.list", uid_n)):
        ok(f"denied {method} to unix:uid={uid}," in log, f"the refused {method} is logged with the caller",
           log[-1500:])


def test_tls(p, port, pki):
    r = tls_call(port, pki, "watcher", "domain.list", {})
    ok("result" in r, "a reader certificate lists domains", r)
    r = tls_call(port, pki, "watcher", "domain.define", {"config": dict(HELLO, name="tls-reader")})
    ok(denied(r, "domain.define", "admin", "--tls-roles"), "a reader certificate may not define", r)
    r = tls_call(port, pki, "watcher", "domain.start", {"domain": "exists"})
    ok(denied(r, "domain.start", "admin", "--tls-roles"), "a reader certificate may not start", r)
    r = tls_call(port, pki, "ops", "domain.define", {"config": dict(HELLO, name="tls-admin")})
    ok("result" in r, "an admin certificate defines", r)
    log = p.logtext()
    ok("denied domain.define to tls:/CN=watcher@127.0.0.1:" in log and
       "denied domain.start to tls:/CN=watcher@127.0.0.1:" in log,
       "the TLS refusals are logged with the certificate subject", log[-1500:])


def main():
    if os.geteuid() != 0:
        ok(True, "roles # SKIP needs root to create users and groups")
        done()
    remove_accounts()
    setup_accounts()
    p = None
    try:
        p = Pvd()
        pki = os.path.join(p.tmp, "pki")
        make_pki(pki)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        p.extra += ["--admin-group", ADMINS, "--reader-group", READERS, "--tls-listen", f"127.0.0.1:{port}",
                    "--tls-cert", f"{pki}/server.pem", "--tls-key", f"{pki}/server.key", "--tls-ca",
                    f"{pki}/ca.pem", "--tls-roles", f"{pki}/roles"]
        p.start()
        open_to_all(p)
        test_unix(p)
        test_tls(p, port, pki)
        ok(p.alive(), "pvd is alive")
    finally:
        if p:
            p.cleanup()
        remove_accounts()
    done()


if __name__ == "__main__":
    main()
