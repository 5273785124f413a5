#!/usr/bin/env python3
"""Memory a client made the server take, and whether it comes back once the client leaves:
cinnabar-server and redis-server side by side, each fresh. A client queues a MULTI of
1 000 000 SETs of 200-byte values (about a quarter of a gigabyte held by the server),
then disconnects; another sends 200 MB of a request it never completes, then disconnects.
Prints RSS before, with the client, and 3 seconds after each client left.

    python3 bench/rss_return.py
"""
import os
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from servers import free_port  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def rss(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def multi_queue(port):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"MULTI\r\n")
    value = b"v" * 200
    batch = []
    for i in range(1_000_000):
        key = b"%08d" % i
        batch.append(b"*3\r\n$3\r\nSET\r\n$8\r\n%s\r\n$200\r\n%s\r\n" % (key, value))
        if len(batch) == 10_000:
            s.sendall(b"".join(batch))
            batch = []
    s.sendall(b"".join(batch))
    got = 0
    while got < 5 + 1_000_000 * 9:
        got += len(s.recv(1 << 20))
    return s


def big_query(port):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$500000000\r\n")
    chunk = b"z" * (1 << 20)
    for _ in range(200):
        s.sendall(chunk)
    time.sleep(0.5)
    return s


def run(kind, binary):
    port = free_port()
    p = subprocess.Popen([binary, "--port", str(port), "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    rows = []
    try:
        for name, client in [("MULTI of 1M SETs (~250 MB)", multi_queue), ("a 200 MB partial query", big_query)]:
            before = rss(p.pid)
            s = client(port)
            peak = rss(p.pid)
            s.close()
            time.sleep(3)
            rows.append((kind, name, before, peak, rss(p.pid)))
    finally:
        p.kill()
    return rows


def main():
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "cinnabar-server"], cwd=ROOT, check=True)
    rows = run("cinnabar", os.path.join(ROOT, "target", "release", "cinnabar-server")) + run("redis", "redis-server")
    mb = lambda b: "%.0f MB" % (b / 2**20)
    print("| server | client | RSS before | RSS with the client | RSS 3 s after it left |")
    print("| --- | --- | ---: | ---: | ---: |")
    for kind, name, before, peak, after in rows:
        print("| %s | %s | %s | %s | %s |" % (kind, name, mb(before), mb(peak), mb(after)))


if __name__ == "__main__":
    main()
