#!/usr/bin/env bash
# Core unit and black-box tests, then the server over real sockets: raw RESP, real clients
# (redis-rs, redis-cli, redis-benchmark) and the differential run against redis-server.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo test --workspace --quiet 2>&1
