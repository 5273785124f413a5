#!/usr/bin/env bash
# The wasm hosts, from a clean clone: installs what is missing (the wasm32 target, the
# wasm-bindgen CLI of the version Cargo.lock pins, Debian's chromium and redis-server, the
# npm packages from www/package-lock.json), then
#   1. the core's unit tests compiled to wasm32 and the wasm-bindgen-test suites, in Node and
#      in headless Chromium (chromedriver);
#   2. the package (wasm-bindgen --target web into www/pkg, its glue patched by
#      www/scripts/patch-glue.mjs) and its Node tests;
#   3. the Chromium tests (playwright-core driving Debian's chromium);
#   4. the edge-worker example under Node, under workerd (miniflare) and under Deno (npm's
#      deno binary);
#   5. the sandbox page in Chromium.
# A missing tool is a failure, never a skip.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
target_dir=${CARGO_TARGET_DIR:-$root/target}

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "wasm.sh: need root to run: $*" >&2
    return 1
  fi
}

# --- tools -----------------------------------------------------------------------------------
rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown

bindgen_version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$bindgen_version" ]; then
  echo "==> installing wasm-bindgen-cli $bindgen_version"
  # --locked first (the CLI's own lockfile); a registry index that lacks one of its pinned
  # dependencies gets the unlocked resolution instead.
  cargo install wasm-bindgen-cli --version "$bindgen_version" --locked --force ||
    cargo install wasm-bindgen-cli --version "$bindgen_version" --force
fi

missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v chromedriver >/dev/null || missing+=(chromium-driver)
command -v redis-server >/dev/null || missing+=(redis-server)
if ! command -v redis-cli >/dev/null || ! command -v redis-check-rdb >/dev/null; then missing+=(redis-tools); fi
command -v node >/dev/null || missing+=(nodejs npm)
if [ ${#missing[@]} -gt 0 ]; then
  echo "==> apt-get install ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
for tool in chromium chromedriver redis-server redis-cli redis-check-rdb node npm wasm-bindgen wasm-bindgen-test-runner; do
  command -v "$tool" >/dev/null || { echo "wasm.sh: $tool is required and missing" >&2; exit 1; }
done

node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then
  echo "wasm.sh: Node >= 20 is required (playwright-core, node --test); found $(node --version)" >&2
  exit 1
fi

# --- 1. the core in wasm32 -------------------------------------------------------------------
cargo build --quiet --target wasm32-unknown-unknown -p cinnabar
# The core's own unit tests (every command family, reply-exact) compiled to wasm32 and run
# in Node, then the JS-binding suite.
CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
  cargo test --target wasm32-unknown-unknown -p cinnabar --lib --test wasm_node
# The binding in headless Chromium (webdriver.json holds Chromium's flags).
CHROMEDRIVER=$(command -v chromedriver) CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
  cargo test --target wasm32-unknown-unknown -p cinnabar --test wasm_browser

# --- 2. the package ----------------------------------------------------------------------------
cargo build --quiet --release --target wasm32-unknown-unknown -p cinnabar
rm -rf www/pkg
wasm-bindgen --target web --out-dir www/pkg "$target_dir/wasm32-unknown-unknown/release/cinnabar.wasm"
# The glue gets `reinstantiate()` (a fresh instance after a trap); fails if the glue changed.
node www/scripts/patch-glue.mjs www/pkg
wasm_bytes=$(wc -c < www/pkg/cinnabar_bg.wasm)
wasm_gzip=$(gzip -9c www/pkg/cinnabar_bg.wasm | wc -c)
echo "==> cinnabar_bg.wasm: $wasm_bytes bytes ($wasm_gzip gzipped)"

cd www
# npm ci only when the installed tree is not the locked one.
if ! cmp -s package-lock.json node_modules/.package-lock.json.ci 2>/dev/null; then
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json node_modules/.package-lock.json.ci
fi

echo "==> node tests"
node --test test/*.test.mjs
echo "==> chromium tests"
node --test test/browser/*.test.mjs
echo "==> edge worker tests (node, workerd via miniflare, deno)"
node --test edge/test/*.test.mjs
echo "==> sandbox tests (redis-cli formatting against redis-cli; the page in chromium)"
node --test sandbox/test/*.test.mjs
