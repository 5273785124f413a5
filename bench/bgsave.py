#!/usr/bin/env python3
"""BGSAVE's cost on a big dataset: the pause (INFO latest_fork_usec: how long the fork call
held every client) and the memory the save costs, for cinnabar-server and redis-server in
one run, while redis-benchmark keeps overwriting keys (so copy-on-write has work to do).

Both servers load the same generated RDB file (string keys named as redis-benchmark names
them, incompressible values), then each round runs BGSAVE and samples /proc every 50 ms
until the save ends:
  - child peak private dirty: the most memory the child held that the parent did not
    (pages copied on write, plus whatever the child allocated, e.g. a snapshot buffer);
  - peak Pss parent+child minus the parent's RSS before: the whole save's extra memory;
  - rdb_last_cow_size as each server reports it afterwards.

    bench/bgsave.py <cinnabar-server binary> [keys=4000000] [value bytes=200] [rounds=3]

Speed and memory are measured here, never asserted in tests.
"""
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

from servers import free_port


def rdb_file(path, keys, vsize):
    """An RDB (version 10, no checksum) of `keys` strings key:<12 digits> -> random bytes."""

    def length(n):
        if n < 64:
            return bytes([n])
        if n < 16384:
            return bytes([0x40 | (n >> 8), n & 0xFF])
        return b"\x80" + n.to_bytes(4, "big")

    blob = os.urandom(vsize * 1024)
    with open(path, "wb") as f:
        f.write(b"REDIS0010\xfe\x00\xfb" + length(keys) + length(0))
        chunk = []
        for i in range(keys):
            key = b"key:%012d" % i
            off = (i * 7919) % (len(blob) - vsize)
            chunk.append(b"\x00" + length(len(key)) + key + length(vsize) + blob[off : off + vsize])
            if len(chunk) == 100000:
                f.write(b"".join(chunk))
                chunk = []
        f.write(b"".join(chunk) + b"\xff" + b"\x00" * 8)


class Conn:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port))
        self.f = self.s.makefile("rb")

    def cmd(self, *args):
        out = b"*%d\r\n" % len(args)
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            out += b"$%d\r\n%s\r\n" % (len(a), a)
        self.s.sendall(out)
        return self.reply()

    def reply(self):
        line = self.f.readline()
        kind, rest = line[:1], line[1:-2]
        if kind in (b"+", b"-", b":"):
            return rest.decode()
        if kind == b"$":
            n = int(rest)
            return None if n < 0 else self.f.read(n + 2)[:-2].decode()
        raise RuntimeError("unexpected reply %r" % line)


def info(c, section):
    return dict(l.split(":", 1) for l in c.cmd("INFO", section).splitlines() if ":" in l)


def rollup(pid):
    """Rss, Pss and Private_Dirty of a process, in bytes (0 when it is gone)."""
    out = {"Rss": 0, "Pss": 0, "Private_Dirty": 0}
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in out:
                    out[k] = int(v.split()[0]) * 1024
    except OSError:
        pass
    return out


def children(pid):
    found = []
    try:
        for t in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/children" % (pid, t)) as f:
                found += [int(p) for p in f.read().split()]
    except OSError:
        pass
    return found


