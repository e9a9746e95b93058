#!/usr/bin/env python3
"""mkseeds.py - write the committed seed corpora of the fuzz targets that
take binary input (fuzz/corpus/kernel_image, config and rpc text seeds):
small, well-formed examples each target's parser accepts, so that fuzzing
starts past the first checks. Run from the top directory; the outputs are
committed, so this runs only when a format changes.

kernel_image: a minimal PV ELF (one PT_LOAD, a PT_NOTE with the Xen notes
Linux and our test kernels carry), that ELF inside a bzImage setup header
with each payload compression Linux uses (gzip, xz, lzma, zstd, lz4
legacy, bzip2), and one with MOD_START_PFN. Each file begins with the
target's control byte (domain size, ramdisk or not)."""
import bz2, gzip, lzma, os, struct, subprocess, sys

OUT = "fuzz/corpus"


def write(target, name, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def note(ntype, desc):
    name = b"Xen\0"
    pad = lambda b: b + b"\0" * (-len(b) % 4)
    return struct.pack("<III", len(name), len(desc), ntype) + pad(name) + pad(desc)


def pv_elf(mod_start_pfn=False):
    virt = 0xffffffff80000000
    notes = (note(6, b"linux\0") + note(5, b"xen-3.0\0") + note(8, b"generic\0")
             + note(3, struct.pack("<Q", virt)) + note(4, struct.pack("<Q", virt))
             + note(1, struct.pack("<Q", virt + 0x1000)) + note(2, struct.pack("<Q", virt + 0x2000))
             + note(10, b"!writable_page_tables\0"))
    if mod_start_pfn:
        notes += note(16, struct.pack("<I", 1))
    phoff, nph = 64, 2
    note_off = phoff + 56 * nph
    seg_off = (note_off + len(notes) + 0xff) & ~0xff
    seg = bytes((i * 7 + 1) & 0xff for i in range(0x200))
    eh = (b"\x7fELF" + bytes([2, 1, 1, 0]) + b"\0" * 8
          + struct.pack("<HHIQQQIHHHHHH", 2, 62, 1, virt + 0x1000, phoff, 0, 0, 64, 56, nph, 64, 0, 0))
    load = struct.pack("<IIQQQQQQ", 1, 7, seg_off, virt, virt, len(seg), 0x8000, 0x1000)
    pnote = struct.pack("<IIQQQQQQ", 4, 4, note_off, 0, 0, len(notes), len(notes), 4)
    body = eh + load + pnote + notes
    body += b"\0" * (seg_off - len(body))
    return body + seg


def bzimage(payload, raw_len):
    setup_sects = 1
    pm = bytearray(b"\0" * ((setup_sects + 1) * 512))
    pm[0x1f1] = setup_sects
    pm[0x202:0x206] = b"HdrS"
    pm[0x206:0x208] = struct.pack("<H", 0x020f)
    head = b"\0" * 64          # the protected-mode stub before the payload
    pm[0x248:0x24c] = struct.pack("<I", len(head))
    pm[0x24c:0x250] = struct.pack("<I", len(payload))
    return bytes(pm) + head + payload


def tool(cmd, data):
    return subprocess.run(cmd, input=data, stdout=subprocess.PIPE, check=True).stdout


def config_seeds():
    # control byte: 0 JSON, 1 XML, 2 what the text looks like
    full = {"name": "web", "kernel": "/boot/vmlinuz", "ramdisk": "/boot/initrd.img",
            "cmdline": "console=hvc0 root=/dev/xvda", "memory": "64M", "maxmem": 128,
            "vcpus": 2, "cpu": {"weight": 512, "cap": 150},
            "disks": [{"name": "root", "size": "1G", "quota": "512M", "bps": 1048576, "iops": 100},
                      {"name": "data", "path": "data.img", "size": 64, "readonly": True}],
            "vifs": [{"bridge": "internal-lab", "mac": "00:16:3e:00:00:01", "rate": 1000000,
                      "burst": 20000, "weight": 100}, {"bridge": "br0"}],
            "on_poweroff": "destroy", "on_reboot": "restart", "on_crash": "preserve",
            "autostart": True}
    import json
    write("config", "hello-json", b"\x02" + open("examples/hello.json", "rb").read())
    write("config", "hello-xml", b"\x02" + open("examples/hello.xml", "rb").read())
    write("config", "full-json", b"\x00" + json.dumps(full).encode())
    xml = ("<domain><name>db</name><kernel>/boot/vmlinuz</kernel><memory>1G</memory>"
           "<vcpus>2</vcpus><cpu><weight>100</weight><cap>50</cap></cpu>"
           "<disks><disk><name>root</name><size>2G</size><quota>1G</quota><readonly>true</readonly>"
           "</disk></disks><vifs><vif><bridge>internal</bridge><mac>00:16:3e:00:00:02</mac></vif>"
           "</vifs><on_crash>restart</on_crash><autostart>true</autostart></domain>")
    write("config", "full-xml", b"\x01" + xml.encode())
    return full


def rpc_seeds(full):
    # control byte 0x7f: reads of 556 bytes, frames up to 8192 bytes
    import json
    def call(i, method, params=None):
        m = {"jsonrpc": "2.0", "method": method, "id": i}
        if params is not None:
            m["params"] = params
        return json.dumps(m)
    small = dict(full, name="a", disks=[], kernel="/boot/k")
    lines = {
        "version": [call(1, "daemon.version"), call("x", "host.info")],
        "define": [call(1, "domain.define", {"config": small}), call(2, "domain.list", {"all": True}),
                   call(3, "domain.info", {"domain": "a"}), call(4, "domain.get_config", {"domain": "a"}),
                   call(5, "domain.autostart", {"domain": "a", "enabled": True}),
                   call(6, "domain.start", {"domain": "a"}), call(7, "domain.undefine", {"domain": "a"})],
        "define-xml": [call(1, "domain.define", {"config": open("examples/hello.xml").read(), "format": "xml",
                                                 "replace": True, "base_dir": "/tmp"}),
                       call(2, "domain.set_memory", {"domain": "hello-xml", "memory": "48M"}),
                       call(3, "domain.undefine", {"domain": "hello-xml"})],
        "validate": [call(1.5, "config.validate", {"config": json.dumps(full), "format": "json"})],
        "batch": ["[" + ",".join([call(i, "domain.list") for i in range(3)]
                  + ['{"jsonrpc":"2.0","method":"daemon.version"}']) + "]"],
        "events": [call(12345678901234567890, "events.list", {"limit": 5}), call(None, "events.subscribe")],
        "xs": [call(1, "xs.read", {"path": "/local/domain/0/name"}), call(2, "domain.console", {"domain": "a"})],
        "errors": ['{"jsonrpc":"2.0","method":"nope","id":1}', '{"jsonrpc":"2.0","id":1,}',
                   '[]', '{"a":1,"a":2}', '"\\u0000"', "\r", "x" * 100],
    }
    for name, ls in lines.items():
        write("rpc", name, b"\x7f" + "\n".join(ls).encode() + b"\n")


def blkif_seeds():
    # control byte: 1 read-only disk, 2 quota, 4 persistent grants; then
    # commands (fuzz_blkif.c): 0 request, 2 serve, 3 req_prod, 4 reconnect
    def req(op, nseg, rid, sector, segs):
        b = struct.pack("<BBHIQQ", op, nseg, 0, 0, rid, sector)
        for gref, first, last in segs:
            b += struct.pack("<IBBH", gref, first, last, 0)
        return b + b"\0" * (112 - len(b))
    w = b"\0" + req(1, 1, 1, 10, [(2, 0, 7)])
    r = b"\0" + req(0, 2, 2, 11, [(3, 2, 3), (4, 0, 7)])
    fl = b"\0" + req(3, 0, 3, 0, [])
    disc = b"\0" + struct.pack("<BBHIQQQ", 5, 0, 0, 0, 4, 8, 8) + b"\0" * 80
    write("blkif", "rw", b"\0" + w + r + fl + disc + b"\2")
    write("blkif", "persistent", b"\4" + w + r + b"\2" + w + r + b"\2\4" + r + b"\2")
    write("blkif", "readonly-quota", b"\3" + w + r + disc + b"\2")
    write("blkif", "hostile-index", b"\0" + w + b"\3" + struct.pack("<I", 1000) + b"\2\4" + r + b"\2")


def netif_seeds():
    # control byte: 1 rate limit; commands (fuzz_netif.c): 0 tx slot,
    # 2 poll, 3 write 16 bytes into a page, 4 req_prod, 5 rx request,
    # 7 reconnect, 8 domain 2 sends
    mac1 = bytes([0, 0x16, 0x3e, 0, 0, 1])
    head = b"\xff" * 6 + mac1 + b"\x08\x00"
    def fill(page, off16, b16):
        return b"\3" + bytes([page, off16]) + b16.ljust(16, b"\0")
    def tx(gref, off, flags, rid, size):
        return b"\0" + struct.pack("<IHHHH", gref, off, flags, rid, size)
    frame = fill(2, 0, head) + fill(2, 1, b"\x45" + b"\0" * 15)
    one = frame + tx(3, 0, 0, 1, 60) + b"\2"
    chain = (fill(3, 0, head) + tx(4, 0, 4, 2, 300) + tx(5, 0, 0, 3, 100) + b"\2")
    extra = tx(3, 0, 8, 4, 60) + b"\0" + struct.pack("<BBHHHI", 1, 0, 1400, 1, 0, 0) + b"\2"
    rx = b"\5" + struct.pack("<HHI", 1, 0, 6) + b"\2"
    write("netif", "one-frame", b"\0" + one)
    write("netif", "chain-extra", b"\0" + frame + chain + extra + rx)
    write("netif", "rate-reconnect", b"\1" + one + b"\6\x10" + one + b"\7" + one)
    write("netif", "hostile-index", b"\0" + one + b"\4" + struct.pack("<I", 5000) + b"\2")
    # domain 1 posts rx buffers (refs 5, 6), domain 2 sends to it (command 8)
    peer = (b"\5" + struct.pack("<HHI", 1, 0, 5) + b"\5" + struct.pack("<HHI", 2, 0, 6)
            + b"\x08\x00\x08\xff\2" + tx(3, 0, 1, 5, 1000) + b"\2")
    write("netif", "peer-to-hostile", b"\0" + peer)


def ctl_seeds():
    # records (fuzz_ctl.c): op, size, 112 bytes of payload
    def rq(op, payload):
        return bytes([op, len(payload)]) + payload.ljust(112, b"\0")
    dom = lambda d, arg=0: struct.pack("<II", d, arg)
    create = rq(2, b"web".ljust(32, b"\0") + bytes(range(1, 17)) + struct.pack("<QQIIII", 64, 128, 2, 256, 0, 0))
    life = (rq(1, b"") + create + rq(3, struct.pack("<IIQQ", 1, 0, 0, 64)) + rq(9, dom(1))
            + rq(22, struct.pack("<IIQ", 1, 4, 0x100)) + rq(4, struct.pack("<IIQQQQ", 1, 0, 0x1000, 0x2000, 0, 0x100))
            + rq(5, dom(1)) + rq(6, dom(1)) + rq(12, struct.pack("<IIII", 1, 512, 50, 0))
            + rq(11, struct.pack("<IIQ", 1, 0, 256)) + rq(10, b"") + rq(7, dom(1, 2)) + rq(8, dom(1)))
    ports = (create + rq(24, dom(1)) + rq(13, dom(1)) + rq(14, dom(1, 1)) + rq(15, dom(0, 1))
             + rq(21, struct.pack("<IIIIQQ", 1, 1, 2, 0, 3, 4)) + rq(16, dom(0, 1)) + rq(20, struct.pack("<Q", 0)))
    # the guest grants (0xfd: domid, ref, flags, grantee, pfn) refs 5 (pfn 3)
    # and 6 (pfn 4, read-only) to Domain 0, which maps, unmaps and copies
    # them; a copy's Domain 0 side is a frame of the bulk area (the block
    # is at 0x40000 on fuzz_ctl's machine, its bulk 0x3000 in: frame 0x43)
    grant = lambda ref, flags, pfn: b"\xfd" + bytes([1, ref, flags, 0, 0, pfn])
    copy = lambda sref, soff, dframe, doff, n, flags: struct.pack(
        "<QHH4xQHH4xHHh2x", sref, 1, soff, dframe, 0x7ff0, doff, n, flags, 0)
    grants = (create + grant(5, 1, 3) + grant(6, 5, 4)
              + rq(17, struct.pack("<IIII", 1, 5, 0, 0)) + rq(17, struct.pack("<IIII", 1, 6, 4, 0))
              + rq(18, struct.pack("<IIII", 0, 0, 0, 0)) + rq(17, struct.pack("<IIII", 1, 9, 0, 0))
              + b"\xff\x02" + copy(5, 0, 0x43, 0, 64, 1) + copy(6, 100, 0x43, 512, 16, 1)
              + rq(19, struct.pack("<II", 2, 0)) + rq(8, dom(1)))
    # GRANT_MAP_BATCH (26) of four entries in bulk (0xff counts 24-byte
    # units: 6 hold the four 32-byte entries): refs 5, 6 read-only, 6
    # writable (refused), 9 (never granted); GRANT_UNMAP_BATCH (27) of
    # handles 0, 1, 1 (twice) and 7 (stale)
    bulk = lambda data: b"\xff" + bytes([(len(data) + 23) // 24]) + data.ljust((len(data) + 23) // 24 * 24, b"\0")
    entry = lambda ref, flags: struct.pack("<IIIiQII", 1, ref, flags, 0, 0, 0, 0)
    batch = (create + grant(5, 1, 3) + grant(6, 5, 4)
             + bulk(entry(5, 0) + entry(6, 4) + entry(6, 0) + entry(9, 0)) + rq(26, struct.pack("<II", 4, 0))
             + bulk(struct.pack("<IiIiIiIi", 0, 0, 1, 0, 1, 0, 7, 0)) + rq(27, struct.pack("<II", 4, 0))
             + rq(26, struct.pack("<II", 513, 0)) + rq(8, dom(1)))
    write("ctl", "lifecycle", life)
    write("ctl", "grant-batch", batch)
    write("ctl", "ports", ports)
    write("ctl", "grants", grants)
    write("ctl", "hostile-index", create + b"\xfe" + struct.pack("<I", 1000) + rq(0, b""))


def main():
    ctl_seeds()
    netif_seeds()
    blkif_seeds()
    rpc_seeds(config_seeds())
    elf = pv_elf()
    size = struct.pack("<I", len(elf))
    payloads = {
        "gz": gzip.compress(elf, 9, mtime=0),
        "xz": lzma.compress(elf, format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC32) + size,
        "lzma": lzma.compress(elf, format=lzma.FORMAT_ALONE) + size,
        "bz2": bz2.compress(elf, 9) + size,
        "zst": tool(["zstd", "-19", "-q", "-c"], elf) + size,
        "lz4": tool(["lz4", "-l", "-9", "-q", "-c"], elf) + size,
    }
    write("kernel_image", "elf", b"\x01" + elf)
    write("kernel_image", "elf-ramdisk", b"\x81" + elf + b"RAMDISK!" * 100)
    write("kernel_image", "elf-mod-start-pfn", b"\x82" + pv_elf(True) + b"initrd" * 100)
    for k, p in payloads.items():
        write("kernel_image", "bzimage-" + k, b"\x02" + bzimage(p, len(elf)))


if __name__ == "__main__":
    sys.exit(main())
