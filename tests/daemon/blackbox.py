#!/usr/bin/env python3
"""Black-box tests of a real pvd process (PVD=..., default build/bin/pvd):
raw JSON-RPC, restarts, malformed input of every kind, 200 concurrent
clients, slow and silent clients, subscriptions, TLS with client
certificates. Prints TAP lines."""
import json
import os
import signal
import socket
import stat
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from pvdharness import Pvd, ok, done, code, example, readline  # noqa: E402

HELLO = json.loads(example("hello.json"))


def test_define_list_info_undefine(p):
    r = p.call("domain.define", {"config": example("hello.json")})
    ok("result" in r and r["result"]["name"] == "hello", "domain.define by raw JSON-RPC", r)
    uuid = r["result"]["uuid"]
    mac = r["result"]["vifs"][0]["mac"]
    ok(mac.startswith("00:16:3e:"), "a generated MAC in the Xen OUI", mac)
    r = p.call("domain.list", {"all": True})
    ok([d["name"] for d in r["result"]] == ["hello"], "domain.list --all shows it", r)
    r = p.call("domain.list")
    ok(r["result"] == [], "domain.list without all shows no running domain", r)
    r = p.call("domain.info", {"domain": uuid})
    ok(r["result"]["state"] == "shut-off" and r["result"]["memory_mib"] == 32, "domain.info by uuid", r)
    r = p.call("domain.info", ["hello"])
    ok(r["result"]["uuid"] == uuid, "domain.info with positional params", r)
    r = p.call("domain.get_config", {"domain": "hello"})
    ok(r["result"]["submitted"] == example("hello.json") and r["result"]["format"] == "json",
       "domain.get_config returns the config exactly as submitted", r)
    r = p.call("domain.define", {"config": example("hello.xml")})
    ok(r.get("result", {}).get("name") == "hello-xml", "domain.define of the XML example", r)
    r = p.call("domain.undefine", {"domain": "hello-xml"})
    ok(r.get("result", {}).get("name") == "hello-xml", "domain.undefine", r)
    r = p.call("domain.info", {"domain": "hello-xml"})
    ok(code(r) == -32001 and "hello-xml" in r["error"]["message"], "undefined domain is gone", r)
    return uuid, mac


def test_replace_keeps_identity(p, uuid, mac):
    cfg = dict(HELLO, memory="48M", maxmem="64M")
    r = p.call("domain.define", {"config": cfg, "replace": True})
    ok(r.get("result", {}).get("uuid") == uuid and r["result"]["memory_mib"] == 48
       and r["result"]["vifs"][0]["mac"] == mac, "replace keeps the UUID and the generated MAC", r)


def test_restart_survival(p, uuid, mac):
    rc = p.stop()
    ok(rc == 0, "pvd exits 0 on SIGTERM", rc)
    ok(not os.path.exists(p.sock), "the socket is removed on exit")
    p.start()
    r = p.call("domain.info", {"domain": "hello"})
    ok(r.get("result", {}).get("uuid") == uuid and r["result"]["vifs"][0]["mac"] == mac,
       "a defined domain survives a pvd restart with its UUID and MAC", r)
    p.call("domain.define", {"config": dict(HELLO, name="killed")})
    p.stop(signal.SIGKILL)
    p.start()
    r = p.call("domain.info", {"domain": "killed"})
    ok("result" in r, "a domain defined just before SIGKILL survives it (stale socket replaced)", r)
    p.call("domain.undefine", {"domain": "killed"})


def test_malformed(p):
    r = p.raw(b'{"jsonrpc":"2.0","id":1,"method":\n')
    ok(code(r) == -32700 and r["id"] is None, "broken JSON gets -32700", r)
    r = p.raw(b'{"jsonrpc":"2.0","id":1,"method":"domain.info","params":{"domain":[1]}}\n')
    ok(code(r) == -32602 and "/domain" in json.dumps(r["error"]["data"]), "wrong param type gets -32602 naming it", r)
    r = p.raw(b'{"jsonrpc":"2.0","id":"x","method":"domain.migrate"}\n')
    ok(code(r) == -32601 and r["id"] == "x", "unknown method gets -32601 with the request id", r)
    r = p.raw(b'"just a string"\n')
    ok(code(r) == -32600, "a non-object request gets -32600", r)
    r = p.raw(b"\x00\xff\xfe garbage\n")
    ok(code(r) == -32700, "binary garbage gets -32700", r)
    # a huge frame: answered with -32600, the connection keeps working
    s = p.connect()
    s.sendall(b'{"jsonrpc":"2.0","id":1,"method":"daemon.version","params":{"x":"' + b"a" * (3 << 20) + b'"}}\n')
    r = json.loads(readline(s))
    ok(code(r) == -32600 and "size limit" in r["error"]["message"], "a 3 MiB frame gets -32600 (size limit)", r)
    s.sendall(b'{"jsonrpc":"2.0","id":2,"method":"daemon.version"}\n')
    r = json.loads(readline(s))
    ok(r.get("id") == 2 and "result" in r, "the connection still works after an oversize frame", r)
    # partial frames, byte by byte with pauses, and two frames in one write
    s.sendall(b'{"jsonrpc":"2.0",')
    time.sleep(0.2)
    for b in b'"id":3,"method":"daemon.ver':
        s.sendall(bytes([b]))
    time.sleep(0.2)
    s.sendall(b'sion"}\n{"jsonrpc":"2.0","id":4,"method":"daemon.version"}\n')
    r1, r2 = json.loads(readline(s)), json.loads(readline(s))
    ok(r1.get("id") == 3 and r2.get("id") == 4, "partial frames are reassembled, two frames in one write", (r1, r2))
    s.close()
    r = p.raw(b'[{"jsonrpc":"2.0","id":1,"method":"daemon.version"},{"jsonrpc":"2.0","method":"daemon.version"},'
              b'{"jsonrpc":"2.0","id":2,"method":"nope"}]\n')
    ok(isinstance(r, list) and [x["id"] for x in r] == [1, 2] and code(r[1]) == -32601,
       "a batch answers its requests, not its notifications", r)
    r = p.raw(b"[]\n")
    ok(code(r) == -32600, "an empty batch gets -32600", r)
    r = p.raw(b"[" * 5000 + b"]" * 5000 + b"\n")
    ok(code(r) == -32700, "5000 nested arrays get -32700, not a crash", r)
    ok(p.alive(), "pvd is alive after malformed input")


