#!/usr/bin/env python3
"""Writes the fuzz targets' seed inputs: RDB files and DUMP payload bodies of every type and
encoding, as redis-server 7.0 writes them (LZF strings included). Usage, from fuzz/:
    python3 seeds/make.py [redis-server binary]
It starts its own redis-server on a free loopback port and stops it when done."""
import os, socket, subprocess, sys, tempfile, time

here = os.path.dirname(os.path.abspath(__file__))
binary = sys.argv[1] if len(sys.argv) > 1 else "redis-server"
work = tempfile.mkdtemp()
s0 = socket.socket(); s0.bind(("127.0.0.1", 0)); port = s0.getsockname()[1]; s0.close()
server = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", work,
                           "--hash-max-listpack-entries", "16", "--zset-max-listpack-entries", "16",
                           "--set-max-intset-entries", "16"], stdout=subprocess.DEVNULL)
try:
    for _ in range(100):
        try:
            sock = socket.create_connection(("127.0.0.1", port)); break
        except OSError:
            time.sleep(0.05)
    f = sock.makefile("rb")

    def reply():
        line = f.readline()
        if line[:1] == b"$":
            n = int(line[1:])
            return None if n < 0 else f.read(n + 2)[:-2]
        if line[:1] == b"*":
            n = int(line[1:])
            return None if n < 0 else [reply() for _ in range(n)]
        if line[:1] == b"-":
            raise RuntimeError(line)
        return line

    def cmd(*args):
        out = b"*%d\r\n" % len(args)
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            out += b"$%d\r\n%s\r\n" % (len(a), a)
        sock.sendall(out)
        return reply()

    sets = [
        ("SET", "int", "-70000"), ("SET", "text", "hello"), ("SET", "lzf", "abc" * 40), ("SET", "ttl", "v", "PX", "100000000"),
        ("RPUSH", "list", "a", "1", "-70000", "bb", "3000000000", "c" * 30),
        ("SADD", "intset", "1", "-5", "70000"), ("SADD", "set", "x", "y", "z"),
        ("ZADD", "zset", "1", "a", "2.5", "b", "-inf", "c"), ("HSET", "hash", "f", "v", "n", "12"),
        ("XADD", "stream", "1-1", "f", "v", "g", "1"), ("XADD", "stream", "2-1", "f", "w"), ("XADD", "stream", "3-0", "h", "x"),
        ("XDEL", "stream", "2-1"), ("XGROUP", "CREATE", "stream", "g", "0"),
        ("XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "STREAMS", "stream", ">"),
    ]
    for c in sets:
        cmd(*c)
    for i in range(20):
        cmd("HSET", "bighash", "field%d" % i, i)
        cmd("ZADD", "bigzset", i, "member%d" % i)
        cmd("SADD", "bigset", i)
    keys = ["int", "text", "lzf", "list", "intset", "set", "zset", "hash", "stream", "bighash", "bigzset", "bigset"]
    os.makedirs(os.path.join(here, "restore"), exist_ok=True)
    for k in keys:
        payload = cmd("DUMP", k)
        with open(os.path.join(here, "restore", k), "wb") as out:
            out.write(payload[:-10])  # the target adds the version and CRC itself
    cmd("SAVE")
    os.makedirs(os.path.join(here, "rdb_load"), exist_ok=True)
    with open(os.path.join(work, "dump.rdb"), "rb") as src, open(os.path.join(here, "rdb_load", "every-type"), "wb") as out:
        out.write(src.read())
    cmd("FLUSHALL")
    cmd("SET", "k", "v")
    cmd("SAVE")
    with open(os.path.join(work, "dump.rdb"), "rb") as src, open(os.path.join(here, "rdb_load", "one-key"), "wb") as out:
        out.write(src.read())
finally:
    server.terminate()
    server.wait()
