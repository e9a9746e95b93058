#!/usr/bin/env python3
"""mkdict.py KIND DOC > DICT - a libFuzzer dictionary from the document
that defines an input format, so the fuzzer writes its words from the
start instead of guessing them byte by byte:
  rpc     api/pvd.openrpc.json: method names, parameter names, string enum
          values, and JSON-RPC's own members
  config  schemas/domain.schema.json: property names and enum values, as
          JSON keys and as XML tags
Built by fuzz/build.mk into build/fuzz/NAME.dict; the document stays the
one place these words are written."""
import json
import sys


def walk(node, names, values):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "properties" and isinstance(v, dict):
                names.update(v.keys())
            if k == "enum" and isinstance(v, list):
                values.update(x for x in v if isinstance(x, str))
            if (k == "name" or k.startswith("x-xml")) and isinstance(v, str):
                names.add(v)
            walk(v, names, values)
    elif isinstance(node, list):
        for v in node:
            walk(v, names, values)


def quote(word):
    return '"' + "".join(c if 32 <= ord(c) < 127 and c not in '"\\' else "\\x%02x" % ord(c) for c in word) + '"'


def main():
    kind, path = sys.argv[1], sys.argv[2]
    with open(path) as f:
        doc = json.load(f)
    names, values = set(), set()
    walk(doc, names, values)
    words = set()
    for n in names:
        words.add('"%s"' % n)
        if kind == "config":
            words.update(("<%s>" % n, "</%s>" % n))
    words.update('"%s"' % v for v in values)
    if kind == "rpc":
        words.update(('"jsonrpc"', '"2.0"', '"method"', '"params"', '"id"', "null", "true", "false", "\n"))
    else:
        words.update(("<domain>", "</domain>", '<?xml version="1.0"?>', "M", "G", "K", "T"))
    for w in sorted(words):
        print(quote(w))


if __name__ == "__main__":
    main()
