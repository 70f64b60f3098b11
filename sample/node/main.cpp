// shop-node: the sample shop served over HTTP. Logs go to stderr; the URL goes to stdout
// once the node is ready. SIGINT or SIGTERM drains the requests in progress, stops the
// runtime (which flushes the journal) and exits with 0.
#include <csignal>
#include <cstdio>
#include <iostream>
#include <optional>
#include <pthread.h>
#include <thread>

#include "annal/cluster/cluster_node.hpp"
#include "annal/log.hpp"
#include "annal/malloc_in_use.hpp"
#include "annal/runtime.hpp"
#include "shop/model.hpp"
#include "shop/node/await_live.hpp"
#include "shop/node/cluster_read_models.hpp"
#include "shop/node/cluster_route.hpp"
#include "shop/node/http_server.hpp"
#include "shop/node/live_feed.hpp"
#include "shop/node/live_stream.hpp"
#include "shop/node/options.hpp"
#include "shop/node/page_routes.hpp"
#include "shop/node/throughput.hpp"

namespace {

using annal::log;
using annal::log_level;

// The signals that stop the node, blocked in every thread: one thread takes them with
// sigwait, so no handler runs at an arbitrary point of another thread.
sigset_t stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

int fail(const std::string& what, const annal::error& e) {
  log(log_level::error, "shop-node: " + what + ": " + e.to_string());
  return 1;
}

int run(const shop::node::node_options& o) {
  annal::runtime_config cfg;
  cfg.data_dir = o.data_dir;
  cfg.caf_args = o.caf_args;
  cfg.caf_config_file = o.caf_config_file;
  shop::node::commit_timer commit_timer; // for the page's plot: outlives the runtime
  commit_timer.install(cfg.writer);
  std::optional<annal::cluster::cluster_config> cluster_cfg;
  if (!o.cluster_config.empty()) {
    auto c = annal::cluster::load_cluster_config(o.cluster_config, o.node_id);
    if (!c)
      return fail("cannot read the cluster config", c.error());
    cluster_cfg.emplace(std::move(*c));
    annal::cluster::cluster_node::prepare(cfg, *cluster_cfg);
  }
  auto opened = annal::runtime::open(cfg);
  if (!opened)
    return fail("cannot open " + o.data_dir.string(), opened.error());
  auto& rt = **opened;
  if (auto ok = shop::register_aggregates(rt, o.max_live_orders); !ok)
    return fail("cannot register the aggregates", ok.error());
  // A cluster's read models cover every shard (a cluster projection, started below); a
  // node alone keeps them from its own journal.
  if (!cluster_cfg)
    if (auto ok = shop::add_read_models(rt); !ok)
      return fail("cannot add the read models", ok.error());
  if (auto ok = shop::add_fulfilment(rt, {o.payment_timeout, o.fulfilment_partitions}); !ok)
    return fail("cannot add fulfilment", ok.error());
  auto tables = shop::open_read_model_tables(rt.read_models());
  if (!tables)
    return fail("cannot open the read-model tables", tables.error());
  shop::node::live_feed feed{rt}; // the page's live list (outlives the server)
  if (auto ok = feed.attach(); !ok)
    return fail("cannot add the live feed", ok.error());
  // Declared after the runtime: gone before it (its actors live in the runtime's system).
  std::unique_ptr<annal::cluster::cluster_node> cluster;
  bool joins = cluster_cfg && cluster_cfg->self().joins;
  if (cluster_cfg) {
    auto joined = annal::cluster::cluster_node::join(rt, std::move(*cluster_cfg));
    if (!joined)
      return fail("cannot join the cluster", joined.error());
    cluster = std::move(*joined);
  }
  if (auto ok = rt.start(); !ok)
    return fail("cannot start the runtime", ok.error());
  shop::node::await_live(rt, std::chrono::seconds(30));
  std::unique_ptr<annal::cluster::cluster_projection> cluster_reads;
  if (cluster) {
    auto started = shop::node::start_cluster_read_models(*cluster, rt, *tables);
    if (!started) {
      (void)rt.stop();
      return fail("cannot start the cluster's read models", started.error());
    }
    cluster_reads = std::move(*started);
  }

  shop::node::node_metrics metrics;
  shop::node::throughput_sampler throughput{rt, metrics, commit_timer};
  shop::node::shop_service service{rt, *tables, metrics, cluster.get(), cluster_reads.get()};
  shop::node::http_server_options http_options;
  http_options.token = o.token;
  http_options.io_threads = o.http_threads;
  http_options.max_connections = o.max_connections;
  http_options.idle_timeout = o.http_idle_timeout;
  http_options.header_timeout = o.http_header_timeout;
  http_options.body_timeout = o.http_header_timeout;
  shop::node::http_server server{service, metrics, http_options};
  server.add_public_route(shop::node::page_files_route(o.web_root));
  server.add_stream_route(shop::node::live_events_route(feed));
  server.add_route(shop::node::page_data_route(rt, *tables, throughput));
  if (cluster) {
    server.add_route(shop::node::cluster_status_route(*cluster));
    server.add_route(shop::node::cluster_move_route(*cluster));
    server.add_route(shop::node::cluster_rebalance_route(*cluster));
  }
  auto port = server.bind(o.host, o.port);
  if (!port) {
    (void)rt.stop();
    return fail("cannot serve HTTP", port.error());
  }
  std::atomic<bool> listen_failed{false};
  std::thread listener{[&] {
    if (!server.run()) {
      listen_failed = true;
      ::kill(::getpid(), SIGTERM); // wakes the sigwait below
    }
  }};
  auto host = o.host.find(':') != std::string::npos ? "[" + o.host + "]" : o.host;
  auto url = "http://" + host + ":" + std::to_string(*port);
  log(log_level::info, "shop-node: serving " + url + " (data in " + o.data_dir.string()
                         + ", payment timeout " + std::to_string(o.payment_timeout.count())
                         + " ms, malloc " + std::string{annal::malloc_in_use()} + ")");
  std::cout << url << std::endl; // the line tools wait for: the node is ready
  // A member the cluster file marks as joining takes its share of the shards, moved to it
  // one at a time while every node keeps serving (nothing to move once it has its share).
  if (joins)
    cluster->rebalance([](annal::result<annal::cluster::rebalance_report> r) {
      if (r)
        log(log_level::info, "shop-node: joined: took " + std::to_string(r->moves.size()) + " shards");
      else
        log(log_level::warning, "shop-node: joined, but the rebalance failed (POST /cluster/rebalance "
                                  "to retry): " + r.error().to_string());
    });

  auto signals = stop_signals();
  int sig = 0;
  sigwait(&signals, &sig);
  log(log_level::info, std::string{"shop-node: "} + (sig == SIGINT ? "SIGINT" : "SIGTERM")
                         + ", draining requests in progress");
  server.begin_drain();
  if (!server.wait_idle(std::chrono::seconds(30)))
    log(log_level::warning, "shop-node: requests still running after 30 s, stopping anyway");
  server.stop();
  listener.join();
  if (cluster_reads)
    cluster_reads->stop(); // before the node: its reads go through the node's links
  if (cluster)
    cluster->leave(); // commands forwarded from here fail from now on, as do those to here
  // Before the server goes: every callback the runtime still holds for a connection runs
  // now (into the stopped event loop), none later.
  auto stopped = rt.stop();
  if (!stopped)
    return fail("stopping the runtime", stopped.error());
  if (listen_failed) {
    log(log_level::error, "shop-node: the HTTP listener failed");
    return 1;
  }
  log(log_level::info, "shop-node: stopped cleanly");
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  auto parsed = shop::node::parse_options(argc, argv);
  if (auto* code = std::get_if<int>(&parsed))
    return *code;
  // Before any thread exists, so that every thread inherits the mask.
  auto signals = stop_signals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN); // a client that hangs up must not kill the node
  return run(std::get<shop::node::node_options>(parsed));
}