def test_concurrency(p):
    # a silent client, a client with a stuck partial frame, and one that never reads
    silent = p.connect()
    stuck = p.connect()
    stuck.sendall(b'{"jsonrpc":"2.0","id":1,"method":')
    hog = p.connect()
    hog.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    hog.setblocking(False)
    req = b'{"jsonrpc":"2.0","id":1,"method":"rpc.discover"}\n'
    sent = 0
    t0 = time.time()
    while time.time() - t0 < 2 and sent < (32 << 20):
        try:
            sent += hog.send(req * 64)
        except BlockingIOError:
            break
    results = [None] * 200
    socks = [p.connect(30) for _ in range(200)]

    def client(i):
        try:
            s = socks[i]
            msg = json.dumps({"jsonrpc": "2.0", "id": i, "method": "domain.list", "params": {"all": True}}).encode()
            s.sendall(msg[:10])
            time.sleep(0.01)
            s.sendall(msg[10:] + b"\n")
            results[i] = json.loads(readline(s))
        except Exception as e:  # noqa: BLE001
            results[i] = {"exception": str(e)}

    threads = [threading.Thread(target=client, args=(i,)) for i in range(200)]
    start = time.time()
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    elapsed = time.time() - start
    good = sum(1 for i, r in enumerate(results) if r and r.get("id") == i and "result" in r)
    ok(good == 200, "200 concurrent clients all answered", f"{good} answered; e.g. {results[0]}")
    ok(elapsed < 30, "while silent, stuck and non-reading clients are connected", f"{elapsed:.1f}s")
    for s in socks:
        s.close()
    r = p.call("daemon.version")
    ok("result" in r, "pvd still answers after the crowd leaves", r)
    for s in (silent, stuck, hog):
        s.close()


def test_frame_timeout_and_quota(tmp):
    p = Pvd(["--frame-timeout", "1", "--max-clients", "3"]).start()
    s = p.connect()
    s.sendall(b'{"jsonrpc":"2.0"')
    t0 = time.time()
    data = s.recv(100)
    ok(data == b"" and time.time() - t0 < 5, "a frame left incomplete is dropped after --frame-timeout",
       repr(data))
    conns = [p.connect() for _ in range(3)]
    extra = p.connect()
    r = readline(extra)
    ok('"code":-32004' in r, "the connection over --max-clients gets quota exceeded and is closed", r)
    for c in conns:
        c.close()
    extra.close()
    time.sleep(0.2)
    ok("result" in p.call("daemon.version"), "pvd serves again after clients leave")
    p.cleanup()


def test_notifications(p):
    sub = p.connect()
    sub.sendall(b'{"jsonrpc":"2.0","id":1,"method":"events.subscribe","params":{"types":["domain.defined","domain.undefined"]}}\n')
    r = json.loads(readline(sub))
    ok(r.get("result", {}).get("types") == ["domain.defined", "domain.undefined"], "events.subscribe", r)
    p.call("domain.define", {"config": dict(HELLO, name="notified")})
    p.call("domain.autostart", {"domain": "notified", "enabled": True})  # not subscribed to this type
    p.call("domain.undefine", {"domain": "notified"})
    n1, n2 = json.loads(readline(sub)), json.loads(readline(sub))
    ok(n1.get("method") == "events.event" and "id" not in n1, "a subscriber gets events.event notifications", n1)
    e1, e2 = n1["params"]["event"], n2["params"]["event"]
    ok((e1["type"], e2["type"]) == ("domain.defined", "domain.undefined") and e1["domain"]["name"] == "notified",
       "in order, filtered by type", (e1, e2))
    ok(e1["caller"].startswith("unix:uid=%d," % os.getuid()), "events carry the caller from SO_PEERCRED", e1)
    sub.sendall(b'{"jsonrpc":"2.0","id":2,"method":"events.unsubscribe"}\n')
    r = json.loads(readline(sub))
    ok(r.get("result") == {"was_subscribed": True}, "events.unsubscribe", r)
    r = p.call("events.list", {"domain": "notified"})
    ok([e["type"] for e in r["result"]] == ["domain.defined", "domain.autostart", "domain.undefined"],
       "events.list keeps the log of an undefined domain", r)
    sub.close()


