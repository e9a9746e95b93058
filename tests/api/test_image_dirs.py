#!/usr/bin/env python3
"""Kernels and ramdisks come only from the directories the operator
allowed (--image-dir): a pvd (with a machine) allowed IMG (a temporary
directory) and build/guests must start domains from there, with paths
relative to base_dir too, and refuse everything else: a host file outside
(/etc/shadow as a ramdisk), with the same message whether it exists or not
(no existence oracle), a relative path that climbs out, a symbolic link
inside IMG that points out, and a FIFO (which must not hang pvd).
Prints TAP lines."""
import os
import shutil
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "daemon"))
from pvdharness import BUILD, MachinePvd, ok, done  # noqa: E402

HELLO = os.path.join(BUILD, "guests/hello.elf")
NOT_ALLOWED = "not in an allowed image directory"


def start(p, name, kernel, ramdisk=None, base_dir=None):
    cfg = {"name": name, "kernel": kernel, "cmdline": f"name={name}", "memory": 16}
    if ramdisk:
        cfg["ramdisk"] = ramdisk
    params = {"config": cfg, "transient": True}
    if base_dir:
        params["base_dir"] = base_dir
    return p.call("domain.create", params)


def message(r):
    return (r or {}).get("error", {}).get("message", "")


def main():
    if not os.path.exists(os.path.join(BUILD, "pvcore.iso")) or not os.path.exists(HELLO):
        ok(True, "image directories # SKIP no ISO or guest built")
        done()
    p = MachinePvd()
    img = os.path.join(p.tmp, "images")
    outside = os.path.join(p.tmp, "outside")
    os.makedirs(os.path.join(img, "sub"))
    os.makedirs(outside)
    shutil.copy(HELLO, os.path.join(img, "hello.elf"))
    shutil.copy(HELLO, os.path.join(outside, "hello.elf"))
    os.symlink(os.path.join(outside, "hello.elf"), os.path.join(img, "link.elf"))
    os.mkfifo(os.path.join(img, "fifo.elf"))
    p.extra += ["--image-dir", img, "--image-dir", os.path.join(BUILD, "guests")]
    try:
        p.start()
        r = start(p, "a", os.path.join(img, "hello.elf"))
        ok("result" in r, "a kernel in an --image-dir starts", r)
        r = start(p, "b", "hello.elf", base_dir=os.path.join(img, "sub", ".."))
        ok("result" in r, "a kernel relative to base_dir, inside an --image-dir, starts", r)
        r = start(p, "c", HELLO)
        ok("result" in r, "a kernel in the second --image-dir (build/guests) starts", r)

        r = start(p, "d", HELLO, ramdisk="/etc/shadow")
        ok(NOT_ALLOWED in message(r), "a host file as ramdisk is refused: " + NOT_ALLOWED, r)
        r2 = start(p, "d", HELLO, ramdisk="/etc/no-such-file-here")
        ok(message(r2) == message(r).replace("/etc/shadow", "/etc/no-such-file-here"),
           "a missing host file gets the same message as an existing one", (r, r2))
        r = start(p, "e", os.path.join(outside, "hello.elf"))
        ok(NOT_ALLOWED in message(r), "a kernel outside the allowed directories is refused", r)
        r = start(p, "f", "../outside/hello.elf", base_dir=img)
        ok(NOT_ALLOWED in message(r), "a relative path climbing out of the directory is refused", r)
        r = start(p, "g", os.path.join(img, "link.elf"))
        ok("error" in r and "symbolic link" in message(r), "a symbolic link inside the directory is not followed", r)

        result = {}
        t = threading.Thread(target=lambda: result.update(r=start(p, "h", os.path.join(img, "fifo.elf"))),
                             daemon=True)
        t.start()
        t.join(10)
        ok(not t.is_alive() and "not a regular file" in message(result.get("r")),
           "a FIFO as kernel is refused at once, pvd does not hang", result)
        t0 = time.time()
        ok("result" in p.call("daemon.version") and time.time() - t0 < 5, "pvd still answers")
        names = sorted(d["name"] for d in p.call("domain.list", {}).get("result", []))
        ok(names == ["a", "b", "c"], "only the allowed domains exist", names)
        log = p.logtext()
        ok("kernels and ramdisks only from: " + img in log, "the start-up log names the directories",
           log[-500:])
    finally:
        p.cleanup()
    done()


if __name__ == "__main__":
    main()
