#!/usr/bin/env bash
# BGSAVE's pause and memory cost with ~1 GB of data, cinnabar-server (release build) and
# redis-server side by side in one run, under a redis-benchmark SET load; prints a markdown
# table (see bench/bgsave.py for what each row measures). Never asserted in tests.
#
#   bench/bgsave.sh [keys=4000000] [value bytes=200] [rounds=3]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p cinnabar-server
target=${CARGO_TARGET_DIR:-target}
exec python3 bench/bgsave.py "$target/release/cinnabar-server" "${1:-4000000}" "${2:-200}" "${3:-3}"
