#!/usr/bin/env bash
# EVALSHA throughput and Lua memory under churn, cinnabar-server and redis-server side by
# side in one run (speed is measured here, never asserted in tests).
#
#   bench/scripting.sh [requests=200000] [churn=1000000]
#
# Prints a markdown table of median requests/second (3 rounds) for two scripts, then the
# Lua heap (INFO memory used_memory_vm_eval) and RSS of each server before and after
# `churn` EVALSHA calls of a script that builds and drops a 100-element table each call:
# with a working collector both stay flat.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-200000}
churn=${2:-1000000}
[ -n "${NO_BUILD:-}" ] || cargo build --release -q -p cinnabar-server
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
cport=$(free_port); rport=$(free_port)
./target/release/cinnabar-server --port "$cport" --save "" >/dev/null 2>&1 & cpid=$!
redis-server --port "$rport" --save "" --appendonly no >/dev/null 2>&1 & rpid=$!
trap 'kill $cpid $rpid 2>/dev/null; wait 2>/dev/null' EXIT
for p in $cport $rport; do
  for _ in $(seq 100); do redis-cli -p "$p" ping >/dev/null 2>&1 && break; sleep 0.05; done
done

incr='return redis.call("incr", KEYS[1])'
limiter='local n = redis.call("incr", KEYS[1]) if n == 1 then redis.call("pexpire", KEYS[1], 1000) end return n <= 100 and 1 or 0'
garbage='local t = {} for i = 1, 100 do t[i] = tostring(i) .. ARGV[1] end return #t'
declare -A sha
for s in incr limiter garbage; do
  for p in $cport $rport; do sha[$s]=$(redis-cli -p "$p" script load "${!s}"); done
done

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
rps() { # port sha
  redis-benchmark -p "$1" -c 50 -n "$n" -q --csv evalsha "$2" 1 key:__rand_int__ x 2>/dev/null | awk -F, 'NR>1 { gsub(/"/,""); print $2 }'
}
echo "redis-benchmark -c 50 -n $n EVALSHA, median of 3 rounds ($(nproc) cores, $(redis-server --version | awk '{print $3}'))"
echo
echo "| script | cinnabar rps | redis rps | ratio |"
echo "| --- | ---: | ---: | ---: |"
for s in incr limiter garbage; do
  c=$(for _ in 1 2 3; do rps "$cport" "${sha[$s]}"; done | median)
  r=$(for _ in 1 2 3; do rps "$rport" "${sha[$s]}"; done | median)
  awk -v s="$s" -v c="$c" -v r="$r" 'BEGIN { printf "| %s | %.0f | %.0f | %.2f |\n", s, c, r, c / r }'
done

field() { redis-cli -p "$1" info memory | tr -d '\r' | awk -F: -v f="$2" '$1==f {print $2}'; }
rss() { awk '/VmRSS/ {print $2 * 1024}' "/proc/$1/status"; }
echo
echo "Lua heap and RSS around $churn EVALSHA calls of the table-building script:"
echo
echo "| server | lua heap before | lua heap after | RSS before | RSS after |"
echo "| --- | ---: | ---: | ---: | ---: |"
for server in cinnabar redis; do
  port=$cport; pid=$cpid; [ $server = redis ] && port=$rport && pid=$rpid
  lb=$(field "$port" used_memory_vm_eval); rb=$(rss "$pid")
  redis-benchmark -p "$port" -c 50 -n "$churn" -q evalsha "${sha[garbage]}" 1 k __rand_int__ >/dev/null 2>&1
  la=$(field "$port" used_memory_vm_eval); ra=$(rss "$pid")
  echo "| $server | $lb | $la | $rb | $ra |"
done
