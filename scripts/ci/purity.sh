#!/usr/bin/env bash
# The core stays pure: no host I/O in src/, and only src/wasm/ may name the JS binding crates;
# its layers stay in order (scripts/ci/layers.py), and no file or struct grows past its
# size (scripts/ci/shape.py).
set -euo pipefail
cd "$(dirname "$0")/../.."
fail=0
io=$(grep -rnE '\b(tokio|std::net|std::fs|std::thread|SystemTime::now|Instant::now|std::process)\b' src | grep -vE '^\S+:\s*//' || true)
if [ -n "$io" ]; then echo "purity: host I/O in the core:"; echo "$io"; fail=1; fi
js=$(grep -rnE '\b(wasm_bindgen|js_sys)\b' src | grep -v '^src/wasm/' || true)
if [ -n "$js" ]; then echo "purity: JS binding crates named outside src/wasm/:"; echo "$js"; fail=1; fi
python3 scripts/ci/layers.py || fail=1
python3 scripts/ci/shape.py || fail=1
[ $fail -eq 0 ] && echo "purity: ok"
exit $fail
