#!/usr/bin/env bash
# Commands/s of the shop node under wrk's command mix, with no page open, with 3 clients
# of GET /events/live (curl: the server's side of the live list only), and with 3 tabs of
# the operations page in headless Chromium (everything the page does, Chromium's own CPU
# included: it shares the machine). Alternates the three, ROUNDS times, on one node.
#
#   tests/web/page_clients_bench.sh     (env: BUILD=build, SECONDS_PER_RUN=10, ROUNDS=3,
#                                         CONNECTIONS=32, THREADS=2)
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${BUILD:-build}
seconds=${SECONDS_PER_RUN:-10}
rounds=${ROUNDS:-3}
connections=${CONNECTIONS:-32}
threads=${THREADS:-2}
export SHOP_SKUS=${SHOP_SKUS:-50}
export SHOP_ORDERS=${SHOP_ORDERS:-200}

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

"$build/sample/shop-node" --data "$work/data" --http 127.0.0.1:0 --web-root web/dist >"$work/url" 2>"$work/node.log" &
node_pid=$!
pids+=("$node_pid")
for _ in $(seq 1 300); do [ -s "$work/url" ] && break; sleep 0.1; done
url=$(head -1 "$work/url")
post() { curl -sf -o /dev/null -X POST "$url$1" -H 'Content-Type: application/json' -d "$2"; }
for i in $(seq 1 "$SHOP_SKUS"); do
  post /products "{\"sku\":\"sku-$i\",\"name\":\"Item $i\",\"price_cents\":250}"
  post "/inventory/sku-$i/restock" '{"quantity":1000000}'
done
for i in $(seq 1 "$SHOP_ORDERS"); do
  post /orders "{\"order_id\":\"seed-$i\",\"customer_id\":\"seed-cust-$(( i % 20 + 1 ))\",\"lines\":[{\"sku\":\"sku-$(( i % SHOP_SKUS + 1 ))\",\"quantity\":1}]}"
done
sleep 1

# CPU seconds used so far by a process and all its descendants.
tree_cpu() {
  ps -eo pid=,ppid=,times= | awk -v root="$1" '
    { parent[$1] = $2; cpu[$1] = $3 }
    END { for (p in cpu) { q = p; while (q != "" && q != 0 && q != root) q = parent[q];
                           if (q == root) sum += cpu[p] } print sum + 0 }'
}

run_wrk() { wrk -t"$threads" -c"$connections" -d"${seconds}s" -s bench/http/command_mix.lua "$url" \
              | awk '/Requests\/sec/ {print $2}'; }
events() { curl -s "$url/health" | sed 's/.*"position":\([0-9]*\).*/\1/'; }

declare -A results
for round in $(seq 1 "$rounds"); do
  for mode in none sse3 pages3; do
    extra=()
    case $mode in
      sse3)
        for i in 1 2 3; do
          curl -sN "$url/events/live" >"$work/sse-$i" 2>/dev/null &
          extra+=($!)
        done
        sleep 0.5
        ;;
      pages3)
        node tests/web/hold_pages.mjs "$url" 3 >"$work/pages.out" 2>"$work/pages.err" &
        extra+=($!)
        for _ in $(seq 1 300); do grep -q ready "$work/pages.out" 2>/dev/null && break; sleep 0.1; done
        ;;
    esac
    before=$(events)
    node_cpu0=$(tree_cpu "$node_pid")
    client_cpu0=0
    [ ${#extra[@]} -gt 0 ] && client_cpu0=$(for p in "${extra[@]}"; do tree_cpu "$p"; done | awk '{s+=$1} END {print s+0}')
    rps=$(run_wrk)
    after=$(events)
    node_cpu=$(( $(tree_cpu "$node_pid") - node_cpu0 ))
    client_cpu=0
    [ ${#extra[@]} -gt 0 ] && client_cpu=$(( $(for p in "${extra[@]}"; do tree_cpu "$p"; done | awk '{s+=$1} END {print s+0}') - client_cpu0 ))
    results[$mode]="${results[$mode]:-} $rps"
    echo "round $round, $mode: $rps commands/s, $(( (after - before) / seconds )) events/s;" \
         "CPU s: node $node_cpu, clients $client_cpu (of $(( 2 * seconds )) on 2 cores)" >&2
    for p in "${extra[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
    [ "$mode" = pages3 ] && cat "$work/pages.err" >&2
    if [ "$mode" = sse3 ]; then
      for i in 1 2 3; do echo "  sse client $i received $(grep -c '^id: ' "$work/sse-$i") events" >&2; done
    fi
  done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo
echo "commands/s (wrk command mix, -c$connections, ${seconds}s per run, median of $rounds):"
for mode in none sse3 pages3; do
  printf '  %-8s %s   (runs:%s)\n' "$mode" "$(echo "${results[$mode]}" | median)" "${results[$mode]}"
done
