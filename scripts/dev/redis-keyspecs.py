#!/usr/bin/env python3
"""Declares Redis 7.0's key specs and command tips on the command table's rows.

Usage: scripts/dev/redis-keyspecs.py PORT   (PORT: a running redis-server 7.0.x; plain sockets)

For every `CommandSpec::new("name", ...)` row under src/commands whose command has key specs in
that server's COMMAND INFO, it writes (or rewrites) `.key_specs("...")` right after the row's
`CommandSpec::new(...)`, in the language of src/command/keyspec.rs:

    FLAGS BEGIN FIND [-- notes]      specs joined by "; "
    BEGIN: index:N | keyword:WORD:N | unknown
    FIND:  range:LASTKEY:STEP:LIMIT | keynum:IDX:FIRST:STEP | unknown

It also writes `.tips("...")` (COMMAND INFO's eighth field, space-separated) for commands
that have tips (container rows, such as COMMAND's own tip, are declared by hand). A unit test then holds the legacy first/last/step of each row to what the
specs imply, and the differential test `command_table_metadata_matches_redis` compares them.
"""
import os, re, socket, sys

PORT = int(sys.argv[1])

def call(args):
    s = socket.create_connection(("127.0.0.1", PORT))
    out = b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a.encode()) for a in args)
    s.sendall(out)
    buf = bytearray()
    def fill():
        chunk = s.recv(1 << 20)
        assert chunk
        buf.extend(chunk)
    def line():
        while b"\r\n" not in buf:
            fill()
        i = buf.index(b"\r\n")
        l = bytes(buf[:i]); del buf[: i + 2]
        return l
    def read():
        l = line(); t, r = l[:1], l[1:]
        if t in (b"+", b"-"): return r.decode()
        if t == b":": return int(r)
        if t == b"$":
            n = int(r)
            if n < 0: return None
            while len(buf) < n + 2: fill()
            d = bytes(buf[:n]); del buf[: n + 2]
            return d.decode()
        if t == b"*":
            n = int(r)
            return None if n < 0 else [read() for _ in range(n)]
        raise ValueError(l)
    v = read()
    s.close()
    return v

def pairs(l): return dict(zip(l[::2], l[1::2]))

def dsl(specs):
    out = []
    for ks in specs:
        d = pairs(ks)
        b, f = pairs(d["begin_search"]), pairs(d["find_keys"])
        bs, fs = pairs(b["spec"]), pairs(f["spec"])
        begin = {"index": lambda: f"index:{bs['index']}",
                 "keyword": lambda: f"keyword:{bs['keyword']}:{bs['startfrom']}",
                 "unknown": lambda: "unknown"}[b["type"]]()
        find = {"range": lambda: f"range:{fs['lastkey']}:{fs['keystep']}:{fs['limit']}",
                "keynum": lambda: f"keynum:{fs['keynumidx']}:{fs['firstkey']}:{fs['keystep']}",
                "unknown": lambda: "unknown"}[f["type"]]()
        text = " ".join(d["flags"] + [begin, find])
        if d.get("notes"):
            assert ";" not in d["notes"] and '"' not in d["notes"], d["notes"]
            text += " -- " + d["notes"]
        out.append(text)
    return "; ".join(out)

table = {}
tips = {}
def walk(c, parent=None):
    name = c[0]
    table[name] = c[8]
    tips[name] = c[7]
    for sc in c[9]:
        walk(sc, c[0])
for c in call(["COMMAND"]):
    walk(c)

# Subcommand arrays and the container each belongs to.
PARENTS = {}
for root, _, files in os.walk("src/commands"):
    for fn in files:
        if not fn.endswith(".rs"): continue
        text = open(os.path.join(root, fn)).read()
        for m in re.finditer(r'CommandSpec::container\("([a-z_-]+)", G, (?:([a-z_]+)::)?([A-Z_]+)\)', text):
            mod = m.group(2)
            path = os.path.join(root, mod + ".rs") if mod else os.path.join(root, fn)
            PARENTS[(os.path.normpath(path), m.group(3))] = m.group(1)

row = re.compile(r'(CommandSpec::new\("([a-z_|-]+)", -?\d+, [^()]*\))(\.key_specs\("[^"]*"\))?(\.tips\("[^"]*"\))?')
for root, _, files in os.walk("src/commands"):
    for fn in files:
        if not fn.endswith(".rs"): continue
        path = os.path.normpath(os.path.join(root, fn))
        lines = open(path).read().split("\n")
        array = None
        changed = False
        for i, l in enumerate(lines):
            m = re.match(r'\s*(?:pub )?static ([A-Z_]+): &\[CommandSpec\]', l)
            if m: array = m.group(1)
            m = row.search(l)
            if not m: continue
            parent = PARENTS.get((path, array))
            full = f"{parent}|{m.group(2)}" if parent else m.group(2)
            specs, tip = table.get(full), tips.get(full)
            if not specs and not tip: continue
            new = m.group(1)
            if specs: new += f'.key_specs("{dsl(specs)}")'
            if tip: new += f'.tips("{" ".join(tip)}")'
            if m.group(0) != new:
                lines[i] = l[: m.start()] + new + l[m.end():]
                changed = True
        if changed:
            open(path, "w").write("\n".join(lines))
            print("updated", path)
