#!/usr/bin/env python3
"""orchestrate.py - drive pvd from a script with the Python standard library.

Defines every config given (JSON or XML files; a relative kernel path is
resolved against the config's directory, which is sent as base_dir), marks
them autostart, optionally starts them, prints the resulting inventory and
the events it caused, and can undefine them again. Uses the pvdclient
module (api/python/pvdclient.py, installed in /usr/share/pvcore/python):
pvd's unix socket (--socket, else $PVD_SOCKET, else /run/pvd/pvd.sock), or
TLS with --connect tls://HOST:PORT --cert --key --ca.

    orchestrate.py [--socket PATH | --connect URI ...] [--start] [--undefine] CONFIG...
"""
import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
for d in (os.environ.get("PVCORE_PYTHON"), os.path.join(HERE, "..", "python"), "/usr/share/pvcore/python"):
    if d and os.path.exists(os.path.join(d, "pvdclient.py")):
        sys.path.insert(0, d)
        break
from pvdclient import ALREADY_EXISTS, Client, PvdError, config_params  # noqa: E402

EVENTS = ["domain.defined", "domain.redefined", "domain.undefined", "domain.autostart", "domain.started"]


def apply(pvd, path, args):
    """Define (or replace) one config's domain, mark it autostart, start it if asked."""
    params = config_params(path)
    name = pvd.call("config.validate", **config_params(path, base_dir=False))["name"]
    if args.undefine:
        pvd.call("domain.undefine", domain=name)
        print(f"{name}: undefined")
        return
    try:
        dom = pvd.call("domain.define", **params)
        print(f"{name}: defined as {dom['uuid']}")
    except PvdError as e:
        if e.code != ALREADY_EXISTS:
            raise
        dom = pvd.call("domain.define", replace=True, **params)
        print(f"{name}: config replaced ({dom['uuid']})")
    pvd.call("domain.autostart", domain=dom["uuid"], enabled=True)
    if args.start:
        r = pvd.call("domain.start", domain=dom["uuid"])
        print(f"{name}: started, domid {r.get('domid')}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--socket", default=os.environ.get("PVD_SOCKET", "/run/pvd/pvd.sock"))
    ap.add_argument("--connect", help="tls://HOST:PORT (with --cert, --key, --ca) instead of the socket")
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--ca")
    ap.add_argument("--start", action="store_true", help="start each domain once defined")
    ap.add_argument("--undefine", action="store_true", help="undefine the configs' domains instead")
    ap.add_argument("configs", nargs="+")
    args = ap.parse_args()

    with Client(args.connect or args.socket, cert=args.cert, key=args.key, ca=args.ca) as pvd:
        version = pvd.call("daemon.version")
        print(f"pvd {version['pvd']}, API {version['api']}")
        pvd.call("events.subscribe", types=EVENTS)
        status = 0
        for path in args.configs:
            try:
                apply(pvd, path, args)
            except (PvdError, OSError) as e:
                print(f"{path}: {e}", file=sys.stderr)
                for err in getattr(e, "errors", []):
                    print(f"  {err['path']}: {err['message']}", file=sys.stderr)
                status = 1
        print("\ninventory:")
        for d in pvd.call("domain.list", all=True):
            if not d.get("managed", True):
                continue
            print(f"  {d['name']:<20} {d['state']:<9} {d['memory_mib']:>6} MiB  {d['vcpus']} vCPU  "
                  f"autostart={'yes' if d['autostart'] else 'no'}")
        pvd.call("daemon.version")  # a round trip, so every event of our changes has arrived
        print("\nevents:")
        for e in pvd.events(timeout=0):
            print(f"  #{e['id']} {e['type']} {(e['domain'] or {}).get('name', '-')}")
    return status


if __name__ == "__main__":
    sys.exit(main())
