#!/usr/bin/env python3
"""orchestrate.py - drive pvd from a script with the Python standard library.

Defines every config given (JSON or XML files), marks them autostart, prints
the resulting inventory and the events it caused, and can undefine them
again. Talks JSON-RPC 2.0 over pvd's unix socket (--socket, else
$PVD_SOCKET, else /run/pvd/pvd.sock).

    orchestrate.py [--socket PATH] [--undefine] CONFIG...
"""
import argparse
import json
import os
import socket
import sys


class PvdError(Exception):
    def __init__(self, error):
        super().__init__(f"{error.get('message')} (code {error.get('code')})")
        self.code = error.get("code")
        self.data = error.get("data")


class Pvd:
    """One connection; call() returns the result or raises PvdError."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.file = self.sock.makefile("rb")
        self.next_id = 1
        self.notifications = []

    def call(self, method, **params):
        rid = self.next_id
        self.next_id += 1
        req = {"jsonrpc": "2.0", "id": rid, "method": method, "params": params}
        self.sock.sendall(json.dumps(req).encode() + b"\n")
        while True:
            line = self.file.readline()
            if not line:
                raise ConnectionError("pvd closed the connection")
            msg = json.loads(line)
            if "id" not in msg:  # a notification (events.event)
                self.notifications.append(msg)
                continue
            if msg["id"] != rid:
                continue
            if "error" in msg:
                raise PvdError(msg["error"])
            return msg["result"]

    def close(self):
        self.file.close()
        self.sock.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--socket", default=os.environ.get("PVD_SOCKET", "/run/pvd/pvd.sock"))
    ap.add_argument("--undefine", action="store_true", help="undefine the configs' domains instead")
    ap.add_argument("configs", nargs="+")
    args = ap.parse_args()

    pvd = Pvd(args.socket)
    version = pvd.call("daemon.version")
    print(f"pvd {version['pvd']}, API {version['api']}")
    pvd.call("events.subscribe", types=["domain.defined", "domain.redefined", "domain.undefined",
                                        "domain.autostart"])
    status = 0
    for path in args.configs:
        with open(path) as f:
            text = f.read()
        fmt = "xml" if path.endswith(".xml") else "json"
        try:
            name = pvd.call("config.validate", config=text, format=fmt)["name"]
            if args.undefine:
                pvd.call("domain.undefine", domain=name)
                print(f"{name}: undefined")
                continue
            try:
                dom = pvd.call("domain.define", config=text, format=fmt)
                print(f"{name}: defined as {dom['uuid']}")
            except PvdError as e:
                if e.code != -32002:  # already exists: update it in place
                    raise
                dom = pvd.call("domain.define", config=text, format=fmt, replace=True)
                print(f"{name}: config replaced ({dom['uuid']})")
            pvd.call("domain.autostart", domain=name, enabled=True)
        except PvdError as e:
            print(f"{path}: {e}", file=sys.stderr)
            for err in (e.data or {}).get("errors", []):
                print(f"  {err['path']}: {err['message']}", file=sys.stderr)
            status = 1
    print("\ninventory:")
    for d in pvd.call("domain.list", all=True):
        print(f"  {d['name']:<20} {d['state']:<9} {d['memory_mib']:>6} MiB  {d['vcpus']} vCPU  "
              f"autostart={'yes' if d['autostart'] else 'no'}")
    pvd.call("daemon.version")  # a round trip, so every event of our changes has arrived
    print("\nevents:")
    for n in pvd.notifications:
        e = n["params"]["event"]
        print(f"  #{e['id']} {e['type']} {(e['domain'] or {}).get('name', '-')}")
    pvd.close()
    return status


if __name__ == "__main__":
    sys.exit(main())
