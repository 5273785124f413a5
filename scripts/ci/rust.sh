#!/usr/bin/env bash
# Core unit and black-box tests, then the server over real sockets: raw RESP, real clients
# (redis-rs, redis-cli, redis-benchmark) and the differential run against redis-server.
set -euo pipefail
cd "$(dirname "$0")/../.."
# Formatting (rustfmt.toml) and lints (the workspace's [lints]) are part of the test.
cargo fmt --all --check
cargo clippy --workspace --all-targets --quiet -- -D warnings 2>&1
cargo clippy --target wasm32-unknown-unknown -p cinnabar --quiet -- -D warnings 2>&1
cargo test --workspace --quiet 2>&1
# The Lua heap stress at its full size (1M EVALSHA; debug builds run 20k) needs an
# optimised build to finish in seconds.
cargo test --release --quiet -p cinnabar --lib -- commands::scripting::tests::the_lua_heap_stays_bounded_over_many_runs 2>&1
# The server's files once more with its I/O threads reading and writing (issue 19: the whole
# suite passes under io-threads 4); redis-server gets the same flags in differential tests.
CINNABAR_TEST_ARGS="--io-threads 4 --io-threads-do-reads yes" cargo test -p cinnabar-server --quiet 2>&1
