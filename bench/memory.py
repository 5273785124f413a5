#!/usr/bin/env python3
"""Bytes per element, cinnabar-server vs redis-server, side by side on this machine.

For each collection type and size it loads the same data into both servers (one key of N
elements, repeated over K keys) and reports used_memory growth per element and MEMORY USAGE
of one key, with the ratio cinnabar/redis (lower is better). Memory is measured here, never
asserted in tests.

    bench/memory.py [type ...]   (needs redis-py; builds the release server)
"""
import os, socket, subprocess, sys, time
import redis

from servers import free_port, start

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def fill(r, kind, keys, n, small):
    p = r.pipeline(transaction=False)
    if kind == "string":
        # Many small string keys (16-byte values), the cache's shape.
        for k in range(keys):
            p.set("string:%d" % k, "%016d" % k)
            if k % 1000 == 999:
                p.execute()
        p.execute()
        return
    for k in range(keys):
        key = "%s:%d" % (kind, k)
        for i in range(0, n, 100):
            chunk = range(i, min(n, i + 100))
            val = lambda j: ("v%d" % j) if small else ("value-%08d-" % j) * 3
            if kind == "hash":
                p.hset(key, mapping={"field:%d" % j: val(j) for j in chunk})
            elif kind == "list":
                p.rpush(key, *[val(j) for j in chunk])
            elif kind == "set":
                p.sadd(key, *[("m%d" % j) if small else val(j) for j in chunk])
            elif kind == "intset":
                p.sadd(key, *chunk)
            elif kind == "zset":
                p.zadd(key, {("m%d" % j) if small else val(j): j * 1.5 for j in chunk})
            elif kind == "stream":
                # The seed's order events: a few short fields, IDs from the server's clock.
                for j in chunk:
                    p.xadd(key, {"order": j, "customer": "c%d" % (j % 5000), "amount": j % 997})
        p.execute()


def used(r):
    return int(r.info("memory")["used_memory"])


CASES = [  # kind, keys, elements per key, small values (listpack/intset) or not
    ("hash", 2000, 50, True), ("hash", 20, 20000, False),
    ("list", 2000, 50, True), ("list", 20, 20000, False),
    ("intset", 2000, 100, True), ("set", 20, 20000, False),
    ("zset", 2000, 50, True), ("zset", 20, 20000, False),
    ("stream", 1, 1000000, True),
    ("string", 1000000, 1, True), ("string", 1300000, 1, True),
    ("hash", 1, 1000000, True), ("set", 1, 1000000, True), ("zset", 1, 1000000, True),
]


def rss(proc):
    with open("/proc/%d/status" % proc.pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def main():
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "cinnabar-server"], cwd=ROOT, check=True)
    commands = {
        "cinnabar": [os.path.join(ROOT, "target/release/cinnabar-server")],
        "redis": ["redis-server", "--appendonly", "no"],
    }
    print("| type | keys × elements | cinnabar B/elem | redis B/elem | ratio | RSS cinnabar B/elem | RSS redis B/elem | RSS ratio | MEMORY USAGE cinnabar | redis |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    only = sys.argv[1:]  # e.g. `bench/memory.py stream`
    for kind, keys, n, small in CASES:
        if only and kind not in only:
            continue
        row = {}
        for name, cmd in commands.items():
            # A fresh server per case: RSS growth is then the case's own, not pages the
            # allocator kept from the previous case.
            proc, r = start(cmd, free_port())
            try:
                time.sleep(0.3)
                before, rss_before = used(r), rss(proc)
                fill(r, kind, keys, n, small)
                time.sleep(0.3)
                after, rss_after = used(r), rss(proc)
                row[name] = ((after - before) / (keys * n), r.memory_usage("%s:0" % kind, samples=0), (rss_after - rss_before) / (keys * n))
            finally:
                proc.kill()
                proc.wait()
        c, rd = row["cinnabar"], row["redis"]
        print("| %s%s | %d × %d | %.1f | %.1f | %.2f | %.1f | %.1f | %.2f | %d | %d |" % (kind, " (small)" if small else "", keys, n, c[0], rd[0], c[0] / rd[0], c[2], rd[2], c[2] / rd[2], c[1], rd[1]), flush=True)


if __name__ == "__main__":
    main()
