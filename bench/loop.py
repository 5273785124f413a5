#!/usr/bin/env python3
"""The server loop side by side with redis-server (issue 19's figures).

For each workload, cinnabar-server and redis-server run with the same settings in fresh
directories; redis-benchmark drives each in turn, rounds interleaved. Reported per
workload: requests/second, p99 latency (redis-benchmark's CSV), and server CPU per request
(utime+stime of the server process from /proc over the run, divided by requests: what the
server spent, whatever the benchmark client did with the shared cores). Ratios are
cinnabar / redis; medians over the rounds.

    bench/loop.py [--rounds 3] [--requests 200000] [--only always,everysec,noaof,clients]
                  [--cinnabar-args "--io-threads 4"]
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from servers import free_port  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CINNABAR = os.path.join(ROOT, "target", "release", "cinnabar-server")
TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        rest = f.read().rsplit(")", 1)[1].split()
    return (int(rest[11]) + int(rest[12])) / TICK


class Server:
    def __init__(self, kind, settings, extra):
        self.kind = kind
        self.dir = tempfile.mkdtemp(prefix="loop-bench-%s-" % kind)
        self.port = free_port()
        binary = CINNABAR if kind == "cinnabar" else shutil.which("redis-server")
        args = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--dir", self.dir]
        for k, v in settings:
            args += ["--" + k, v]
        if kind == "cinnabar":
            args += extra
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(200):
            if subprocess.run(["redis-cli", "-p", str(self.port), "ping"], capture_output=True).stdout.strip() == b"PONG":
                break
            time.sleep(0.05)
        else:
            raise SystemExit("%s did not start" % kind)

    def stop(self):
        self.proc.kill()
        self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def bench(server, test, clients, pipeline, requests, keyspace):
    """One redis-benchmark run: (rps, p99 ms, server CPU µs per request)."""
    subprocess.run(["redis-cli", "-p", str(server.port), "flushall"], capture_output=True)
    before = cpu_seconds(server.proc.pid)
    args = ["redis-benchmark", "-p", str(server.port), "-c", str(clients), "-P", str(pipeline), "-n", str(requests), "-t", test, "--csv"]
    if keyspace:
        args += ["-r", str(keyspace)]
    out = subprocess.run(args, capture_output=True, text=True).stdout
    after = cpu_seconds(server.proc.pid)
    rows = [line.replace('"', "").split(",") for line in out.strip().splitlines()[1:]]
    # One row per test (lpush gives one); the first is the one asked for.
    row = rows[0]
    rps, p99 = float(row[1]), float(row[6])
    return rps, p99, (after - before) * 1e6 / requests


WORKLOADS = {
    # name: (settings, [(test, clients, pipeline)])
    "always": ([("appendonly", "yes"), ("appendfsync", "always")], [("set", 50, 1)]),
    "everysec": ([("appendonly", "yes"), ("appendfsync", "everysec")], [("set", 50, 16)]),
    "noaof": ([("appendonly", "no")], [(t, 50, p) for p in (1, 16) for t in ("set", "get", "incr", "lpush", "hset", "zadd")]),
    "clients": ([("appendonly", "no"), ("maxclients", "10000")], [("set", 1000, 1), ("get", 1000, 1)]),
}


def median(xs):
    xs = sorted(xs)
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--requests", type=int, default=200000)
    ap.add_argument("--only", default=",".join(WORKLOADS))
    ap.add_argument("--cinnabar-args", default="")
    ap.add_argument("--no-build", action="store_true")
    a = ap.parse_args()
    if not a.no_build:
        subprocess.run(["cargo", "build", "--release", "-q", "-p", "cinnabar-server"], cwd=ROOT, check=True)
    extra = a.cinnabar_args.split()
    rows = []
    for name in a.only.split(","):
        settings, runs = WORKLOADS[name]
        servers = {k: Server(k, settings, extra) for k in ("cinnabar", "redis")}
        try:
            results = {}
            for _ in range(a.rounds):
                for test, clients, pipeline in runs:
                    for kind, s in servers.items():
                        # The keyspace spreads writes, as a real workload would.
                        r = bench(s, test, clients, pipeline, a.requests, 100000 if test != "get" else 0)
                        results.setdefault((test, clients, pipeline, kind), []).append(r)
            for test, clients, pipeline in runs:
                c = [median([r[i] for r in results[(test, clients, pipeline, "cinnabar")]]) for i in range(3)]
                r = [median([r[i] for r in results[(test, clients, pipeline, "redis")]]) for i in range(3)]
                rows.append((name, test, clients, pipeline, c, r))
        finally:
            for s in servers.values():
                s.stop()
    print("redis-benchmark -n %d, median of %d rounds, %d cores, %s; cinnabar args: %r" % (a.requests, a.rounds, os.cpu_count(), subprocess.run(["redis-server", "--version"], capture_output=True, text=True).stdout.split()[2], a.cinnabar_args))
    print()
    print("| workload | test | clients | -P | cinnabar rps | redis rps | rps ratio | cinnabar p99 ms | redis p99 ms | CPU µs/req cinnabar | CPU µs/req redis | CPU ratio |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, test, clients, pipeline, c, r in rows:
        print("| %s | %s | %d | %d | %.0f | %.0f | %.2f | %.3f | %.3f | %.2f | %.2f | %.2f |" % (name, test.upper(), clients, pipeline, c[0], r[0], c[0] / r[0], c[1], r[1], c[2], r[2], c[2] / r[2] if r[2] else 0))


if __name__ == "__main__":
    main()
