#!/usr/bin/env bash
# Runs Redis 7.0.15's own Tcl test suite against a fresh cinnabar-server (release build) per
# test file, through ../shared/tools/redis-tcl-suite.sh, and prints its per-file table.
# Not part of CI (it takes long); its results go in docs/COMPATIBILITY.md.
#
#   scripts/compat.sh <redis-7.0.15-checkout> [port=6390]     (FILES="unit/expire ..." to pick)
#   SERVER_ARGS="--io-threads 4 --io-threads-do-reads yes" scripts/compat.sh ...   (more server flags)
set -euo pipefail
cd "$(dirname "$0")/.."
checkout=${1:?usage: scripts/compat.sh <redis-checkout> [port]}
port=${2:-6390}
[ -n "${NO_BUILD:-}" ] || cargo build --release -q -p cinnabar-server
restart=$(mktemp)
cat > "$restart" <<SH
#!/usr/bin/env bash
pkill -f "cinnabar-server --port $port" 2>/dev/null || true
sleep 0.3
# A server busy with a script ignores SIGTERM until the script ends (as Redis does).
pkill -9 -f "cinnabar-server --port $port" 2>/dev/null || true
sleep 0.1
nohup $PWD/target/release/cinnabar-server --port $port --save "" --enable-debug-command yes ${SERVER_ARGS:-} >/dev/null 2>&1 &
SH
chmod +x "$restart"
RESTART_EACH=1 RESTART_CMD="$restart" ../shared/tools/redis-tcl-suite.sh "$checkout" 127.0.0.1 "$port" || true
pkill -f "cinnabar-server --port $port" 2>/dev/null || true
rm -f "$restart"
