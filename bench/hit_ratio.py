#!/usr/bin/env python3
"""Cache hit ratio under allkeys-lru (and allkeys-lfu) for a Zipf-distributed trace,
cinnabar-server and redis-server side by side on the same trace and the same byte budget.

    python3 bench/hit_ratio.py [requests=300000] [keys=100000] [budget_mb=8]

Cache-aside: GET, and on a miss SET with a 200-byte value. Both servers get the same
requests in the same order (pipelined in batches of 200 GETs followed by that batch's SETs),
with maxmemory set to their own used_memory at start plus the budget, so the ratio measures
eviction quality and bytes per key together. Prints a markdown table.
Needs target/release/cinnabar-server (cargo build --release -p cinnabar-server) and redis-server.
"""
import bisect
import itertools
import os
import random
import subprocess
import sys
import time

import redis

from servers import free_port, start

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REQUESTS = int(sys.argv[1]) if len(sys.argv) > 1 else 300_000
KEYS = int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
BUDGET = (int(sys.argv[3]) if len(sys.argv) > 3 else 8) << 20
VALUE = b"v" * 200


def trace(n, keys, s=1.0, seed=7):
    weights = [1.0 / (i + 1) ** s for i in range(keys)]
    cum = list(itertools.accumulate(weights))
    rng = random.Random(seed)
    # Shuffle ranks to key names so popular keys are not adjacent in name order.
    names = list(range(keys))
    rng.shuffle(names)
    total = cum[-1]
    return [names[bisect.bisect(cum, rng.random() * total)] for _ in range(n)]


def run(r, policy, reqs):
    r.config_set("maxmemory", 0)
    r.flushall()
    r.config_set("maxmemory-policy", policy)
    r.config_set("maxmemory", r.info("memory")["used_memory"] + BUDGET)
    hits = 0
    # Warm-up: the first half fills the cache; the second half is measured.
    half = len(reqs) // 2
    for start in range(0, len(reqs), 200):
        batch = reqs[start:start + 200]
        p = r.pipeline(transaction=False)
        for k in batch:
            p.get(f"key:{k}")
        got = p.execute()
        p = r.pipeline(transaction=False)
        for k, v in zip(batch, got):
            if v is None:
                p.set(f"key:{k}", VALUE)
        p.execute()
        if start >= half:
            hits += sum(v is not None for v in got)
    return hits / (len(reqs) - half), r.dbsize(), r.info("stats")["evicted_keys"]


def main():
    reqs = trace(REQUESTS, KEYS)
    cport, rport = free_port(), free_port()
    cin, cr = start([os.path.join(ROOT, "target/release/cinnabar-server")], cport)
    red, rr = start(["redis-server", "--appendonly", "no"], rport)
    try:
        print(f"Zipf(s=1.0) over {KEYS} keys, {REQUESTS} requests (second half measured), budget {BUDGET >> 20} MB above startup memory, 200-byte values")
        print()
        print("| policy | cinnabar hit ratio | redis hit ratio | cinnabar keys held | redis keys held |")
        print("| --- | ---: | ---: | ---: | ---: |")
        for policy in ["allkeys-lru", "allkeys-lfu", "allkeys-random"]:
            ch, ck, _ = run(cr, policy, reqs)
            rh, rk, _ = run(rr, policy, reqs)
            print(f"| {policy} | {ch:.3f} | {rh:.3f} | {ck} | {rk} |")
    finally:
        cin.terminate()
        red.terminate()
        cin.wait()
        red.wait()


if __name__ == "__main__":
    main()
