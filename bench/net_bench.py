"""net_bench.py - the host's side of bench/net_bench.sh (run inside the
network namespaces the benchmark created):

  recv PORT SECONDS           count UDP datagrams to PORT for SECONDS after
                              the first one: prints frame bytes/s (payload
                              + 42 bytes of Ethernet, IPv4 and UDP headers)
  send ADDR PORT SECONDS      1472-byte datagrams to ADDR:PORT as fast as
                              the socket takes them
  ping ADDR COUNT             ICMP echo round trips to ADDR (raw socket):
                              prints the average in microseconds
  tcprecv PORT                one TCP connection to PORT: prints its bytes/s
                              from the first byte to the end
  tcpsend ADDR PORT MB        MB MiB of zeros to ADDR:PORT over TCP
"""
import os
import socket
import struct
import sys
import time

HEADERS = 14 + 20 + 8


def recv(port, seconds):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind(("0.0.0.0", port))
    s.settimeout(120)
    s.recv(65536)
    total, end = 0, time.monotonic() + seconds
    s.settimeout(1)
    start = time.monotonic()
    while time.monotonic() < end:
        try:
            total += len(s.recv(65536)) + HEADERS
        except socket.timeout:
            pass
    print(int(total / (time.monotonic() - start)))


def send(addr, port, seconds):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    data, end = bytes(1472), time.monotonic() + seconds
    while time.monotonic() < end:
        for _ in range(64):
            try:
                s.sendto(data, (addr, port))
            except OSError:
                pass


def checksum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ping(addr, count):
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    s.settimeout(1)
    ident, rtts = os.getpid() & 0xFFFF, []
    for seq in range(1, count + 1):
        hdr = struct.pack("!BBHHH", 8, 0, 0, ident, seq) + bytes(56)
        pkt = hdr[:2] + struct.pack("!H", checksum(hdr)) + hdr[4:]
        t = time.perf_counter_ns()
        s.sendto(pkt, (addr, 0))
        while True:
            try:
                r = s.recv(2048)
            except socket.timeout:
                break
            ihl = (r[0] & 15) * 4
            typ, _, _, rid, rseq = struct.unpack("!BBHHH", r[ihl:ihl + 8])
            if typ == 0 and rid == ident and rseq == seq:
                rtts.append(time.perf_counter_ns() - t)
                break
    print(int(sum(rtts) / len(rtts) / 1000) if rtts else -1)


def tcprecv(port):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("0.0.0.0", port))
    ls.listen(1)
    ls.settimeout(600)
    c, _ = ls.accept()
    first = c.recv(1 << 20)
    start, total = time.monotonic(), 0
    while True:
        b = c.recv(1 << 20)
        if not b:
            break
        total += len(b)
    elapsed = time.monotonic() - start
    print(int(total / elapsed) if elapsed > 0 and first else -1)


def tcpsend(addr, port, mb):
    s = socket.create_connection((addr, port), timeout=30)
    chunk = bytes(1 << 20)
    for _ in range(mb):
        s.sendall(chunk)
    s.close()


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "recv":
        recv(int(sys.argv[2]), float(sys.argv[3]))
    elif cmd == "send":
        send(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
    elif cmd == "ping":
        ping(sys.argv[2], int(sys.argv[3]))
    elif cmd == "tcprecv":
        tcprecv(int(sys.argv[2]))
    elif cmd == "tcpsend":
        tcpsend(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    else:
        sys.exit("net_bench.py: unknown command %r" % cmd)
