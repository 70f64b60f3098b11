#!/usr/bin/env bash
# The shop node under idle, slow and flooding clients (issue 10, part 5), loopback only:
#   1. the command mix with wrk on a clean node (the clean figure);
#   2. the same with 2,000 idle connections and 64 slow-loris clients held open, while
#      /health is timed (target: p99 < 50 ms, commands >= 0.8 x clean);
#   3. 5,000 connections at once, each asking /health (target: every one answered 200 or
#      refused 503 within 10 s).
#
#   bench/http/flood.sh [--quick]
#
# Environment: BUILD (default build-release), SECONDS_PER_RUN (10; --quick: 4),
# CONNECTIONS (32, wrk's), IDLE (2000), SLOW (64), BURST (5000), EXTRA_NODE_ARGS.
# Needs wrk and python3. Every process it starts is stopped by its PID.
set -euo pipefail
cd "$(dirname "$0")/../.."

build=${BUILD:-build-release}
seconds=${SECONDS_PER_RUN:-10}
[ "${1:-}" = "--quick" ] && seconds=${SECONDS_PER_RUN:-4}
connections=${CONNECTIONS:-32}
idle=${IDLE:-2000}
slow=${SLOW:-64}
burst=${BURST:-5000}
export SHOP_SKUS=${SHOP_SKUS:-50}
export SHOP_ORDERS=${SHOP_ORDERS:-0}

command -v wrk >/dev/null || { echo "flood.sh: wrk is missing (apt-get install wrk)" >&2; exit 2; }
command -v python3 >/dev/null || { echo "flood.sh: python3 is missing" >&2; exit 2; }
# Every connection is a descriptor, in the node and in the clients.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
need=$((idle + slow + burst + 512))
[ "$(ulimit -n)" -ge "$need" ] || echo "flood.sh: warning: ulimit -n $(ulimit -n) < $need" >&2
if [ ! -x "$build/sample/shop-node" ]; then
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DANNAL_BUILD_TESTS=OFF >/dev/null
  cmake --build "$build" -j "$(nproc)" --target shop-node
fi

work=$(mktemp -d)
node_pid=
holder_pid=
cleanup() {
  [ -n "$holder_pid" ] && kill "$holder_pid" 2>/dev/null && wait "$holder_pid" 2>/dev/null || true
  [ -n "$node_pid" ] && kill "$node_pid" 2>/dev/null && wait "$node_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

"$build/sample/shop-node" --data "$work/data" --http 127.0.0.1:0 --max-connections 10000 \
  ${EXTRA_NODE_ARGS:-} >"$work/url" 2>>"$work/node.log" &
node_pid=$!
for _ in $(seq 1 300); do
  [ -s "$work/url" ] && break
  sleep 0.1
done
url=$(head -1 "$work/url")
[ -n "$url" ] || { echo "flood.sh: the node did not start:" >&2; cat "$work/node.log" >&2; exit 1; }
port=${url##*:}

post() { curl -sf -o /dev/null -X POST "$url$1" -H 'Content-Type: application/json' -d "$2"; }
for i in $(seq 1 "$SHOP_SKUS"); do
  post /products "{\"sku\":\"sku-$i\",\"name\":\"Item $i\",\"price_cents\":250}"
  post "/inventory/sku-$i/restock" '{"quantity":1000000}'
done

summary() { grep '^SUMMARY' | tail -1 | sed 's/^SUMMARY //'; }
rps() { sed -n 's/.*requests\/s=\([0-9]*\).*/\1/p'; }

echo "== clean: wrk command mix -c$connections -d${seconds}s" >&2
out=$(wrk -t2 -c"$connections" -d"${seconds}s" --latency -s bench/http/command_mix.lua "$url")
echo "$out" >&2
clean=$(echo "$out" | summary)
clean_health=$(python3 bench/http/flood.py health --port "$port" --count 100)

echo "== held: $idle idle connections and $slow slow-loris clients" >&2
python3 bench/http/flood.py hold --port "$port" --idle "$idle" --slow "$slow" \
  --seconds $((seconds * 2 + 20)) >"$work/hold" 2>&1 &
holder_pid=$!
for _ in $(seq 1 300); do
  grep -q '^ready' "$work/hold" 2>/dev/null && break
  sleep 0.1
done
cat "$work/hold" >&2
held_line=$(grep '^ready' "$work/hold" || echo "not ready")
python3 bench/http/flood.py health --port "$port" --count $((seconds * 40)) >"$work/health" &
health_pid=$!
out=$(wrk -t2 -c"$connections" -d"${seconds}s" --latency -s bench/http/command_mix.lua "$url")
echo "$out" >&2
held=$(echo "$out" | summary)
wait "$health_pid" || true
held_health=$(cat "$work/health")
kill "$holder_pid" 2>/dev/null; wait "$holder_pid" 2>/dev/null || true
holder_pid=

echo "== burst: $burst connections at once" >&2
sleep 1 # let the held connections close
burst_out=$(python3 bench/http/flood.py burst --port "$port" --connections "$burst" --timeout 10)
alive=$(curl -s -o /dev/null -w '%{http_code}' "$url/health" || true)

c=$(echo "$clean" | rps)
h=$(echo "$held" | rps)
echo
echo "shop HTTP under hostile clients (${seconds}s per run, durable journal)"
printf '%-34s %s\n' "commands, clean" "$clean"
printf '%-34s %s\n' "/health, clean" "$clean_health"
printf '%-34s %s\n' "commands, $idle idle + $slow slow" "$held"
printf '%-34s %s\n' "/health, $idle idle + $slow slow" "$held_health"
printf '%-34s %s\n' "held open" "$held_line"
printf '%-34s %s\n' "ratio held/clean" "$(awk -v h="$h" -v c="$c" 'BEGIN { if (c > 0) printf "%.2f", h / c; else print "n/a" }')"
printf '%-34s %s\n' "burst" "$burst_out"
printf '%-34s %s\n' "/health after the burst" "$alive"
