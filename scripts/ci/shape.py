#!/usr/bin/env python3
"""The code's shape, checked: no source file over 800 lines, no struct with more than 12 `pub`
fields (group them into named parts, or keep them crate-private). Rust and JS sources of the
core, the server and the wasm package; tests are exempt."""
import os
import re
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
DIRS = ["src", "native-server/src", "www/src"]
MAX_LINES = 800
MAX_PUB_FIELDS = 12


def sources():
    for d in DIRS:
        for dirpath, _, files in os.walk(os.path.join(ROOT, d)):
            for f in files:
                if f.endswith((".rs", ".js")) and f != "tests.rs" and not f.endswith("_tests.rs"):
                    yield os.path.join(dirpath, f)


def main():
    fail = 0
    for path in sources():
        rel = os.path.relpath(path, ROOT)
        text = open(path, encoding="utf-8").read()
        lines = text.count("\n")
        if lines > MAX_LINES:
            print(f"shape: {rel} has {lines} lines (at most {MAX_LINES}): split it by job")
            fail = 1
        if path.endswith(".rs"):
            for m in re.finditer(r"pub(?:\([^)]*\))? struct (\w+)[^{;(]*\{", text):
                i, depth = m.end(), 1
                while depth and i < len(text):
                    depth += (text[i] == "{") - (text[i] == "}")
                    i += 1
                n = len(re.findall(r"^\s*pub \w+\s*:", text[m.end():i], re.M))
                if n > MAX_PUB_FIELDS:
                    print(f"shape: {rel}: struct {m.group(1)} has {n} pub fields (at most {MAX_PUB_FIELDS}): group them into named parts")
                    fail = 1
    if not fail:
        print("shape: ok")
    return fail


sys.exit(main())