def measure(name, argv, dump, keys, vsize, rounds):
    work = tempfile.mkdtemp(prefix="bgsave-%s-" % name)
    shutil.copy(dump, os.path.join(work, "dump.rdb"))
    port = free_port()
    srv = subprocess.Popen(argv + ["--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", work],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 600
        while True:
            try:
                c = Conn(port)
                if c.cmd("PING") == "PONG":
                    break
            except OSError:
                pass
            assert time.time() < deadline, "%s did not load" % name
            time.sleep(0.2)
        mem = info(c, "memory")
        load = subprocess.Popen(["redis-benchmark", "-p", str(port), "-t", "set", "-r", str(keys), "-d", str(vsize),
                                 "-n", "2000000000", "-c", "20", "-P", "4", "-q"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(3)
        rows = []
        for _ in range(rounds):
            before = rollup(srv.pid)["Rss"]
            started = time.time()
            assert c.cmd("BGSAVE") == "Background saving started"
            peak_dirty = peak_total = 0
            while info(c, "persistence")["rdb_bgsave_in_progress"] == "1":
                kids = children(srv.pid)
                if kids:
                    child = rollup(kids[0])
                    peak_dirty = max(peak_dirty, child["Private_Dirty"])
                    peak_total = max(peak_total, rollup(srv.pid)["Pss"] + child["Pss"])
                time.sleep(0.05)
            took = time.time() - started
            p, s = info(c, "persistence"), info(c, "stats")
            assert p["rdb_last_bgsave_status"] == "ok"
            rows.append({
                "fork_us": int(s["latest_fork_usec"]),
                "save_s": took,
                "peak_dirty": peak_dirty,
                "extra": max(0, peak_total - before),
                "cow": int(p["rdb_last_cow_size"]),
            })
            time.sleep(2)
        load.kill()
        load.wait()
        return {"used": int(mem["used_memory"]), "rss": int(mem["used_memory_rss"]) or rollup(srv.pid)["Rss"],
                "file": os.path.getsize(os.path.join(work, "dump.rdb")), "rows": rows}
    finally:
        srv.kill()
        srv.wait()
        shutil.rmtree(work, ignore_errors=True)


def main():
    binary = sys.argv[1]
    keys = int(sys.argv[2]) if len(sys.argv) > 2 else 4_000_000
    vsize = int(sys.argv[3]) if len(sys.argv) > 3 else 200
    rounds = int(sys.argv[4]) if len(sys.argv) > 4 else 3
    tmp = tempfile.mkdtemp(prefix="bgsave-data-")
    dump = os.path.join(tmp, "dump.rdb")
    rdb_file(dump, keys, vsize)
    results = {}
    try:
        for name, argv in [("cinnabar", [binary]), ("redis", ["redis-server"])]:
            results[name] = measure(name, argv, dump, keys, vsize, rounds)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    mb = lambda b: "%.0f MB" % (b / 1048576)
    med = lambda name, k: statistics.median(r[k] for r in results[name]["rows"])
    version = "redis-server " + subprocess.run(["redis-server", "--version"], capture_output=True, text=True).stdout.split()[2].removeprefix("v=")
    print("%d keys x %d-byte values, %s; BGSAVE under a redis-benchmark SET load (-c 20 -P 4),"
          " median of %d rounds (%d cores)" % (keys, vsize, version, rounds, os.cpu_count()))
    print()
    print("| | cinnabar | redis |")
    print("| --- | ---: | ---: |")
    c, r = results["cinnabar"], results["redis"]
    print("| used_memory before | %s | %s |" % (mb(c["used"]), mb(r["used"])))
    print("| RSS before | %s | %s |" % (mb(c["rss"]), mb(r["rss"])))
    print("| dump file | %s | %s |" % (mb(c["file"]), mb(r["file"])))
    print("| fork pause (latest_fork_usec) | %d µs | %d µs |" % (med("cinnabar", "fork_us"), med("redis", "fork_us")))
    print("| BGSAVE wall time | %.1f s | %.1f s |" % (med("cinnabar", "save_s"), med("redis", "save_s")))
    print("| child peak private dirty | %s | %s |" % (mb(med("cinnabar", "peak_dirty")), mb(med("redis", "peak_dirty"))))
    print("| peak Pss parent+child − RSS before | %s | %s |" % (mb(med("cinnabar", "extra")), mb(med("redis", "extra"))))
    print("| rdb_last_cow_size | %s | %s |" % (mb(med("cinnabar", "cow")), mb(med("redis", "cow"))))
    print()
    for name in ("cinnabar", "redis"):
        print("%s rounds (fork µs, save s, child peak dirty, extra): %s" % (name, ", ".join(
            "%d/%.1f/%s/%s" % (x["fork_us"], x["save_s"], mb(x["peak_dirty"]), mb(x["extra"])) for x in results[name]["rows"])))


if __name__ == "__main__":
    main()
