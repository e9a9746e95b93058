#!/usr/bin/env python3
"""domain.list and domain.info are served from pvd's in-memory copy of its
domains (daemon/domain_cache.c); they must never show what the store no
longer holds. A pvd without a machine (PVD=... for the ASan build); each
change below is made right after a list and an info have filled the cache,
and the very next list and info must show it: define, redefine with other
memory and vCPUs, autostart on and off, a vif attached and detached (the
config rewritten by a device call), undefine, a define reusing the name,
and a change written to the database by another connection (sqlite3, as an
operator's repair would). domain.list's fields select each entry's
members (the selection is kept in the cache too, and follows changes the
same way); unknown or malformed fields are -32602 naming the one. Answers are also checked to be the same on a
fresh pvd on the same state (nothing held over), on several connections at
once, and by every way of naming a domain. Prints TAP lines."""
import json
import os
import sqlite3
import sys

sys.path.insert(0, os.path.dirname(__file__))
from pvdharness import Pvd, done, example, ok, readline  # noqa: E402

HELLO = json.loads(example("hello.json"))


def config(name, **changes):
    c = dict(HELLO, name=name, **changes)
    c.pop("uuid", None)
    return c


def listing(p):
    r = p.call("domain.list", {"all": True})
    return {d["name"]: d for d in r["result"]}


def warm(p, name):
    """Fill the cache: a list and an info of name (when it exists)."""
    listing(p)
    p.call("domain.info", {"domain": name})


def test_changes_seen_at_once(p):
    for i in range(5):
        r = p.call("domain.define", {"config": config(f"cache{i}")})
        ok("result" in r, f"define cache{i}", r)
    warm(p, "cache2")
    r = p.call("domain.define", {"config": config("fresh")})
    ok("result" in r, "define fresh", r)
    ok("fresh" in listing(p), "a define shows in the next list", sorted(listing(p)))
    r = p.call("domain.info", {"domain": "fresh"})
    ok(r.get("result", {}).get("name") == "fresh", "and in the next info", r)

    warm(p, "cache2")
    r = p.call("domain.define", {"config": config("cache2", memory="48M", maxmem="96M", vcpus=3), "replace": True})
    ok("result" in r, "redefine cache2 with 48 MiB and 3 vCPUs", r)
    d = listing(p)["cache2"]
    ok((d["memory_mib"], d["maxmem_mib"], d["vcpus"]) == (48, 96, 3),
       "a redefine's memory and vCPUs show in the next list", d)
    r = p.call("domain.info", {"domain": "cache2"})["result"]
    ok((r["memory_mib"], r["maxmem_mib"], r["vcpus"]) == (48, 96, 3), "and in the next info", r)

    for on in (True, False):
        warm(p, "cache3")
        r = p.call("domain.autostart", {"domain": "cache3", "enabled": on})
        ok("result" in r, f"autostart {on}", r)
        ok(listing(p)["cache3"]["autostart"] is on, f"autostart {on} shows in the next list", listing(p)["cache3"])
        r = p.call("domain.info", {"domain": "cache3"})["result"]
        ok(r["autostart"] is on, f"and in the next info", r)

    warm(p, "cache4")
    r = p.call("domain.net_attach", {"domain": "cache4", "vif": {"bridge": "internal"}})
    ok("result" in r and len(r["result"]["vifs"]) == 2, "net_attach rewrites cache4's config", r)
    r = p.call("domain.info", {"domain": "cache4"})["result"]
    ok(len(r["vifs"]) == 2, "the attached vif shows in the next info", r["vifs"])
    mac = r["vifs"][1]["mac"]
    r = p.call("domain.net_detach", {"domain": "cache4", "mac": mac})
    ok("result" in r, "net_detach", r)
    r = p.call("domain.info", {"domain": "cache4"})["result"]
    ok(len(r["vifs"]) == 1, "the detached vif is gone from the next info", r["vifs"])

    warm(p, "cache1")
    uuid1 = p.call("domain.info", {"domain": "cache1"})["result"]["uuid"]
    r = p.call("domain.undefine", {"domain": "cache1"})
    ok("result" in r, "undefine cache1", r)
    ok("cache1" not in listing(p), "an undefine shows in the next list", sorted(listing(p)))
    r = p.call("domain.info", {"domain": uuid1})
    ok(r.get("error", {}).get("code") == -32001, "info by the old UUID: no such domain", r)
    r = p.call("domain.define", {"config": config("cache1", vcpus=2)})
    ok("result" in r and r["result"]["uuid"] != uuid1, "the name defined again gets a new UUID", r)
    d = listing(p)["cache1"]
    ok(d["uuid"] == r["result"]["uuid"] and d["vcpus"] == 2, "the next list has the new domain, not the old", d)


