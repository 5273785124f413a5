#!/usr/bin/env bash
# Installs what the tests need on a fresh machine, and nothing that is already there:
# Debian's redis-server/redis-tools (the differential test and real-client smoke tests),
# redis-py (a client smoke test),
# the wasm32 target, and the wasm-bindgen CLI at exactly the version in Cargo.lock.
set -euo pipefail
cd "$(dirname "$0")/../.."

need_apt=()
command -v redis-server >/dev/null || need_apt+=(redis-server)
command -v redis-cli >/dev/null && command -v redis-benchmark >/dev/null || need_apt+=(redis-tools)
command -v node >/dev/null || need_apt+=(nodejs)
command -v ss >/dev/null || need_apt+=(iproute2)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: installing ${need_apt[*]} from Debian"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
# Debian starts a redis-server service on 6379 when it installs; the tests start their own.

rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown

want=$(grep -A1 '^name = "wasm-bindgen"$' Cargo.lock | sed -n 's/^version = "\(.*\)"/\1/p')
have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
if [ "$have" != "$want" ]; then
  echo "setup: installing wasm-bindgen-cli $want (have: ${have:-none})"
  # Not --locked: the CLI's own lock file can name dependency versions a registry mirror
  # lacks; the CLI version itself is pinned, which is what must match the crate.
  cargo install wasm-bindgen-cli --version "$want" --quiet
fi
python3 -c 'import redis' 2>/dev/null || { echo "setup: installing redis-py"; python3 -m pip install --quiet redis; }

echo "setup: redis $(redis-server --version | awk '{print $3}'), $(wasm-bindgen --version), node $(node --version)"
