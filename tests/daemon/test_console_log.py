#!/usr/bin/env python3
"""Console logs are capped and rotated (issue 13): a chatty guest
(build/guests/console_flood.elf) writes 600000 bytes to its console under
a pvd with --console-log-max 65536 --console-log-files 2. Its log and
rotated files stay within the cap each (so the directory within cap x 3),
LOG.3 is never made, the three files hold the last lines written, in order,
each once, ending with the guest's last line; a reader past the end of the
rotated log reads the new one from its start; undefine removes them all.
Prints TAP lines."""
import glob
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from pvdharness import BUILD, MachinePvd, ok, done  # noqa: E402

FLOOD = os.path.join(BUILD, "guests/console_flood.elf")
CAP, FILES, BYTES = 65536, 2, 600000


def main():
    if not os.path.exists(os.path.join(BUILD, "pvcore.iso")) or not os.path.exists(FLOOD):
        ok(True, "console log cap # SKIP no ISO or guest built")
        done()
    p = MachinePvd(extra=["--console-log-max", str(CAP), "--console-log-files", str(FILES)])
    try:
        p.start()
        cfg = {"name": "chatty", "kernel": FLOOD, "cmdline": f"bytes={BYTES}", "memory": 16,
               "on_poweroff": "destroy"}
        r = p.call("domain.create", {"config": cfg})
        ok("result" in r, "the chatty domain starts", r)
        uuid = r.get("result", {}).get("uuid", "")
        log = os.path.join(p.state, "consoles", uuid + ".log")
        deadline, biggest = time.time() + 240, 0
        while time.time() < deadline:
            files = [f for f in glob.glob(log + "*") if not f.endswith(".pos")]
            biggest = max([biggest] + [os.path.getsize(f) for f in files if os.path.exists(f)])
            try:
                with open(log, "rb") as f:
                    if b"flood: done" in f.read():
                        break
            except OSError:
                pass
            time.sleep(0.2)
        files = sorted(f for f in glob.glob(log + "*") if not f.endswith(".pos"))
        sizes = {os.path.basename(f): os.path.getsize(f) for f in files}
        ok(os.path.exists(log) and b"flood: done" in open(log, "rb").read(),
           f"the guest wrote {BYTES} bytes and its last line is in the log", sizes)
        ok(biggest <= CAP and all(s <= CAP for s in sizes.values()),
           f"no log file ever passed --console-log-max {CAP} (largest seen {biggest})", sizes)
        ok(set(sizes) == {uuid + ".log", uuid + ".log.1", uuid + ".log.2"},
           f"the log and exactly {FILES} rotated files", sizes)
        total = sum(sizes.values())
        ok(total <= CAP * (FILES + 1), f"the domain's logs take {total} bytes, within {CAP} x {FILES + 1}", sizes)
        text = b"".join(open(f"{log}.{k}" if k else log, "rb").read() for k in (2, 1, 0)).decode()
        nums = [int(n) for n in re.findall(r"^flood (\d{7}) ", text, re.M)]
        ok(nums and nums == list(range(nums[0], nums[0] + len(nums))) and text.endswith(f"flood: done {BYTES} bytes\n"),
           "the three files hold the last lines, in order, each once", (nums[:3], nums[-3:], text[-40:]))
        ok(nums and nums[-1] == BYTES // 64 - 1, "up to the last numbered line", nums[-1:] if nums else None)
        r = p.call("domain.console", {"domain": "chatty", "offset": 10 ** 12, "max": 100}).get("result", {})
        ok(r.get("data", "").startswith("flood "), "an offset past the rotated log reads the new log from its start",
           r)
        time.sleep(1)
        r = p.call("domain.undefine", {"domain": "chatty"})
        ok("result" in r, "the domain is undefined", r)
        left = glob.glob(log + "*")
        ok(not left, "undefine removes the log, its record and its rotated files", left)
    finally:
        p.cleanup()
    done()


if __name__ == "__main__":
    main()
