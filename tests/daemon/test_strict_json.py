#!/usr/bin/env python3
"""Strict JSON in, valid UTF-8 and exact ids out (a pvd without a machine):
every frame json-c alone would take but RFC 8259 does not (comments,
trailing commas, single quotes, NaN/Infinity, duplicate member names even
spelled with escapes, \\u0000 inside a string, raw control characters,
unpaired surrogates, bytes that are not UTF-8, "1.", "01", numbers that
overflow) is -32700 and changes nothing; a size that overflows is
invalid params; a config text inside params is
held to the same rules; ids are echoed exactly as written (big integers,
fractions, exponents, in batches too); a response whose message is cut
short is still valid UTF-8. Prints TAP lines."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from pvdharness import Pvd, code, done, example, ok, readline  # noqa: E402

HELLO = json.loads(example("hello.json"))

BAD = [
    (b'{"jsonrpc":"2.0","id":1,"method":"daemon.version"} // hi', "a comment"),
    (b'/* hi */ {"jsonrpc":"2.0","id":1,"method":"daemon.version"}', "a block comment"),
    (b'{"jsonrpc":"2.0","id":1,"method":"daemon.version",}', "a trailing comma in an object"),
    (b'[{"jsonrpc":"2.0","id":1,"method":"daemon.version"},]', "a trailing comma in an array"),
    (b"{'jsonrpc':'2.0','id':1,'method':'daemon.version'}", "single quotes"),
    (b'{"jsonrpc":"2.0","id":NaN,"method":"daemon.version"}', "NaN"),
    (b'{"jsonrpc":"2.0","id":-Infinity,"method":"daemon.version"}', "-Infinity"),
    (b'{"jsonrpc":"2.0","id":1,"id":2,"method":"daemon.version"}', "a duplicate member"),
    (b'{"jsonrpc":"2.0","id":1,"method":"daemon.version","\\u006d\\u0065thod":"domain.list"}',
     "a duplicate member spelled with escapes"),
    (b'{"jsonrpc":"2.0","id":1,"method":"daemon.ver\\u0000sion"}', "\\u0000 inside a string"),
    (b'{"jsonrpc":"2.0","id":1,"method":"daemon.\tversion"}', "a raw tab inside a string"),
    (b'{"jsonrpc":"2.0","id":"\\ud800","method":"daemon.version"}', "an unpaired surrogate"),
    (b'{"jsonrpc":"2.0","id":"\xff","method":"daemon.version"}', "a byte that is not UTF-8"),
    (b'{"jsonrpc":"2.0","id":"\xc0\xaf","method":"daemon.version"}', "an overlong UTF-8 sequence"),
    (b'{"jsonrpc":"2.0","id":1.,"method":"daemon.version"}', "1."),
    (b'{"jsonrpc":"2.0","id":01,"method":"daemon.version"}', "a leading zero"),
    (b'{"jsonrpc":"2.0","id":1e999,"method":"daemon.version"}', "a number that overflows"),
    (b'{"jsonrpc":"2.0","id":1,"method":"daemon.version"} x', "text after the value"),
]


def raw_line(p, data):
    with p.connect() as s:
        s.sendall(data + b"\n")
        return readline(s)


def main():
    p = Pvd().start()
    try:
        for data, what in BAD:
            r = p.raw(data + b"\n")
            ok(isinstance(r, dict) and code(r) == -32700 and r["error"].get("data", {}).get("cause"),
               f"{what} is a parse error (-32700) with its cause", r)
        # the example: a path with \u0000 was taken as "a"
        r = p.raw(b'{"jsonrpc":"2.0","id":1,"method":"domain.define","params":{"config":'
                  b'{"name":"nul","kernel":"a\\u0000/../x","memory":16}}}\n')
        ok(code(r) == -32700, "a kernel path hiding \\u0000 is refused, not cut short", r)
        ok(code(p.call("domain.info", {"domain": "nul"})) == -32001, "nothing was defined by it")
        r = p.call("config.validate", {"config": '{"name": "web", "name": "x", "kernel": "/k", "memory": 16}'})
        ok(code(r) == -32602 and "appears twice" in json.dumps(r), "a config text with a duplicate member is invalid",
           r)
        r = p.call("config.validate", {"config": '{"name": "web", "kernel": "/k", "memory": 16, /* c */}'})
        ok(code(r) == -32602 and "not valid JSON" in json.dumps(r), "a config text with a comment is invalid", r)
        r = p.call("domain.define", {"config": dict(HELLO, name="fine", cmdline="caf\u00e9 \U0001F600")})
        ok("result" in r, "strings with escapes and non-ASCII characters are still taken", r)
        got = p.call("domain.get_config", {"domain": "fine"}).get("result", {})
        ok("caf\u00e9 \U0001F600" in json.dumps(got, ensure_ascii=False), "and kept exactly", got)

        for idtext in ("123456789012345678901234567890", "-9223372036854775809", "18446744073709551616",
                       "1.5", "0.1", "1e2", "-0", "2.50"):
            line = raw_line(p, b'{"jsonrpc":"2.0","id":%s,"method":"daemon.version"}' % idtext.encode())
            ok(line.rstrip("\n").endswith(f'"id":{idtext}}}'), f"id {idtext} is echoed exactly", line)
        line = raw_line(p, b'[{"jsonrpc":"2.0","id":99999999999999999999,"method":"daemon.version"},'
                        b'{"jsonrpc":"2.0","id":0.25,"method":"x.y"}]')
        ok('"id":99999999999999999999}' in line and '"id":0.25}' in line, "ids in a batch are echoed exactly", line)

        # sizes: the config's overflow-safe parser (2^43 T wrapped to a negative size before)
        for size in ("8796093022208T", "99999999999999999999999M", "9223372036854775807G", "0M", "1.5G"):
            r = p.call("domain.set_memory", {"domain": "fine", "memory": size})
            ok(code(r) == -32602 and "memory" in r["error"]["message"],
               f"domain.set_memory {size} is invalid params, not a wrapped number", r)
        # a message cut at 100 bytes must not cut a character
        method = "a" * 99 + "\u00e9"
        with p.connect() as s:
            s.sendall(json.dumps({"jsonrpc": "2.0", "id": 1, "method": method}, ensure_ascii=False).encode() + b"\n")
            buf = s.makefile("rb").readline()
        try:
            r = json.loads(buf.decode("utf-8", errors="strict"))
            valid = code(r) == -32601
        except UnicodeDecodeError as e:
            valid, r = False, e
        ok(valid, "a response whose message is cut short is valid UTF-8", r)
        ok(p.alive(), "pvd is alive")
    finally:
        p.cleanup()
    done()


if __name__ == "__main__":
    main()
