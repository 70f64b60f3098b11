// shop-inproc-bench: the request mixes of bench/http/*.lua, run inside the process: each
// client is a chain of requests on a two-thread event loop that parses a request
// (parse_request) and runs it (the asynchronous shop_service::handle), as the HTTP server
// does, but without sockets. Its rate beside wrk's shows what the HTTP transport costs.
//
//   shop-inproc-bench [--mix commands|queries] [--seconds 10] [--clients 32]
//                     [--skus 50] [--orders 200] [--data DIR] [CAF options...]
//
// It also samples fulfilment's projection lag every 10 ms during the run (the age of the
// oldest order event it has not handled yet) and counts the orders it confirmed per second.
// CURVE lines give the rate and CPU per request of each tenth of the run.
#include <CLI/CLI.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <thread>
#include <unistd.h>

#include "annal/malloc_in_use.hpp"
#include "annal/read_model_store.hpp"
#include "annal/runtime.hpp"
#include "shop/http/request_parser.hpp"
#include "shop/model.hpp"
#include "shop/node/await_live.hpp"
#include "shop/node/shop_service.hpp"
#include "support/process_cpu.hpp"

namespace {

using namespace shop;

struct bench_options {
  std::string mix = "commands";
  int seconds = 10;
  int clients = 32;
  int skus = 50;
  int orders = 200;
  std::string data;
  std::vector<std::string> caf_args;
};

// One request as the server would see it: method, path, body.
struct raw_request {
  std::string method;
  std::string path;
  std::string body;
};

node::http_response run(node::shop_service& svc, const raw_request& r) {
  http::request_view v;
  v.method = r.method;
  v.path = r.path;
  v.body = r.body;
  v.headers.emplace_back("Content-Type", "application/json");
  auto parsed = http::parse_request(v);
  if (auto* e = std::get_if<http::api_error>(&parsed))
    return node::shop_service::error_response(*e);
  return svc.handle(std::get<http::api_request>(parsed));
}

// The mixes of bench/http/command_mix.lua and query_mix.lua.
raw_request next_request(const bench_options& o, std::mt19937& rng, int client, uint64_t& counter) {
  auto pick = static_cast<int>(rng() % 100) + 1;
  auto sku = [&] { return "sku-" + std::to_string(rng() % static_cast<unsigned>(o.skus) + 1); };
  if (o.mix == "commands") {
    ++counter;
    if (pick <= 60) {
      std::string lines = "{\"sku\":\"" + sku() + "\",\"quantity\":1}";
      if (pick % 2 == 0)
        lines += ",{\"sku\":\"" + sku() + "\",\"quantity\":2}";
      return {"POST", "/orders",
              "{\"order_id\":\"i" + std::to_string(client) + "-" + std::to_string(counter)
                + "\",\"customer_id\":\"cust-" + std::to_string(rng() % 500 + 1) + "\",\"lines\":[" + lines + "]}"};
    }
    if (pick <= 85)
      return {"POST", "/inventory/" + sku() + "/restock", "{\"quantity\":5}"};
    return {"POST", "/products/" + sku() + "/price", "{\"price_cents\":" + std::to_string(rng() % 9900 + 100) + "}"};
  }
  if (pick <= 30)
    return {"GET", "/products/" + sku(), ""};
  if (pick <= 55)
    return {"GET", "/inventory/" + sku(), ""};
  if (pick <= 80)
    return {"GET", "/orders/seed-" + std::to_string(rng() % static_cast<unsigned>(o.orders) + 1), ""};
  if (pick <= 95)
    return {"GET", "/customers/seed-cust-" + std::to_string(rng() % 20 + 1) + "/orders", ""};
  return {"GET", "/reports/sales", ""};
}

bool seed(node::shop_service& svc, const bench_options& o) {
  for (int i = 1; i <= o.skus; ++i) {
    auto s = "sku-" + std::to_string(i);
    auto a = run(svc, {"POST", "/products", "{\"sku\":\"" + s + "\",\"name\":\"Item " + s + "\",\"price_cents\":250}"});
    auto b = run(svc, {"POST", "/inventory/" + s + "/restock", "{\"quantity\":1000000}"});
    if (a.status >= 300 && a.status != 409)
      return false;
    if (b.status >= 300)
      return false;
  }
  for (int i = 1; i <= o.orders; ++i)
    (void)run(svc, {"POST", "/orders", "{\"order_id\":\"seed-" + std::to_string(i) + "\",\"customer_id\":\"seed-cust-"
                                         + std::to_string(i % 20 + 1) + "\",\"lines\":[{\"sku\":\"sku-"
                                         + std::to_string(i % o.skus + 1) + "\",\"quantity\":1}]}"});
  return true;
}

} // namespace