def test_daemon_basics(p):
    mode = stat.S_IMODE(os.stat(p.sock).st_mode)
    ok(mode == 0o660, "the socket is mode 0660", oct(mode))
    log = p.logtext()
    ok('defined by unix:uid=' in log, "changes are logged with the caller's identity")
    other = Pvd(tmp=None)
    other.state = p.state
    try:
        other.start()
        ok(False, "a second pvd on the same state dir is refused", "it started")
    except RuntimeError as e:
        ok("in use by another pvd" in str(e), "a second pvd on the same state dir is refused", e)
    other2 = Pvd()
    r = subprocess.run([os.environ.get("PVD", "build/bin/pvd"), "--config", "/dev/null", "--no-machine",
                        "--state-dir", other2.state, "--socket", p.sock], capture_output=True, text=True, timeout=30)
    ok(r.returncode == 1 and "in use by another running pvd" in r.stderr,
       "a second pvd on a live socket is refused", (r.returncode, r.stderr))
    ok("result" in p.call("daemon.version"), "the first pvd keeps its socket")
    other2.cleanup()


def test_tls(tmp):
    d = os.path.join(tmp, "pki")
    os.makedirs(d)

    def sh(*a):
        subprocess.run(a, cwd=d, check=True, capture_output=True)
    sh("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
       "-days", "2", "-subj", "/CN=pvcore test CA")
    for name in ("server", "ops"):
        sh("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr",
           "-subj", f"/CN={name}")
        sh("openssl", "x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
           "-CAcreateserial", "-out", f"{name}.pem", "-days", "2")
    port = 20000 + os.getpid() % 20000
    with open(f"{d}/roles", "w") as f:
        f.write("admin ops\n")
    p = Pvd(["--tls-listen", f"127.0.0.1:{port}", "--tls-cert", f"{d}/server.pem", "--tls-key",
             f"{d}/server.key", "--tls-ca", f"{d}/ca.pem", "--tls-roles", f"{d}/roles"]).start()
    import ssl
    ctx = ssl.create_default_context(cafile=f"{d}/ca.pem")
    ctx.check_hostname = False
    ctx.load_cert_chain(f"{d}/ops.pem", f"{d}/ops.key")
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with ctx.wrap_socket(raw) as s:
            s.sendall(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "domain.define",
                                  "params": {"config": dict(HELLO, name="tls-made")}}).encode() + b"\n")
            r = json.loads(readline(s))
    ok(r.get("result", {}).get("name") == "tls-made", "JSON-RPC over TLS with a client certificate", r)
    ev = p.call("events.list", {"domain": "tls-made"})["result"]
    ok(ev and ev[0]["caller"].startswith("tls:/CN=ops@127.0.0.1:"), "the TLS caller is the certificate subject", ev)
    ctx2 = ssl.create_default_context(cafile=f"{d}/ca.pem")
    ctx2.check_hostname = False
    refused = False
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
            with ctx2.wrap_socket(raw) as s:
                s.sendall(b'{"jsonrpc":"2.0","id":1,"method":"daemon.version"}\n')
                refused = readline(s) == ""
    except (ssl.SSLError, ConnectionError, OSError):
        refused = True
    ok(refused, "a TLS client without a certificate is refused")
    ok(p.alive(), "pvd is alive after the refused TLS client")
    p.cleanup()


def main():
    p = Pvd().start()
    try:
        uuid, mac = test_define_list_info_undefine(p)
        test_replace_keeps_identity(p, uuid, mac)
        test_restart_survival(p, uuid, mac)
        test_malformed(p)
        test_concurrency(p)
        test_notifications(p)
        test_daemon_basics(p)
        test_frame_timeout_and_quota(p.tmp)
        test_tls(p.tmp)
        ok(p.alive(), "pvd survived everything")
        rc = p.stop()
        ok(rc == 0, "pvd stops cleanly with exit 0", rc)
        log = p.logtext()
        bad = [l for l in log.splitlines() if "AddressSanitizer" in l or "runtime error:" in l or "LeakSanitizer" in l]
        ok(not bad, "no sanitizer reports in pvd's log", bad[:5])
    finally:
        if os.environ.get("KEEP_PVD_LOG"):
            print(p.logtext())
        p.cleanup()
    done()


if __name__ == "__main__":
    main()