def test_other_writer(p):
    warm(p, "cache0")
    db = sqlite3.connect(os.path.join(p.state, "pvd.db"), timeout=5)
    with db:
        db.execute("UPDATE domains SET autostart = 1 WHERE name = 'cache0'")
    db.close()
    ok(listing(p)["cache0"]["autostart"] is True,
       "a change by another connection to the database shows in the next list", listing(p)["cache0"])
    r = p.call("domain.info", {"domain": "cache0"})["result"]
    ok(r["autostart"] is True, "and in the next info", r)


def test_ways_to_name(p):
    d = listing(p)["cache0"]
    for ref in (d["uuid"], d["uuid"].upper(), "cache0", ["cache0"]):
        params = ref if isinstance(ref, list) else {"domain": ref}
        r = p.call("domain.info", params)
        ok(r.get("result", {}).get("uuid") == d["uuid"], f"info by {ref!r}", r)
    for ref in ("CACHE0", "cache", "12", d["uuid"][:-1]):
        r = p.call("domain.info", {"domain": ref})
        ok(r.get("error", {}).get("code") == -32001, f"info by {ref!r}: no such domain", r)
    r = p.call("domain.list", {})
    ok(r.get("result") == [], "list without all: no domain runs", r)


FIELDS = ["uuid", "name", "domid", "state", "desired_state", "autostart", "transient", "managed",
          "memory_mib", "maxmem_mib", "target_mib", "vcpus", "cpu_time_ns"]


def selection(p, fields):
    r = p.call("domain.list", {"all": True, "fields": fields})
    return r.get("result", r)


def test_fields(p):
    full = p.call("domain.list", {"all": True})["result"]
    for fields in (["name", "state"], ["state", "name"], ["name"], ["uuid", "domid", "cpu_time_ns"],
                   ["target_mib"], FIELDS, ["vcpus", "name", "vcpus"]):
        want = [{k: v for k, v in d.items() if k in fields} for d in full]
        got = selection(p, fields)
        ok(got == want and all(list(g) == list(w) for g, w in zip(got, want)),
           f"fields {fields}: each entry has just those members, in the full entry's order",
           f"{str(got)[:300]} vs {str(want)[:300]}")
    ok(selection(p, FIELDS) == full, "every field asked for: the full entries", "")
    # the kept selection follows the store as the full entry does
    selection(p, ["name", "autostart"])
    p.call("domain.autostart", {"domain": "cache3", "enabled": True})
    got = {d["name"]: d for d in selection(p, ["name", "autostart"]) if isinstance(d, dict)}
    ok(got.get("cache3") == {"name": "cache3", "autostart": True},
       "a change shows in the next list of the same fields", got.get("cache3"))
    p.call("domain.autostart", {"domain": "cache3", "enabled": False})
    got = {d["name"]: d for d in selection(p, ["autostart", "name"]) if isinstance(d, dict)}
    ok(got.get("cache3") == {"name": "cache3", "autostart": False}, "and when it is undone", got.get("cache3"))
    for fields, where, says in ((["name", "colour"], "/fields/1", '"colour" is not one of'),
                                ([], "/fields", "fewer than the minimum of 1"),
                                ("name", "/fields", "expected array"),
                                (["name", 3], "/fields/1", "expected string")):
        r = p.call("domain.list", {"all": True, "fields": fields})
        e = r.get("error", {})
        paths = [x.get("path") for x in e.get("data", {}).get("errors", [])]
        ok(e.get("code") == -32602 and says in e.get("message", "") and paths == [where],
           f"fields {fields!r}: -32602 at {where} saying {says}", r)
    r = p.call("domain.list", {"fields": ["name", "state"]})
    ok(r.get("result") == [], "fields without all: still only running domains", r)


def test_same_after_restart(p):
    before = [p.call("domain.list", {"all": True}), p.call("domain.info", {"domain": "cache2"})]
    p.stop()
    p.start()
    after = [p.call("domain.list", {"all": True}), p.call("domain.info", {"domain": "cache2"})]
    ok(before == after, "a fresh pvd on the same state answers the same", f"{before} vs {after}")
    socks = [p.connect() for _ in range(8)]
    for s in socks:
        s.sendall(b'{"jsonrpc":"2.0","id":1,"method":"domain.list","params":{"all":true}}\n')
    answers = set()
    for s in socks:
        answers.add(readline(s))
        s.close()
    ok(len(answers) == 1 and json.loads(answers.pop())["result"] == after[0]["result"],
       "eight connections at once get the same list", len(answers))


def main():
    p = Pvd().start()
    try:
        test_changes_seen_at_once(p)
        test_other_writer(p)
        test_ways_to_name(p)
        test_fields(p)
        test_same_after_restart(p)
        ok(p.alive(), "pvd survived")
        rc = p.stop()
        ok(rc == 0, "pvd stops cleanly with exit 0", rc)
        bad = [l for l in p.logtext().splitlines()
               if "AddressSanitizer" in l or "runtime error:" in l or "LeakSanitizer" in l]
        ok(not bad, "no sanitizer reports in pvd's log", bad[:5])
    finally:
        p.cleanup()
    done()


if __name__ == "__main__":
    main()
