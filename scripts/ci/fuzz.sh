#!/usr/bin/env bash
# The coverage-guided fuzz targets (fuzz/, libFuzzer through cargo-fuzz), a short run of each
# from its seeds: RESP input through the session and every command it finds (`resp`), AOF
# files (`aof`), RDB files (`rdb_load`), RESTORE payloads (`restore`) and generated Lua
# scripts (`lua`). cargo-fuzz builds on stable here: with `--sanitizer none` it needs no
# nightly flag, and a panic aborts, which libFuzzer reports. A crash fails the run; its input
# is left in fuzz/artifacts/<target>/ (replay: cargo fuzz run --sanitizer none -O <target>
# <file>). Longer campaigns: FUZZ_SECS=600 scripts/ci/fuzz.sh (docs/SECURITY.md).
set -euo pipefail
cd "$(dirname "$0")/../../fuzz"
secs=${FUZZ_SECS:-20}
command -v cargo-fuzz >/dev/null || { echo "fuzz: installing cargo-fuzz"; cargo install cargo-fuzz --locked --quiet; }
cargo fuzz build --sanitizer none -O 2>&1 | tail -1
targets=$(sed -n 's/^name = "\(.*\)"$/\1/p' Cargo.toml | grep -v '^cinnabar-fuzz$')
for t in $targets; do
  mkdir -p "corpus/$t"
  out=$(cargo fuzz run --sanitizer none -O "$t" "corpus/$t" "seeds/$t" -- \
        -max_total_time="$secs" -malloc_limit_mb=2048 -rss_limit_mb=4096 -timeout=30 -print_final_stats=1 2>&1) || {
    echo "$out" | grep -v '^#' | tail -40
    echo "fuzz: $t found a crash (see fuzz/artifacts/$t/)"
    exit 1
  }
  echo "fuzz: $t: $(echo "$out" | sed -n 's/^stat::number_of_executed_units: *//p') runs in ${secs}s, no crash"
done
