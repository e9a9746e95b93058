#!/usr/bin/env python3
"""A disk's `path` may name an existing image only inside the storage pool
or a --disk-dir (pvd without a machine: checked when the domain is
defined, with the error naming /disks/N/path): an image in the --disk-dir
(absolute, and relative to base_dir), a volume of the pool (pvctl vol
create) and a read-only one are taken; a host file outside (/etc/passwd),
a relative path that climbs out, a symbolic link inside the directory
that points out, a directory and a FIFO (which must not hang pvd) are
refused, the outside file with the same message whether it exists or not.
set_disk_quota / set_disk_limit of a defined domain are stored in its
config and shown by domain.info. undefine keeps pool images; with remove_storage it deletes them, never an
image named by path. Prints TAP lines."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "daemon"))
from pvdharness import Pvd, ok, done  # noqa: E402

NOT_ALLOWED = "not in an allowed disk directory"


def define(p, name, disk, base_dir=None):
    cfg = {"name": name, "kernel": "/boot/none", "memory": 16, "disks": [dict({"name": "d", "size": 1}, **disk)]}
    params = {"config": cfg}
    if base_dir:
        params["base_dir"] = base_dir
    return p.call("domain.define", params)


def message(r):
    return (r or {}).get("error", {}).get("message", "")


def refused(r, why):
    err = (r or {}).get("error", {})
    return err.get("code") == -32602 and why in err.get("message", "") and \
        err.get("data", {}).get("errors", [{}])[0].get("path") == "/disks/0/path"


def main():
    p = Pvd()
    disks = os.path.join(p.tmp, "disks")
    outside = os.path.join(p.tmp, "outside")
    os.makedirs(os.path.join(disks, "sub"))
    os.makedirs(os.path.join(disks, "adir"))
    os.makedirs(outside)
    for d in (disks, outside):
        with open(os.path.join(d, "a.img"), "wb") as f:
            f.truncate(1 << 20)
    os.symlink(os.path.join(outside, "a.img"), os.path.join(disks, "link.img"))
    os.mkfifo(os.path.join(disks, "fifo.img"))
    p.extra = list(p.extra) + ["--disk-dir", disks]
    try:
        p.start()
        ok("disk images only in: " + disks in open(p.log).read(), "the start-up log names the directories")
        r = define(p, "in", {"path": os.path.join(disks, "a.img")})
        ok("result" in r, "an image in the --disk-dir is taken", r)
        r = define(p, "rel", {"path": "../a.img", "readonly": True}, base_dir=os.path.join(disks, "sub"))
        ok("result" in r, "an image relative to base_dir inside the --disk-dir, read-only, is taken", r)
        r = p.call("vol.create", {"name": "shared.img", "size": 2})
        pool_path = (r.get("result") or {}).get("path", "")
        r = define(p, "vol", {"path": pool_path})
        ok(pool_path and "result" in r, "a volume of the pool is taken", r)

        r1 = define(p, "out", {"path": os.path.join(outside, "a.img")})
        r2 = define(p, "out", {"path": os.path.join(outside, "missing.img")})
        r3 = define(p, "out", {"path": "/etc/passwd"})
        ok(refused(r1, NOT_ALLOWED) and refused(r2, NOT_ALLOWED) and refused(r3, NOT_ALLOWED) and
           message(r1).replace("a.img", "X") == message(r2).replace("missing.img", "X"),
           "images outside are refused, existing or not, with one message", (r1, r2, r3))
        r = define(p, "climb", {"path": "../../outside/a.img"}, base_dir=os.path.join(disks, "sub"))
        ok(refused(r, NOT_ALLOWED), "a relative path that climbs out is refused", r)
        r = define(p, "link", {"path": os.path.join(disks, "link.img")})
        ok(refused(r, "symbolic link"), "a symbolic link inside pointing out is refused", r)
        r = define(p, "dir", {"path": os.path.join(disks, "adir")})
        ok(refused(r, "Is a directory") or refused(r, "not a regular file"), "a directory is refused", r)
        r = define(p, "fifo", {"path": os.path.join(disks, "fifo.img")})
        ok(refused(r, "not a regular file") and p.alive(), "a FIFO is refused and pvd goes on", r)

        # quotas and limits of a defined domain are stored in its config (and shown)
        r = p.call("domain.set_disk_quota", {"domain": "in", "disk": "d", "quota": 1})
        r2 = p.call("domain.set_disk_quota", {"domain": "in", "quota": "5M"})
        r3 = p.call("domain.set_disk_limit", {"domain": "in", "disk": "d", "bps": "1M", "iops": 10, "burst": 4096})
        norm = (p.call("domain.get_config", {"domain": "in"}).get("result") or {}).get("normalized", {})
        d = (norm.get("disks") or [{}])[0]
        ok("result" in r and "result" in r2 and "result" in r3 and d.get("quota") == 1 and
           norm.get("disk_quota") == 5 and d.get("bps") == 1 << 20 and d.get("iops") == 10 and d.get("burst") == 4096,
           "set_disk_quota and set_disk_limit are stored in the config", norm)
        info = (r3.get("result") or {})
        di = (info.get("disks") or [{}])[0]
        ok(info.get("disk_quota_mib") == 5 and di.get("quota_mib") == 1 and di.get("burst") == 4096 and
           di.get("device") == "xvda" and di.get("allocated_bytes") == 0, "domain.info shows them", info)
        events = [e["type"] for e in p.call("events.list", {"domain": "in"})["result"]]
        ok(events.count("domain.disk_quota") == 2 and events.count("domain.disk_limit") == 1,
           "each change is an event", events)

        # the same through pvctl
        r = p.pvctl("disk-quota", "in", "d", "0")
        r2 = p.pvctl("disk-limit", "in", "d", "--bps", "0", "--iops", "20")
        r3 = p.pvctl("info", "in")
        ok(r.returncode == 0 and r2.returncode == 0 and "Disk quota:   0 MiB of 5 MiB allocated" in r3.stdout and
           "quota none, rate unlimited, ops/s 20, burst 4096 bytes" in r3.stdout and "d (xvda): 1 MiB" in r3.stdout,
           "pvctl disk-quota, disk-limit and info", r.stderr + r2.stderr + r3.stdout)
        r = p.pvctl("disk-limit", "in", "d")
        r2 = p.pvctl("disk-quota", "in", "nodisk", "1")
        ok(r.returncode == 2 and "needs --bps, --iops or --burst" in r.stderr and r2.returncode == 1 and
           'has no disk "nodisk"' in r2.stderr, "pvctl: a limit without an option, a disk that is not there",
           r.stderr + r2.stderr)
        r = p.pvctl("vol", "create", "cli.img", "3M")
        r2 = p.pvctl("vol", "list")
        r3 = p.pvctl("vol", "delete", "cli.img")
        ok(r.returncode == 0 and "cli.img" in r2.stdout and "3 MiB" in r2.stdout and "shared.img" in r2.stdout and
           r3.returncode == 0 and not os.path.exists(os.path.join(p.state, "pool", "cli.img")),
           "pvctl vol create, list, delete", r.stdout + r2.stdout + r3.stdout + r3.stderr)
        p.pvctl("vol", "create", "s.img", "4")
        r = p.pvctl("vol", "resize", "s.img", "1")
        r2 = p.pvctl("vol", "resize", "s.img", "1", "--shrink")
        r3 = p.pvctl("vol", "resize", "shared.img", "8")
        ok(r.returncode == 1 and "smaller than its" in r.stderr and r2.returncode == 0 and "1 MiB" in r2.stdout and
           r3.returncode == 1 and 'is disk "d" of domain "vol"' in r3.stderr,
           "pvctl vol resize: shrinking needs --shrink, a volume in use is not resized", r.stderr + r2.stdout + r3.stderr)

        pool = os.path.join(p.state, "pool")
        r = define(p, "pooled", {})
        uuid = (r.get("result") or {}).get("uuid", "?")
        img = os.path.join(pool, f"{uuid}-d.img")
        ok(os.path.exists(img), "a disk without path gets a pool image", r)
        r = p.call("domain.undefine", {"domain": "pooled"})
        ok(os.path.exists(img) and (r.get("result") or {}).get("removed_images") == 0,
           "undefine keeps the pool image", r)
        r = define(p, "pooled", {})
        uuid = (r.get("result") or {}).get("uuid", "?")
        img2 = os.path.join(pool, f"{uuid}-d.img")
        r = p.call("domain.undefine", {"domain": "pooled", "remove_storage": True})
        ok(not os.path.exists(img2) and (r.get("result") or {}).get("removed_images") == 1,
           "undefine with remove_storage deletes it", r)
        r = p.call("domain.undefine", {"domain": "in", "remove_storage": True})
        ok(os.path.exists(os.path.join(disks, "a.img")) and (r.get("result") or {}).get("removed_images") == 0,
           "remove_storage never deletes an image named by path", r)
        r = p.call("domain.undefine", {"domain": "vol", "remove_storage": True})
        ok(os.path.exists(pool_path), "nor a pool volume a disk names by path", r)
    finally:
        p.cleanup()
    done()


if __name__ == "__main__":
    main()
