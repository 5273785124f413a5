#!/usr/bin/env bash
# The core built for wasm32: its unit tests and the wasm-bindgen-test suite in Node, then the
# JS package built with wasm-bindgen and tested with node --test.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --quiet --target wasm32-unknown-unknown -p cinnabar
# The core's own unit tests (every command family, reply-exact) compiled to wasm32 and run
# in Node, then the JS-binding suite.
CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
  cargo test --target wasm32-unknown-unknown -p cinnabar --lib --test wasm_node
cargo build --quiet --release --target wasm32-unknown-unknown -p cinnabar
wasm-bindgen --target nodejs --out-dir www/pkg target/wasm32-unknown-unknown/release/cinnabar.wasm
# wasm-bindgen's nodejs output is CommonJS inside an ESM package: say so for pkg/.
echo '{ "type": "commonjs" }' > www/pkg/package.json
(cd www && node --test test/)
