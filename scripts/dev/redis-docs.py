#!/usr/bin/env python3
"""Fills a family's spec declarations with Redis 7.0's documentation.

Usage: scripts/dev/redis-docs.py PORT FILE...   (PORT: a running redis-server 7.0.x; needs redis-py)

For every `CommandSpec::new("name", ...)` / `container(...)` in FILE that carries a
`.doc(since, summary, complexity)`, it replaces those texts with what that server's COMMAND DOCS
says and writes the argument tree as `.args("...")` in the language of src/command/syntax.rs.
The differential test `command_docs_match_redis` then holds the declarations to it.
"""
import re, sys
import redis

PORT, FILES = int(sys.argv[1]), sys.argv[2:]
def s(x): return x.decode() if isinstance(x, bytes) else x
def conv(m):
    return {s(k): v for k, v in m.items()} if isinstance(m, dict) else m
INT = {"count","seconds","milliseconds","timeout","offset","start","end","index","numkeys","db"}
def default_type(name):
    if name == "key" or name.endswith("key"): return "key"
    if name in INT: return "integer"
    if name == "pattern": return "pattern"
    return "string"
def is_token_word(t): return t and not t[0].islower() and not any(c.islower() for c in t)
class St: pass
def emit_arg(a, st):
    a = conv(a)
    name = s(a["name"]); typ = s(a["type"]); token = s(a.get("token")) if a.get("token") is not None else None
    flags = [s(f) for f in a.get("flags", [])]
    opt = "optional" in flags; mult = "multiple" in flags; mtok = "multiple_token" in flags
    if typ == "pure-token":
        tk = token if is_token_word(token) else '"' + token + '"'
        core = tk if name == token.lower() and is_token_word(token) else f"{name}={tk}"
    elif typ in ("oneof", "block"):
        kids = [emit_arg(k, st) for k in a["arguments"]]
        sep = "|" if typ == "oneof" else " "
        inner = sep.join(kids)
        # a block of one child, or a oneof of one, needs an explicit name to stay a group
        dflt = s(conv(a["arguments"][0])["name"])
        nm = "" if (name == dflt and len(kids) > 1) else f"{name}="
        if opt and not token:
            core = f"{nm}[{inner}]"; opt = False
        else:
            core = f"{nm}({inner})"
        if token:
            tk = token if is_token_word(token) else '"' + token + '"'
            core = f"{tk} {core}"
    else:
        w = name
        assert not is_token_word(name) and "=" not in name and "@" not in name, name
        if typ != default_type(name): w += "@" + typ
        if typ == "key":
            idx = a.get("key_spec_index")
            if idx != st.key_ordinal: w += f"#{idx}"
            st.key_ordinal += 1
        elif a.get("key_spec_index") is not None:
            w += f"#{a['key_spec_index']}"
        tk = token if token is None or is_token_word(token) else '"' + token + '"'
        core = f"{tk} {w}" if token else w
    if mult: core += " +..." if mtok else " ..."
    if opt: core = f"[{core}]"
    return core
out = {}
def walk(name, m, out):
    m = conv(m)
    st = St(); st.key_ordinal = 0
    syn = " ".join(emit_arg(a, st) for a in m.get("arguments", []))
    out[name] = {"summary": s(m["summary"]), "since": s(m["since"]), "complexity": s(m.get("complexity", "")), "syntax": syn}
    for sn, sm in conv(m.get("subcommands", {})).items():
        walk(s(sn), sm, out)

conn = redis.Redis(port=PORT, protocol=3).connection_pool.get_connection()
conn.send_command("COMMAND", "DOCS")
docs = {}
for k, v in conn.read_response().items():
    walk(s(k), v, docs)

# Subcommand arrays live in their own files; a family's mod.rs may also hold one (FUNCTION_*).
PARENT_OF_FILE = {"command.rs": "command", "config.rs": "config", "object.rs": "object", "client.rs": "client", "memory.rs": "memory", "slowlog.rs": "slowlog", "latency.rs": "latency"}
# A family mod.rs may hold its container's subcommands as a plain SUBCOMMANDS static.
PARENT_OF_SUBCOMMANDS = {"pubsub/mod.rs": "pubsub"}
def esc(t): return t.replace('\\', '\\\\').replace('"', '\\"')
STR = r'"((?:[^"\\]|\\.)*)"'
missing = []
for path in FILES:
    src = open(path).read()
    out = []; pos = 0
    for m in re.finditer(r'CommandSpec::(?:new|container)\(\s*"([a-z0-9_-]+)"', src):
        name = m.group(1)
        parent = PARENT_OF_FILE.get(path.rsplit("/", 1)[-1])
        # The nearest array declared above the row: a NAME_SUBCOMMANDS one makes it a subcommand.
        decls = list(re.finditer(r"static ([A-Z]+)_SUBCOMMANDS|static SPECS", src[:m.start()]))
        m2 = decls[-1] if decls and decls[-1].group(1) else None
        for suffix, par in PARENT_OF_SUBCOMMANDS.items():
            if path.endswith(suffix) and "static SUBCOMMANDS" in src[:m.start()]:
                parent = par
        if m2 and not parent: parent = m2.group(1).lower()
        full = f"{parent}|{name}" if parent and name != parent else name
        d = re.compile(r'\.doc\(' + STR + r', ' + STR + r', ' + STR + r'\)(\.args\(' + STR + r'\))?').search(src, m.end())
        if full not in docs or not d:
            missing.append(full); continue
        e = docs[full]
        rep = f'.doc("{esc(e["since"])}", "{esc(e["summary"])}", "{esc(e["complexity"])}")'
        if e["syntax"]: rep += f'.args("{esc(e["syntax"])}")'
        out.append(src[pos:d.start()]); out.append(rep); pos = d.end()
    out.append(src[pos:])
    open(path, 'w').write(''.join(out))
print("not in redis or no doc:", missing)
