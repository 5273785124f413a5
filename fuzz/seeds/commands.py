#!/usr/bin/env python3
"""Writes the `resp` and `aof` targets' seeds from the differential scripts
(native-server/tests/differential/*.redis): each script as inline commands (resp/<name>)
and as RESP multibulks (resp/<name>.resp, aof/<name>), so the fuzzers start from real
command streams. Usage, from fuzz/: python3 seeds/commands.py"""
import glob, os, shlex

here = os.path.dirname(os.path.abspath(__file__))
scripts = os.path.join(here, "..", "..", "native-server", "tests", "differential", "*.redis")
for path in sorted(glob.glob(scripts)):
    name = os.path.basename(path)[:-len(".redis")]
    inline, multibulk = [], []
    for line in open(path, encoding="utf-8"):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        line = line.lstrip("~%").removeprefix("3>").strip()
        inline.append(line.encode())
        try:
            args = [a.encode() for a in shlex.split(line)]
        except ValueError:
            continue
        multibulk.append(b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args))
    # Keep seeds small: the fuzzer grows them.
    for i in range(0, len(inline), 40):
        open(os.path.join(here, "resp", "%s-%d" % (name, i // 40)), "wb").write(b"\r\n".join(inline[i:i + 40]) + b"\r\n")
        open(os.path.join(here, "resp", "%s-%d.resp" % (name, i // 40)), "wb").write(b"".join(multibulk[i:i + 40]))
        open(os.path.join(here, "aof", "%s-%d" % (name, i // 40)), "wb").write(b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n" + b"".join(multibulk[i:i + 40]))
