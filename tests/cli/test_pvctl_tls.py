#!/usr/bin/env python3
"""pvctl --connect tls://HOST:PORT --cert --key --ca against a pvd serving
TLS on 127.0.0.1, with certificates made here by openssl: the same commands
as over the socket, the caller named by its certificate, and each way the
connection is refused said in one line. Prints TAP lines."""
import json
import os
import select
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "daemon"))
from pvdharness import PVCTL, ROOT, make_pki, ok, done, tls_pvd  # noqa: E402


def main():
    import tempfile
    tmp = tempfile.mkdtemp(prefix="pvctl-tls.")
    pki = os.path.join(tmp, "pki")
    make_pki(pki)
    p, port = tls_pvd(os.path.join(tmp, "pvd"), pki)
    uri = f"tls://127.0.0.1:{port}"
    creds = ["--cert", f"{pki}/ops.pem", "--key", f"{pki}/ops.key", "--ca", f"{pki}/ca.pem"]
    env = dict(os.environ, PVD_SOCKET="/nonexistent/pvd.sock")

    def tls(*args, connect=uri, cred=creds):
        return subprocess.run([PVCTL, "--connect", connect] + cred + list(args), capture_output=True, text=True,
                              env=env, timeout=60)
    try:
        r = tls("define", os.path.join(ROOT, "examples/hello.json"))
        ok(r.returncode == 0 and 'Domain "hello" defined' in r.stdout, "pvctl --connect tls://... define", r)
        r = tls("list", "--all")
        ok(r.returncode == 0 and "hello" in r.stdout and "shut-off" in r.stdout, "list --all over TLS", r)
        r = subprocess.run([PVCTL, "info", "hello", "--json"] + creds + ["--connect", uri], capture_output=True,
                           text=True, env=env, timeout=60)
        ok(r.returncode == 0 and json.loads(r.stdout)["name"] == "hello",
           "the TLS options anywhere on the line, as the other global options", r)
        r = tls("autostart", "hello", "on")
        ok(r.returncode == 0 and "autostart on" in r.stdout, "a change over TLS", r)
        ev = p.call("events.list", {"domain": "hello"})["result"]
        ok(ev and all(e["caller"].startswith("tls:/CN=ops@127.0.0.1:") for e in ev),
           "pvd names the TLS caller by its certificate", [e["caller"] for e in ev])
        r = tls("check", os.path.join(ROOT, "tests/configs/bad-weight.json"))
        ok(r.returncode == 1 and "/cpu/weight" in r.stderr, "a refused config over TLS names the field", r)
        r = tls("start", "hello")
        ok(r.returncode == 1 and r.stderr.count("\n") == 1 and "no machine" in r.stderr,
           "an error over TLS is the same one line", r)

        # events --follow over TLS: notifications arrive
        follow = subprocess.Popen([PVCTL, "--connect", uri] + creds + ["events", "--follow", "--json"],
                                  stdout=subprocess.PIPE, env=env)
        time.sleep(1)
        p.pvctl("autostart", "hello", "off")
        seen, buf = [], b""
        deadline = time.time() + 15
        while time.time() < deadline and not (seen and seen[-1]["type"] == "domain.autostart"
                                              and seen[-1]["caller"].startswith("unix:")):
            if not select.select([follow.stdout], [], [], max(0, deadline - time.time()))[0]:
                break
            data = os.read(follow.stdout.fileno(), 65536)
            if not data:
                break
            buf += data
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                seen.append(json.loads(line))
        follow.terminate()
        follow.wait()
        ok(seen and seen[-1]["type"] == "domain.autostart" and not seen[-1]["caller"].startswith("tls:"),
           "events --follow over TLS sees a change made over the socket", seen[-2:])

        # refusals, each one line saying why
        r = tls("list", connect=f"tls://localhost:{port}")
        ok(r.returncode == 1 and r.stderr.count("\n") == 1 and "certificate" in r.stderr,
           "pvd's certificate not naming the host connected to is refused", r)
        r = tls("list", cred=["--cert", f"{pki}/ops.pem", "--key", f"{pki}/ops.key", "--ca", f"{pki}/other-ca.pem"])
        ok(r.returncode == 1 and r.stderr.count("\n") == 1 and "certificate" in r.stderr,
           "pvd's certificate from another CA is refused", r)
        r = tls("list", cred=["--cert", f"{pki}/stranger.pem", "--key", f"{pki}/stranger.key", "--ca",
                              f"{pki}/ca.pem"])
        ok(r.returncode == 1 and r.stderr.count("\n") == 1, "pvd refuses a client certificate it does not trust",
           r)
        r = tls("list", cred=["--cert", f"{pki}/ops.pem", "--key", f"{pki}/stranger.key", "--ca", f"{pki}/ca.pem"])
        ok(r.returncode == 1 and "--key" in r.stderr, "a key that does not match the certificate", r)
        r = tls("list", cred=[])
        ok(r.returncode == 1 and "--cert, --key, --ca" in r.stderr, "TLS without certificate options", r)
        r = tls("list", connect="tls://127.0.0.1")
        ok(r.returncode == 1 and "expected tls://HOST:PORT" in r.stderr, "a URI without a port", r)
        r = tls("list", connect=f"tls://127.0.0.1:{port + 1}")
        ok(r.returncode == 1 and "cannot connect to 127.0.0.1 port" in r.stderr, "nothing listening", r)
        r = tls("list", connect=f"unix://{p.sock}")
        ok(r.returncode == 0 and "NAME" in r.stdout, "--connect unix:///path is the socket", r)
        ok(p.alive(), "pvd is alive after the refused clients")
    finally:
        p.cleanup()
        subprocess.run(["rm", "-rf", tmp])
    done()


if __name__ == "__main__":
    main()
