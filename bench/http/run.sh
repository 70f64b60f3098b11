#!/usr/bin/env bash
# Load test of the shop node over HTTP with wrk (keep-alive), beside the same request
# mixes run in process (shop-inproc-bench: parse_request + shop_service::handle, no
# sockets), so that the HTTP layer's cost is visible.
#
#   bench/http/run.sh [--quick]
#
# Environment: BUILD (default build-release), SECONDS_PER_RUN (10; --quick: 4),
# CONNECTIONS (32), THREADS (2), SHOP_SKUS (50), SHOP_ORDERS (200), EXTRA_NODE_ARGS.
# Every run starts a fresh node on a fresh data folder (durable: fsync per commit).
set -euo pipefail
cd "$(dirname "$0")/../.."

build=${BUILD:-build-release}
seconds=${SECONDS_PER_RUN:-10}
[ "${1:-}" = "--quick" ] && seconds=${SECONDS_PER_RUN:-4}
connections=${CONNECTIONS:-32}
threads=${THREADS:-2}
export SHOP_SKUS=${SHOP_SKUS:-50}
export SHOP_ORDERS=${SHOP_ORDERS:-200}

command -v wrk >/dev/null || { echo "run.sh: wrk is missing (apt-get install wrk)" >&2; exit 2; }
if [ ! -x "$build/sample/shop-node" ] || [ ! -x "$build/sample/shop-inproc-bench" ]; then
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DANNAL_BUILD_TESTS=OFF >/dev/null
  cmake --build "$build" -j "$(nproc)" --target shop-node shop-inproc-bench
fi

work=$(mktemp -d)
node_pid=
cleanup() {
  [ -n "$node_pid" ] && kill "$node_pid" 2>/dev/null && wait "$node_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# start_node: a fresh node on a free port; sets url and node_pid.
start_node() {
  rm -rf "$work/data" "$work/url"
  "$build/sample/shop-node" --data "$work/data" --http 127.0.0.1:0 \
    ${EXTRA_NODE_ARGS:-} >"$work/url" 2>>"$work/node.log" &
  node_pid=$!
  for _ in $(seq 1 300); do
    [ -s "$work/url" ] && break
    sleep 0.1
  done
  url=$(head -1 "$work/url")
  [ -n "$url" ] || { echo "run.sh: the node did not start:" >&2; cat "$work/node.log" >&2; exit 1; }
}

stop_node() {
  kill "$node_pid"
  wait "$node_pid" || true
  node_pid=
}

post() { curl -sf -o /dev/null -X POST "$url$1" -H 'Content-Type: application/json' -d "$2"; }

seed() {
  for i in $(seq 1 "$SHOP_SKUS"); do
    post /products "{\"sku\":\"sku-$i\",\"name\":\"Item $i\",\"price_cents\":250}"
    post "/inventory/sku-$i/restock" '{"quantity":1000000}'
  done
  for i in $(seq 1 "$SHOP_ORDERS"); do
    post /orders "{\"order_id\":\"seed-$i\",\"customer_id\":\"seed-cust-$(( i % 20 + 1 ))\",\"lines\":[{\"sku\":\"sku-$(( i % SHOP_SKUS + 1 ))\",\"quantity\":1}]}"
  done
}

summary() { grep '^SUMMARY' | tail -1 | sed 's/^SUMMARY //'; }

declare -A results
for mix in commands queries; do
  start_node
  seed
  sleep 1 # let fulfilment confirm the seeded orders
  echo "== wrk, $mix mix: -t$threads -c$connections -d${seconds}s $url" >&2
  script=bench/http/command_mix.lua
  [ "$mix" = queries ] && script=bench/http/query_mix.lua
  out=$(wrk -t"$threads" -c"$connections" -d"${seconds}s" --latency -s "$script" "$url")
  echo "$out" >&2
  results[http_$mix]=$(echo "$out" | summary)
  stop_node
  echo "== in process, $mix mix: $connections clients, ${seconds}s" >&2
  out=$("$build/sample/shop-inproc-bench" --mix "$mix" --seconds "$seconds" --clients "$connections" \
          --skus "$SHOP_SKUS" --orders "$SHOP_ORDERS" --data "$work/inproc-$mix")
  echo "$out" >&2
  results[inproc_$mix]=$(echo "$out" | summary)
done

echo
echo "shop HTTP benchmark ($connections connections, ${seconds}s per run, durable journal)"
printf '%-22s %s\n' "commands over HTTP" "${results[http_commands]}"
printf '%-22s %s\n' "commands in process" "${results[inproc_commands]}"
printf '%-22s %s\n' "queries over HTTP" "${results[http_queries]}"
printf '%-22s %s\n' "queries in process" "${results[inproc_queries]}"
