"""pvdharness - start a real pvd on a temporary state dir and socket, talk
JSON-RPC to it, and report TAP lines. Shared by tests/daemon, tests/cli and
tests/api. PVD / PVCTL name the binaries (default build/bin/...)."""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PVD = os.path.abspath(os.environ.get("PVD", os.path.join(ROOT, "build/bin/pvd")))
PVCTL = os.path.abspath(os.environ.get("PVCTL", os.path.join(ROOT, "build/bin/pvctl")))
BUILD = os.path.join(ROOT, os.environ.get("BUILD", "build"))

failures = 0


def ok(cond, what, why=""):
    global failures
    if cond:
        print(f"ok - {what}", flush=True)
    else:
        failures += 1
        print(f"not ok - {what}: {why}", flush=True)
    return cond


def done():
    sys.exit(1 if failures else 0)


class Pvd:
    def __init__(self, extra=(), tmp=None):
        self.tmp = tmp or tempfile.mkdtemp(prefix="pvd-test.")
        self.state = os.path.join(self.tmp, "state")
        self.sock = os.path.join(self.tmp, "pvd.sock")
        self.log = os.path.join(self.tmp, "pvd.log")
        self.extra = list(extra)
        self.proc = None

    # What pvd gets for its machine (a subclass may boot one), and how long
    # it may take to answer.
    machine_args = ("--no-machine",)
    start_timeout = 15

    def start(self):
        logf = open(self.log, "ab")
        self.proc = subprocess.Popen([PVD, "--config", "/dev/null", "--state-dir", self.state,
                                      "--socket", self.sock, "--verbose"] +
                                     list(self.machine_args) + self.extra,
                                     stdout=logf, stderr=logf)
        deadline = time.time() + self.start_timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"pvd exited with {self.proc.returncode}: {self.logtext()[-2000:]}")
            try:
                self.call("daemon.version")
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"pvd did not answer within {self.start_timeout} s")

    def stop(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode if self.proc else None

    def alive(self):
        return self.proc.poll() is None

    def logtext(self):
        with open(self.log, "rb") as f:
            return f.read().decode(errors="replace")

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def connect(self, timeout=10):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        for _ in range(200):  # a full listen backlog answers EAGAIN: wait like a client would
            try:
                s.connect(self.sock)
                return s
            except BlockingIOError:
                time.sleep(0.01)
        s.connect(self.sock)
        return s

    def call(self, method, params=None, id=1):
        """One request on a fresh connection; returns the response object."""
        with self.connect() as s:
            req = {"jsonrpc": "2.0", "id": id, "method": method}
            if params is not None:
                req["params"] = params
            s.sendall(json.dumps(req).encode() + b"\n")
            return json.loads(readline(s))

    def raw(self, data, timeout=10):
        """Send raw bytes, return the first response line (or None on EOF)."""
        with self.connect(timeout) as s:
            s.sendall(data)
            line = readline(s)
            return json.loads(line) if line else None

    def pvctl(self, *args, env_socket=True):
        env = dict(os.environ)
        if env_socket:
            env["PVD_SOCKET"] = self.sock
        return subprocess.run([PVCTL] + list(args), capture_output=True, text=True, env=env, timeout=30)


class MachinePvd(Pvd):
    """A pvd that boots the machine in its temporary state dir; cleanup()
    stops pvd, then the machine, then any QEMU left with the dir on its
    command line."""

    machine_args = ("--iso", os.path.join(BUILD, "pvcore.iso"), "--machine-mem", "256")
    start_timeout = 60

    def __init__(self, extra=(), tmp=None, machine_mem=256):
        super().__init__(extra, tmp)
        self.machine_args = ("--iso", os.path.join(BUILD, "pvcore.iso"), "--machine-mem", str(machine_mem))

    def cleanup(self):
        try:
            self.stop()
        finally:
            try:
                subprocess.run([PVD, "--config", "/dev/null", "--state-dir", self.state, "--stop-machine"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30)
            except (OSError, subprocess.TimeoutExpired):
                pass
            for pid in os.listdir("/proc"):
                if not pid.isdigit() or int(pid) == os.getpid():
                    continue
                try:
                    with open(f"/proc/{pid}/cmdline", "rb") as f:
                        cmd = f.read()
                except OSError:
                    continue
                if self.tmp.encode() in cmd and b"qemu" in cmd:
                    try:
                        os.kill(int(pid), signal.SIGKILL)
                    except OSError:
                        pass
            shutil.rmtree(self.tmp, ignore_errors=True)


# A JSON-RPC client for call_as: argv[1] the socket, argv[2] a JSON list of
# [method, params]; prints one response per line.
_AS_USER_CLIENT = r"""
import json, socket, sys
for method, params in json.loads(sys.argv[2]):
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(10)
        s.connect(sys.argv[1])
        req = {"jsonrpc": "2.0", "id": 1, "method": method}
        if params is not None:
            req["params"] = params
        s.sendall(json.dumps(req).encode() + b"\n")
        buf = b""
        while not buf.endswith(b"\n"):
            d = s.recv(65536)
            if not d:
                break
            buf += d
        print(buf.decode().strip(), flush=True)
"""


# call_as's interpreter: one every user may run (not one under /root)
SYSTEM_PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable


def open_to_all(p):
    """Let any local user reach p's socket (the test decides roles, not modes)."""
    os.chmod(p.tmp, 0o755)
    os.chmod(p.sock, 0o666)


def call_as(p, user, calls):
    """Each (method, params) of calls on its own connection to p's socket,
    made by a process running as user (runuser); the responses in order."""
    r = subprocess.run(["runuser", "-u", user, "--", SYSTEM_PYTHON, "-c", _AS_USER_CLIENT, p.sock,
                        json.dumps(calls)], capture_output=True, text=True, timeout=60)
    out = [json.loads(line) for line in r.stdout.splitlines() if line.strip()]
    if len(out) != len(calls):
        raise RuntimeError(f"call_as {user}: {r.returncode} {r.stderr[-500:]}")
    return out


_pending = {}


def readline(s):
    """One line from socket s ('' on EOF); bytes after it are kept for the next call."""
    buf = _pending.pop(s.fileno(), b"")
    while b"\n" not in buf:
        d = s.recv(65536)
        if not d:
            return buf.decode(errors="replace")
        buf += d
    line, rest = buf.split(b"\n", 1)
    if rest:
        _pending[s.fileno()] = rest
    return line.decode(errors="replace") + "\n"


def code(resp):
    return (resp or {}).get("error", {}).get("code")


def example(name):
    with open(os.path.join(ROOT, "examples", name)) as f:
        return f.read()


def make_pki(d):
    """A test PKI in d (created): ca.pem/.key and other-ca.pem/.key; server
    (subjectAltName IP:127.0.0.1) and ops certificates signed by ca, and
    stranger signed by other-ca, watcher signed by ca; each NAME.pem with
    NAME.key. roles (for --tls-roles) makes ops admin and watcher reader."""
    os.makedirs(d)

    def sh(*a):
        subprocess.run(a, cwd=d, check=True, capture_output=True)
    for ca in ("ca", "other-ca"):
        sh("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{ca}.key", "-out", f"{ca}.pem",
           "-days", "2", "-subj", f"/CN=pvcore test {ca}")
    with open(os.path.join(d, "server.ext"), "w") as f:
        f.write("subjectAltName = IP:127.0.0.1\n")
    for name, ca, ext in (("server", "ca", "server.ext"), ("ops", "ca", None), ("stranger", "other-ca", None),
                          ("watcher", "ca", None)):
        sh("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr",
           "-subj", f"/CN={name}")
        sh("openssl", "x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.pem", "-CAkey", f"{ca}.key",
           "-CAcreateserial", "-out", f"{name}.pem", "-days", "2", *(["-extfile", ext] if ext else []))
    with open(os.path.join(d, "roles"), "w") as f:
        f.write("# role CN\nadmin ops\nreader watcher\n")


def tls_pvd(tmp, pki):
    """A started Pvd serving TLS on 127.0.0.1 (a free port) with pki's
    server certificate, client certificates signed by pki's ca required,
    their roles from pki's roles file;
    returns (pvd, port)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    p = Pvd(["--tls-listen", f"127.0.0.1:{port}", "--tls-cert", f"{pki}/server.pem", "--tls-key",
             f"{pki}/server.key", "--tls-ca", f"{pki}/ca.pem", "--tls-roles", f"{pki}/roles"], tmp=tmp)
    os.makedirs(p.tmp, exist_ok=True)
    return p.start(), port
