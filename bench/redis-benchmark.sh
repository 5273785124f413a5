#!/usr/bin/env bash
# Runs redis-benchmark against cinnabar-server and redis-server side by side, in one run on
# this machine, and prints a markdown table of median requests/second and the ratio
# cinnabar/redis per test. Speed is measured here, never asserted in tests.
#
#   bench/redis-benchmark.sh [rounds=3] [requests=200000]
#   TESTS=hset,sadd,zadd KEYSPACE=1000000 bench/redis-benchmark.sh   (other tests; -r keyspace)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
n=${2:-200000}
tests=${TESTS:-set,get,incr}
random_keys=()
[ -n "${KEYSPACE:-}" ] && random_keys=(-r "$KEYSPACE")

cargo build --release -q -p cinnabar-server
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
cport=$(free_port); rport=$(free_port)
./target/release/cinnabar-server --port "$cport" --save "" >/dev/null 2>&1 & cpid=$!
redis-server --port "$rport" --save "" --appendonly no >/dev/null 2>&1 & rpid=$!
trap 'kill $cpid $rpid 2>/dev/null; wait 2>/dev/null' EXIT
for p in $cport $rport; do
  for _ in $(seq 100); do redis-cli -p "$p" ping >/dev/null 2>&1 && break; sleep 0.05; done
done

out=$(mktemp)
# One line per (server, pipeline, test, round): rps.
for round in $(seq "$rounds"); do
  for pipe in 1 16; do
    for server in cinnabar redis; do
      port=$cport; [ $server = redis ] && port=$rport
      redis-benchmark -p "$port" -c 50 -P "$pipe" -n "$n" "${random_keys[@]}" -t "$tests" -q --csv 2>/dev/null |
        awk -F, -v s=$server -v p=$pipe 'NR>1 { gsub(/"/,""); print s, p, $1, $2 }' >> "$out"
    done
  done
done

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
echo "redis-benchmark -c 50 -n $n, median of $rounds rounds ($(nproc) cores, $(redis-server --version | awk '{print $3}'))"
echo
echo "| test | pipeline | cinnabar rps | redis rps | ratio |"
echo "| --- | --- | ---: | ---: | ---: |"
for pipe in 1 16; do
  for t in $(awk '{print $3}' "$out" | awk '!seen[$0]++'); do
    c=$(awk -v p=$pipe -v t=$t '$1=="cinnabar" && $2==p && $3==t {print $4}' "$out" | median)
    r=$(awk -v p=$pipe -v t=$t '$1=="redis" && $2==p && $3==t {print $4}' "$out" | median)
    awk -v t=$t -v p=$pipe -v c="$c" -v r="$r" 'BEGIN { printf "| %s | %s | %.0f | %.0f | %.2f |\n", t, p, c, r, c / r }'
  done
done
rm -f "$out"
