#include "soak/soak_options.hpp"

#include <cstdlib>
#include <iostream>

namespace annal::soak {

namespace {

const char* usage =
  "soak [--duration S] [--round-min S] [--round-max S] [--max-rounds N] [--clients N]\n"
  "     [--skus N] [--max-skus N] [--interval S] [--dir PATH] [--keep] [--map-initial-mb N]\n"
  "     [--durability durable|no_sync] [--payment-timeout 1h] [--request-timeout S]\n"
  "     [--start-timeout S] [--stop-timeout S] [--quiet-timeout S] [--stall-timeout S]\n"
  "     [--verify-timeout S] [--rebuild-every N] [--seed N] [--node PATH] [--annal PATH]\n"
  "     [--node-arg ARG]...\n";

[[noreturn]] void bad(const std::string& what) {
  std::cerr << "soak: " << what << "\n" << usage;
  std::exit(2);
}

uint64_t number(const std::string& opt, const std::string& v) {
  try {
    std::size_t used = 0;
    auto n = std::stoull(v, &used);
    if (used != v.size())
      bad(opt + " needs a number, not '" + v + "'");
    return n;
  } catch (const std::exception&) {
    bad(opt + " needs a number, not '" + v + "'");
  }
}

} // namespace

soak_options parse_options(int argc, char** argv) {
  soak_options o;
  o.node = SOAK_SHOP_NODE_BINARY;
  o.annal = SOAK_ANNAL_BINARY;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--keep") {
      o.keep = true;
      continue;
    }
    if (a == "--help" || a == "-h") {
      std::cout << usage;
      std::exit(0);
    }
    if (i + 1 >= argc)
      bad("missing value after " + a);
    std::string v = argv[++i];
    auto secs = [&] { return std::chrono::seconds(number(a, v)); };
    if (a == "--duration") o.duration = secs();
    else if (a == "--round-min") o.round_min = secs();
    else if (a == "--round-max") o.round_max = secs();
    else if (a == "--max-rounds") o.max_rounds = static_cast<int>(number(a, v));
    else if (a == "--clients") o.clients = static_cast<int>(number(a, v));
    else if (a == "--skus") o.skus = number(a, v);
    else if (a == "--max-skus") o.max_skus = number(a, v);
    else if (a == "--interval") o.interval = secs();
    else if (a == "--dir") o.dir = v;
    else if (a == "--map-initial-mb") o.map_initial_mb = number(a, v);
    else if (a == "--durability") o.durability = v;
    else if (a == "--payment-timeout") o.payment_timeout = v;
    else if (a == "--request-timeout") o.request_timeout = secs();
    else if (a == "--start-timeout") o.start_timeout = secs();
    else if (a == "--stop-timeout") o.stop_timeout = secs();
    else if (a == "--quiet-timeout") o.quiet_timeout = secs();
    else if (a == "--stall-timeout") o.stall_timeout = secs();
    else if (a == "--verify-timeout") o.verify_timeout = secs();
    else if (a == "--rebuild-every") o.rebuild_every = static_cast<int>(number(a, v));
    else if (a == "--seed") o.seed = number(a, v);
    else if (a == "--node") o.node = v;
    else if (a == "--annal") o.annal = v;
    else if (a == "--node-arg") o.node_args.push_back(v);
    else if (a == "--rebuild-into") o.rebuild_into = v;
    else if (a == "--from") o.rebuild_from = v;
    else bad("unknown option " + a);
  }
  if (o.durability != "durable" && o.durability != "no_sync")
    bad("--durability is durable or no_sync");
  if (o.round_min.count() < 1 || o.round_max < o.round_min)
    bad("need 1 <= --round-min <= --round-max");
  if (o.clients < 1 || o.skus < 1 || o.max_skus < o.skus || o.interval.count() < 1
      || o.request_timeout.count() < 2)
    bad("need --clients, --skus, --interval >= 1, --max-skus >= --skus, --request-timeout >= 2");
  return o;
}

} // namespace annal::soak
