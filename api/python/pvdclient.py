"""pvdclient - a small client of pvd's JSON-RPC 2.0 API, Python standard
library only (the C twin is api/pvdclient.c).

One connection per Client, over pvd's unix socket or over TLS with a
client certificate (pvd --tls-listen), blocking calls:

    from pvdclient import Client, PvdError, config_params
    with Client() as pvd:                      # $PVD_SOCKET, else /run/pvd/pvd.sock
        dom = pvd.call("domain.define", **config_params("web.json"))
        pvd.call("domain.start", domain=dom["uuid"])

    Client("tls://host:7007", cert="ops.pem", key="ops.key", ca="ca.pem")

call() returns the result or raises PvdError (code, message, data; the
codes are the NO_SUCH_DOMAIN... constants below, from api/pvd.openrpc.json).
Notifications (events.event) that arrive while a call waits are queued;
next_notification() returns them, then waits for more. A Client is used by
one thread at a time.
"""
import json
import os
import select
import socket
import ssl

DEFAULT_SOCKET = "/run/pvd/pvd.sock"

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
NO_SUCH_DOMAIN = -32001
ALREADY_EXISTS = -32002
INVALID_STATE = -32003
QUOTA_EXCEEDED = -32004
OUT_OF_MEMORY = -32005
HYPERVISOR_ERROR = -32006
XENSTORE_ERROR = -32007
PERMISSION_DENIED = -32008

MAX_FRAME = 64 << 20


class PvdError(Exception):
    """A JSON-RPC error from pvd. errors lists a refused config's problems
    ({"path", "message"} each) when pvd gave them."""

    def __init__(self, code, message, data=None):
        super().__init__(f"{message} (code {code})")
        self.code = code
        self.message = message
        self.data = data

    @property
    def errors(self):
        return (self.data or {}).get("errors", []) if isinstance(self.data, dict) else []


def config_params(path, base_dir=True, **extra):
    """The params of domain.define / domain.create for a config file: its
    text, its format (from the name) and base_dir, the directory against
    which pvd resolves a relative kernel: the file's own (True), the one
    given (a string), or none (False: config.validate takes no base_dir).
    extra params (replace=True, transient=True) are added."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    params = {"config": text, "format": "xml" if path.endswith(".xml") else "json"}
    if base_dir:
        params["base_dir"] = os.path.dirname(os.path.abspath(path)) if base_dir is True else base_dir
    params.update(extra)
    return params


def _parse_uri(uri):
    """("unix", path) or ("tls", host, port) for unix:///path, a plain path,
    or tls://HOST:PORT ([v6]:port)."""
    if uri.startswith("unix://"):
        return ("unix", uri[len("unix://"):])
    if not uri.startswith("tls://"):
        return ("unix", uri)
    hostport = uri[len("tls://"):].rstrip("/")
    if hostport.startswith("["):
        host, sep, port = hostport[1:].partition("]:")
    else:
        host, sep, port = hostport.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ValueError(f"{uri}: expected tls://HOST:PORT")
    return ("tls", host, int(port))


class Client:
    """One connection to pvd. uri: unix:///path, a socket path, or
    tls://HOST:PORT (then cert, key: this client's certificate and key;
    ca: the CA of pvd's certificate, which must name HOST)."""

    def __init__(self, uri=None, cert=None, key=None, ca=None, timeout=30.0):
        uri = uri or os.environ.get("PVD_SOCKET") or DEFAULT_SOCKET
        where = _parse_uri(uri)
        self.timeout = timeout
        self._buf = b""
        self._notes = []
        self._next_id = 1
        if where[0] == "unix":
            self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                self._sock.connect(where[1])
            except OSError as e:
                self._sock.close()
                raise ConnectionError(f"cannot connect to {where[1]}: {e.strerror} (is pvd running?)") from e
        else:
            if not (cert and key and ca):
                raise ValueError(f"{uri}: TLS needs cert, key and ca")
            ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=ca)
            ctx.minimum_version = ssl.TLSVersion.TLSv1_2
            ctx.load_cert_chain(cert, key)
            raw = socket.create_connection((where[1], where[2]), timeout=timeout)
            try:
                self._sock = ctx.wrap_socket(raw, server_hostname=where[1])
            except (ssl.SSLError, OSError):
                raw.close()
                raise
        self._sock.settimeout(None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        if self._sock:
            self._sock.close()
            self._sock = None

    def _frame(self, timeout):
        """The next frame as an object; None when timeout (s, None = forever) passes."""
        while b"\n" not in self._buf:
            pending = isinstance(self._sock, ssl.SSLSocket) and self._sock.pending()
            if not pending and not select.select([self._sock], [], [], timeout)[0]:
                return None
            data = self._sock.recv(65536)
            if not data:
                raise ConnectionError("pvd closed the connection")
            self._buf += data
            if len(self._buf) > MAX_FRAME:
                raise ConnectionError(f"pvd sent a frame larger than {MAX_FRAME} bytes")
        line, self._buf = self._buf.split(b"\n", 1)
        return json.loads(line)

    def call(self, method, **params):
        """Call method with params; its result, or PvdError."""
        rid = self._next_id
        self._next_id += 1
        req = {"jsonrpc": "2.0", "id": rid, "method": method}
        if params:
            req["params"] = params
        self._sock.sendall(json.dumps(req).encode() + b"\n")
        while True:
            msg = self._frame(self.timeout)
            if msg is None:
                raise TimeoutError(f"no answer from pvd to {method} within {self.timeout} s")
            if "id" not in msg:
                self._notes.append(msg)
                continue
            if msg["id"] != rid:
                continue  # a late answer to an abandoned call
            if "error" in msg:
                e = msg["error"]
                raise PvdError(e.get("code"), e.get("message", "error"), e.get("data"))
            return msg.get("result")

    def next_notification(self, timeout=None):
        """The next notification (queued first); None after timeout s."""
        while not self._notes:
            msg = self._frame(timeout)
            if msg is None:
                return None
            if "id" not in msg:
                self._notes.append(msg)
        return self._notes.pop(0)

    def events(self, timeout=None):
        """The events of queued and arriving events.event notifications,
        until timeout s pass without one (subscribe first)."""
        while True:
            note = self.next_notification(timeout)
            if note is None:
                return
            event = note.get("params", {}).get("event")
            if event is not None:
                yield event
