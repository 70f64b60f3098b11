#include "shop/node/options.hpp"

#include <CLI/CLI.hpp>

#include <iostream>
#include <tuple>

namespace shop::node {

std::filesystem::path default_web_root() {
#ifdef SHOP_WEB_ROOT
  return SHOP_WEB_ROOT;
#else
  return "web/dist";
#endif
}

std::variant<node_options, int> parse_options(int argc, const char* const* argv) {
  node_options o;
  CLI::App app{"shop-node: the Annal sample shop (products, inventory, orders) over HTTP"};
  app.allow_extras();
  app.footer("Options it does not know go to CAF and the runtime, e.g.\n"
             "  --scheduler.max-threads=2  --annal.durability=no_sync  --annal.map-cap-mb=1024\n"
             "(CAF options need the --name=value form).");
  std::string data = o.data_dir.string();
  std::string http = o.host + ":" + std::to_string(o.port);
  std::string timeout = "15m";
  std::string idle_timeout = "60s";
  std::string header_timeout = "10s";
  std::string web_root = o.web_root.string();
  app.add_option("--data", data, "folder of the shop's journal and read models")
    ->capture_default_str();
  app.add_option("--http", http, "HOST:PORT to serve on (port 0: any free port)")
    ->capture_default_str();
  app.add_option("--payment-timeout", timeout,
                 "cancel confirmed orders left unpaid this long (500ms, 900s, 15m, 1h)")
    ->capture_default_str();
  app.add_option("--token", o.token, "require 'Authorization: Bearer TOKEN' on every request");
  app.add_option("--config-file", o.caf_config_file, "CAF configuration file to read");
  app.add_option("--http-threads", o.http_threads,
                 "HTTP event loops, one thread each (idle and waiting connections need none)")
    ->capture_default_str()
    ->check(CLI::Range(1u, 64u));
  app.add_option("--max-connections", o.max_connections,
                 "HTTP connections served at once (more get 503 and are closed)")
    ->capture_default_str()
    ->check(CLI::Range(std::size_t{1}, std::size_t{1000000}));
  app.add_option("--http-idle-timeout", idle_timeout,
                 "close a keep-alive connection idle this long")
    ->capture_default_str();
  app.add_option("--http-header-timeout", header_timeout,
                 "drop a client that takes longer to send a request's headers (and as long "
                 "again for its body)")
    ->capture_default_str();
  app.add_option("--fulfilment-partitions", o.fulfilment_partitions,
                 "fulfilment process managers sharing the orders (one handles many orders at once)")
    ->capture_default_str()
    ->check(CLI::Range(1u, 64u));
  app.add_option("--max-live-orders", o.max_live_orders,
                 "order instances live at once; the least recently used are passivated (their "
                 "states kept in memory, compact, for their next command)")
    ->capture_default_str()
    ->check(CLI::Range(std::size_t{1}, std::size_t{100000000}));
  app.add_option("--web-root", web_root,
                 "folder of the operations page's built files (npm --prefix web run build)")
    ->capture_default_str();
  std::string cluster_file;
  app.add_option("--node-id", o.node_id, "this node's id in the cluster file (with --cluster-config)");
  app.add_option("--cluster-config", cluster_file,
                 "run as a member of the cluster this JSON file describes (docs/architecture.md, "
                 "Cluster); the secret comes from the file or variable it names, never from here");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e); // prints help (0) or the usage error (non-zero)
  }
  auto endpoint = parse_endpoint(http);
  if (!endpoint) {
    std::cerr << "shop-node: --http must be HOST:PORT, not '" << http << "'\n";
    return 2;
  }
  auto d = parse_duration(timeout);
  if (!d) {
    std::cerr << "shop-node: --payment-timeout must be like 500ms, 900s, 15m or 1h, not '"
              << timeout << "'\n";
    return 2;
  }
  for (auto [name, text, out] : {std::tuple{"--http-idle-timeout", &idle_timeout, &o.http_idle_timeout},
                                 std::tuple{"--http-header-timeout", &header_timeout, &o.http_header_timeout}}) {
    auto v = parse_duration(*text);
    if (!v || v->count() <= 0) {
      std::cerr << "shop-node: " << name << " must be like 500ms, 10s or 1m, not '" << *text << "'\n";
      return 2;
    }
    *out = *v;
  }
  if (o.node_id.empty() != cluster_file.empty()) {
    std::cerr << "shop-node: --node-id and --cluster-config go together\n";
    return 2;
  }
  o.cluster_config = cluster_file;
  o.data_dir = data;
  o.web_root = web_root;
  o.host = endpoint->first;
  o.port = endpoint->second;
  o.payment_timeout = *d;
  o.caf_args = app.remaining();
  return o;
}

} // namespace shop::node
