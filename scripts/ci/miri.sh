#!/usr/bin/env bash
# ds/ele.rs is the core's one data structure built on unsafe (a 16-byte element handle: inline
# bytes or a reference-counted block): its tests run under Miri, which checks every pointer
# use, every free and every reference count against Rust's rules. Miri needs a nightly
# toolchain; it is installed when missing. Where the toolchain server offers no Miri, the step
# says so in capitals and the run goes on (it cannot be done there, and the rest can).
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! cargo +nightly miri --version >/dev/null 2>&1; then
  echo "miri: installing the nightly toolchain with miri and rust-src"
  if ! rustup toolchain install nightly --profile minimal --component miri,rust-src >/tmp/miri-install.log 2>&1 \
    && ! rustup component add miri rust-src --toolchain nightly >>/tmp/miri-install.log 2>&1; then
    echo "miri: SKIPPED, no Miri for this machine's nightly toolchain:"
    tail -5 /tmp/miri-install.log
    exit 0
  fi
fi
CARGO_TARGET_DIR=target/miri cargo +nightly miri test --quiet --lib ds::ele
echo "miri: ds::ele ok"
