#!/usr/bin/env python3
"""The core's layers, checked: a module may name modules of its own layer or below, never above.

Each top-level module of src/ belongs to one layer (LAYERS, lowest first). Every `crate::x`
path outside test code is an edge; an edge to a higher layer is an upward import. The ones
that remain while the refactor of issue 20 goes on are listed in layers-known.txt: a new
upward edge fails the check, and so does a listed one that is gone (take it off the list), so
the list only shrinks. `--report` prints the layers and the edges for docs/ARCHITECTURE.md.
"""
import collections
import os
import re
import sys

LAYERS = [
    ("base", ["util", "long_double", "alloc", "panic", "error"]),
    ("structures", ["resp", "reply", "ds"]),
    ("values", ["types", "object"]),
    ("keyspace", ["db"]),
    ("formats", ["rdb", "aof"]),
    ("state", ["config", "acl", "client", "blocking", "multi", "pubsub", "tracking", "notify", "latency", "lazyfree", "event", "propagate", "evict", "script"]),
    ("server", ["server"]),
    ("command", ["command"]),
    ("families", ["commands", "persistence", "replication", "reply_stream"]),
    ("engine", ["engine", "session", "wasm", "testing"]),
]
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
KNOWN = os.path.join(HERE, "layers-known.txt")

level = {m: i for i, (_, mods) in enumerate(LAYERS) for m in mods}


def module_of(rel):
    top = rel.split("/")[0]
    return top[:-3] if top.endswith(".rs") else top


def without_tests(text):
    """Test code may use the whole engine (tests at each layer drive it through `testing`)."""
    m = re.search(r"\n#\[cfg\(test\)\]\s*\n\s*(pub(\(crate\))? )?mod \w+\s*\{", text)
    return text[: m.start()] if m else text


def edges():
    found = collections.defaultdict(set)
    src = os.path.join(ROOT, "src")
    unknown = []
    for dirpath, _, files in os.walk(src):
        for f in files:
            if not f.endswith(".rs") or f == "lib.rs" or f == "tests.rs" or f.endswith("_tests.rs"):
                continue
            path = os.path.join(dirpath, f)
            rel = os.path.relpath(path, src)
            m = module_of(rel)
            if m not in level:
                unknown.append(rel)
                continue
            text = without_tests(open(path, encoding="utf-8").read())
            names = set(re.findall(r"crate::(\w+)", text))
            for group in re.finditer(r"crate::\{([^;]*?)\}", text, re.S):
                names.update(re.findall(r"(?:^|[,{\s])(\w+)(?=::|\s*[,}]|$)", group.group(1)))
            for t in names:
                if t in level and level[t] > level[m]:
                    found[(m, t)].add("src/" + rel)
    return found, unknown


def main():
    found, unknown = edges()
    if unknown:
        print("layers: modules with no layer (add them to LAYERS in scripts/ci/layers.py):", " ".join(sorted(unknown)))
        return 1
    if "--report" in sys.argv:
        for i, (name, mods) in enumerate(LAYERS):
            print(f"{i} {name}: {' '.join(mods)}")
        for (m, t), files in sorted(found.items(), key=lambda e: (level[e[0][0]], e[0])):
            print(f"{m} -> {t}: {' '.join(sorted(files))}")
        print(f"{len(found)} upward edges")
        return 0
    known = set()
    for line in open(KNOWN, encoding="utf-8"):
        line = line.split("#")[0].strip()
        if line:
            a, b = (s.strip() for s in line.split("->"))
            known.add((a, b))
    fail = 0
    for (m, t), files in sorted(found.items()):
        if (m, t) not in known:
            print(f"layers: {m} (layer {LAYERS[level[m]][0]}) names {t} (layer {LAYERS[level[t]][0]}), above it: {' '.join(sorted(files))}")
            fail = 1
    for m, t in sorted(known - set(found)):
        print(f"layers: {m} -> {t} no longer exists: take it off scripts/ci/layers-known.txt")
        fail = 1
    if not fail:
        print(f"layers: ok ({len(found)} known upward edges left)")
    return fail


sys.exit(main())