int main(int argc, char** argv) {
  bench_options o;
  CLI::App app{"shop-inproc-bench: the HTTP benchmark's request mixes, in process"};
  app.allow_extras();
  app.add_option("--mix", o.mix, "commands or queries")->check(CLI::IsMember({"commands", "queries"}));
  app.add_option("--seconds", o.seconds, "duration of the measurement");
  app.add_option("--clients", o.clients, "concurrent clients (request chains)");
  app.add_option("--skus", o.skus, "products to seed");
  app.add_option("--orders", o.orders, "orders to seed (seed-1..N)");
  app.add_option("--data", o.data, "data folder (default: a fresh temporary one)");
  CLI11_PARSE(app, argc, argv);
  o.caf_args = app.remaining();
  bool own_dir = o.data.empty();
  if (own_dir)
    o.data = (std::filesystem::temp_directory_path() / ("shop-bench-" + std::to_string(::getpid()))).string();

  annal::runtime_config cfg;
  cfg.data_dir = o.data;
  cfg.caf_args = o.caf_args;
  auto rt = annal::runtime::open(cfg);
  if (!rt) {
    std::fprintf(stderr, "cannot open: %s\n", rt.error().to_string().c_str());
    return 1;
  }
  auto& r = **rt;
  if (!shop::register_aggregates(r) || !shop::add_read_models(r) || !shop::add_fulfilment(r) || !r.start())
    return 1;
  node::await_live(r, std::chrono::seconds(60));
  auto tables = shop::open_read_model_tables(r.read_models());
  node::node_metrics metrics;
  node::shop_service svc{r, *tables, metrics};
  if (!seed(svc, o)) {
    std::fprintf(stderr, "seeding failed\n");
    return 1;
  }
  if (o.mix == "queries") // let fulfilment and the read models settle first
    (void)r.await_projection(shop::order_detail_projection, r.store().last_position().value_or(0),
                             std::chrono::seconds(30));

  // Each client is a chain of requests on an event loop of two threads, as the HTTP
  // server runs them: the next request starts when the answer to the previous came.
  boost::asio::io_context io;
  auto work = boost::asio::make_work_guard(io);
  struct client {
    explicit client(boost::asio::io_context& io, int c)
      : strand(boost::asio::make_strand(io)), rng(static_cast<unsigned>(c * 7919 + 1)) {}
    node::executor strand;
    std::mt19937 rng;
    uint64_t counter = 0;
    std::vector<double> latencies;
    std::map<int, uint64_t> codes;
  };
  std::vector<std::unique_ptr<client>> clients;
  for (int c = 0; c < o.clients; ++c)
    clients.push_back(std::make_unique<client>(io, c));
  std::atomic<bool> stop{false};
  // Fulfilment's lag, sampled while the clients run.
  std::vector<double> lag_ms;
  auto run_started_ns = annal::now_ns();
  std::thread sampler{[&] {
    while (!stop) {
      double worst = 0;
      for (const auto& p : r.projections())
        if (p.name.rfind("fulfilment-", 0) == 0)
          worst = std::max(worst, p.lag_ms);
      lag_ms.push_back(worst);
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }};
  std::atomic<int> running{o.clients};
  std::atomic<uint64_t> completed{0};
  std::function<void(int)> next = [&](int c) {
    auto& cl = *clients[static_cast<std::size_t>(c)];
    if (stop) {
      --running;
      return;
    }
    auto req = next_request(o, cl.rng, c, cl.counter);
    auto t0 = std::chrono::steady_clock::now();
    auto record = [&, c, t0](node::http_response res) {
      auto& me = *clients[static_cast<std::size_t>(c)];
      me.latencies.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
      ++me.codes[res.status];
      completed.fetch_add(1, std::memory_order_relaxed);
      boost::asio::post(me.strand, [&, c] { next(c); }); // not inline: no recursion
    };
    http::request_view v;
    v.method = req.method;
    v.path = req.path;
    v.body = req.body;
    v.headers.emplace_back("Content-Type", "application/json");
    auto parsed = http::parse_request(v);
    if (auto* e = std::get_if<http::api_error>(&parsed))
      return record(node::shop_service::error_response(*e));
    svc.handle(std::get<http::api_request>(parsed), cl.strand, record);
  };
  auto commits0 = r.metrics().commits.load();
  auto events0 = r.metrics().events_written.load();
  auto snapshots0 = r.metrics().snapshots_written.load();
  auto journal_commits0 = r.metrics().commit_durations.read();
  auto read_model_commits0 = r.read_models().commit_durations();
  auto cpu0 = annal::bench::process_cpu_seconds(); // the clients' threads included
  auto started = std::chrono::steady_clock::now();
  for (int c = 0; c < o.clients; ++c)
    boost::asio::post(clients[static_cast<std::size_t>(c)]->strand, [&, c] { next(c); });
  std::vector<std::thread> loop;
  for (int i = 0; i < 2; ++i)
    loop.emplace_back([&] { io.run(); });
  // The rate and CPU per request of each tenth of the run: how they change as it goes.
  uint64_t done_before = 0;
  double cpu_before = cpu0;
  for (int tenth = 1; tenth <= 10; ++tenth) {
    std::this_thread::sleep_until(started + std::chrono::milliseconds(o.seconds * 100 * tenth));
    uint64_t done = completed.load();
    double cpu = annal::bench::process_cpu_seconds();
    auto n = static_cast<double>(done - done_before);
    std::printf("CURVE tenth=%d requests_per_s=%.0f cpu_us_per_request=%.1f\n", tenth,
                n / (o.seconds / 10.0), n > 0 ? (cpu - cpu_before) * 1e6 / n : 0.0);
    done_before = done;
    cpu_before = cpu;
  }
  stop = true;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (running > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  sampler.join();
  auto run_ended_ns = annal::now_ns();
  auto commits = r.metrics().commits.load() - commits0;
  auto events = r.metrics().events_written.load() - events0;
  auto snapshots = r.metrics().snapshots_written.load() - snapshots0;
  auto journal_commits = r.metrics().commit_durations.read().since(journal_commits0);
  auto read_model_commits = r.read_models().commit_durations().since(read_model_commits0);
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  double cpu_s = annal::bench::process_cpu_seconds() - cpu0;
  work.reset();
  io.stop();
  for (auto& t : loop)
    t.join();
  std::vector<double> latencies_ms;
  std::map<int, uint64_t> statuses;
  for (auto& cl : clients) {
    latencies_ms.insert(latencies_ms.end(), cl->latencies.begin(), cl->latencies.end());
    for (auto [k, n] : cl->codes)
      statuses[k] += n;
  }
  std::sort(latencies_ms.begin(), latencies_ms.end());
  auto pct = [&](double p) {
    return latencies_ms.empty() ? 0.0 : latencies_ms[std::min(latencies_ms.size() - 1, static_cast<std::size_t>(p * latencies_ms.size()))];
  };
  uint64_t failed = 0;
  std::string codes;
  for (auto [k, n] : statuses) {
    codes += " " + std::to_string(k) + "=" + std::to_string(n);
    if (k >= 300)
      failed += n;
  }
  std::printf("in-process %s mix, %d clients, %.1f s, malloc %s:%s\n", o.mix.c_str(), o.clients, elapsed,
              std::string{annal::malloc_in_use()}.c_str(), codes.c_str());
  std::printf("SUMMARY requests/s=%.0f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f errors=%llu"
              " cpu_us_per_request=%.1f\n",
              static_cast<double>(latencies_ms.size()) / elapsed, pct(0.5), pct(0.99),
              latencies_ms.empty() ? 0.0 : latencies_ms.back(), static_cast<unsigned long long>(failed),
              latencies_ms.empty() ? 0.0 : cpu_s * 1e6 / static_cast<double>(latencies_ms.size()));
  // Commit durations (write transaction and sync) from the runtime's histograms: p50/p99
  // interpolated inside 1-2-5 buckets. The journal's commits wait for the disk, and so do
  // the read models' on the same disk.
  auto ms = [](const annal::duration_histogram::counts& c, double q) {
    return static_cast<double>(c.quantile(q).count()) / 1000.0;
  };
  std::printf("JOURNAL commits_per_s=%.0f events_per_commit=%.1f snapshots_per_s=%.1f"
              " commit_p50_ms=%.2f commit_p99_ms=%.2f\n",
              static_cast<double>(commits) / elapsed,
              commits > 0 ? static_cast<double>(events) / static_cast<double>(commits) : 0.0,
              static_cast<double>(snapshots) / elapsed, ms(journal_commits, 0.5), ms(journal_commits, 0.99));
  std::printf("READ_MODELS commits_per_s=%.1f commit_p50_ms=%.2f commit_p99_ms=%.2f\n",
              static_cast<double>(read_model_commits.count) / elapsed, ms(read_model_commits, 0.5),
              ms(read_model_commits, 0.99));
  if (o.mix == "commands") {
    // Orders confirmed during the run (by event time), and how long fulfilment needs to
    // finish the backlog the run left.
    auto drain_started = std::chrono::steady_clock::now();
    auto head = r.store().last_position().value_or(0);
    bool drained = true;
    for (const auto& p : r.projections())
      if (p.name.rfind("fulfilment-", 0) == 0)
        drained = r.await_projection(p.name, head, std::chrono::seconds(120)) && drained;
    double drain_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - drain_started).count();
    uint64_t confirmed = 0;
    annal::global_position from = 0;
    for (;;) {
      auto evs = r.store().read_all(from, 4096);
      if (!evs || evs->empty())
        break;
      for (const auto& e : *evs)
        if (e.type == "OrderConfirmed" && e.timestamp >= run_started_ns && e.timestamp <= run_ended_ns)
          ++confirmed;
      from = evs->back().position;
    }
    std::sort(lag_ms.begin(), lag_ms.end());
    auto lag = [&](double p) {
      return lag_ms.empty() ? 0.0 : lag_ms[std::min(lag_ms.size() - 1, static_cast<std::size_t>(p * lag_ms.size()))];
    };
    std::printf("FULFILMENT lag_p50_ms=%.1f lag_p99_ms=%.1f lag_max_ms=%.1f confirmed_per_s=%.0f "
                "drain_after_run_s=%.2f%s\n",
                lag(0.5), lag(0.99), lag_ms.empty() ? 0.0 : lag_ms.back(),
                static_cast<double>(confirmed) / elapsed, drain_s, drained ? "" : " (not drained)");
  }
  (void)r.stop();
  if (own_dir)
    std::filesystem::remove_all(o.data);
  return 0;
}
