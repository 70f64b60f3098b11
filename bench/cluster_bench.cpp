// The shop as a cluster (issue 12): throughput of 1, 2 and 3 shop-node processes on this
// one machine, and the latency a forwarded command adds. Every node runs on the same cores,
// so more nodes share the same CPU and disk: the figures say what the forwarding costs, not
// how a cluster of machines scales (docs/architecture.md models that from them).
//
//   cluster_bench [--quick] [--seconds S] [--clients C] [--dir DIR] [--nodes-min N] [--nodes-max N]
//                 [--no-forward-cases] [--move-sizes N,N,...] [-- NODE ARGS...]
//
// Workload: C client threads, thread t sending through node t mod N, each creating
// products (a new stream per command, durable) back to back for S seconds; a product's
// shard decides its owner, so (N-1)/N of the commands are forwarded. Baselines from the
// same run: the raw fsync rate and the raw durable LMDB single-commit rate of this disk.
// With 2 and more nodes, also: how soon a product created through the first node shows in
// the last node's read models (cluster read models over every shard, pushed by owners).
// With 2 nodes: a shard move's pause (commands for the shard refused) and its whole time,
// against the shard's size (events; --move-sizes, default 1000,10000,100000; --quick
// 1000,10000), each shard filled by creating its products through both nodes, then moved
// from a to b while nothing else runs.
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <iomanip>
#include <sstream>
#include <iostream>
#include <mutex>
#include <string>
#include <algorithm>
#include <thread>
#include <vector>

#include "cluster/loopback_cluster.hpp"
#include "support/bench_dir.hpp"
#include "support/bench_output.hpp"
#include "support/fsync_probe.hpp"
#include "support/raw_lmdb_journal.hpp"
#include "support/stats.hpp"

using namespace annal::bench;

namespace {

struct options {
  bool quick = false;
  double seconds = 10;
  int clients = 16;
  int nodes_max = 3;
  int nodes_min = 1;
  bool forward_cases = true; // the 2-node latency and CPU of a forward
  int latency_samples = 400;
  std::filesystem::path dir;
  std::vector<std::string> node_args; // after --: passed to every node
  std::vector<int> move_sizes{1000, 10000, 100000};
};

options parse(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&] { return i + 1 < argc ? std::string{argv[++i]} : std::string{}; };
    if (a == "--quick") {
      o.quick = true;
      o.seconds = 3;
      o.latency_samples = 150;
      o.move_sizes = {1000, 10000};
    } else if (a == "--move-sizes") {
      o.move_sizes.clear();
      std::stringstream list{next()};
      for (std::string n; std::getline(list, n, ',');)
        if (std::atoi(n.c_str()) > 0)
          o.move_sizes.push_back(std::atoi(n.c_str()));
    } else if (a == "--seconds") {
      o.seconds = std::atof(next().c_str());
    } else if (a == "--clients") {
      o.clients = std::atoi(next().c_str());
    } else if (a == "--nodes-max") {
      o.nodes_max = std::atoi(next().c_str());
    } else if (a == "--nodes-min") {
      o.nodes_min = std::atoi(next().c_str());
    } else if (a == "--") {
      o.node_args.assign(argv + i + 1, argv + argc);
      break;
    } else if (a == "--no-forward-cases") {
      o.forward_cases = false;
    } else if (a == "--dir") {
      o.dir = next();
    } else {
      std::cerr << "usage: cluster_bench [--quick] [--seconds S] [--clients C] [--nodes-min N] [--nodes-max N]\n"
                   "                     [--no-forward-cases] [--dir DIR] [-- NODE ARGS...]\n";
      std::exit(2);
    }
  }
  return o;
}

// Durable single-event commits per second of plain LMDB on this disk for `seconds`.
double raw_commit_rate(const std::filesystem::path& dir, double seconds) {
  raw_lmdb_journal raw{dir, false};
  if (!raw.ok())
    return 0;
  std::string value(200, 'x');
  std::size_t commits = 0;
  auto start = bench_clock::now();
  while (seconds_since(start) < seconds && raw.append_batch(1, value))
    ++commits;
  return static_cast<double>(commits) / seconds_since(start);
}

struct load_result {
  double per_s = 0;
  double node_cpu_us_per_command = 0; // CPU of every node process per acknowledged command
  std::vector<double> latencies_us;
  std::size_t errors = 0;
  std::string first_error;
};

// Which products a drive creates, and through which node.
struct route {
  bool all_via_first = false; // else thread t sends through node t mod N
  int owner = -1;             // >= 0: only products that node owns
};

// C threads creating products through the nodes for `seconds`.
load_result drive(const loopback_cluster& c, const options& o, const std::string& tag, route how = {}) {
  std::mutex mx;
  load_result r;
  std::atomic<std::size_t> ok{0};
  auto cpu0 = c.cpu_seconds();
  auto start = bench_clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < o.clients; ++t)
    threads.emplace_back([&, t] {
      auto client = c.client(how.all_via_first ? 0 : static_cast<std::size_t>(t) % c.ids().size());
      std::vector<double> mine;
      for (int i = 0; seconds_since(start) < o.seconds; ++i) {
        auto sku = tag + "-" + std::to_string(t) + "-" + std::to_string(i);
        if (how.owner >= 0 && c.owner_of_sku(sku) != static_cast<std::size_t>(how.owner))
          continue;
        auto t0 = bench_clock::now();
        auto reply = client.create_product(sku, "Bench item", 100);
        mine.push_back(seconds_since(t0) * 1e6);
        if (reply.status == 201) {
          ++ok;
          continue;
        }
        std::lock_guard<std::mutex> guard{mx};
        if (r.errors++ == 0)
          r.first_error = std::to_string(reply.status) + " " + reply.text;
      }
      std::lock_guard<std::mutex> guard{mx};
      r.latencies_us.insert(r.latencies_us.end(), mine.begin(), mine.end());
    });
  for (auto& t : threads)
    t.join();
  r.per_s = static_cast<double>(ok) / seconds_since(start);
  if (ok > 0)
    r.node_cpu_us_per_command = (c.cpu_seconds() - cpu0) * 1e6 / static_cast<double>(ok);
  return r;
}

// p50 of `n` sequential creations through node 0 of products node `owner` owns.
double sequential_p50_us(const loopback_cluster& c, std::size_t owner, int n, const std::string& tag) {
  auto client = c.client(0);
  std::vector<double> us;
  for (int i = 0; static_cast<int>(us.size()) < n && i < 100 * n; ++i) {
    auto sku = tag + "-" + std::to_string(i);
    if (c.owner_of_sku(sku) != owner)
      continue;
    auto t0 = bench_clock::now();
    auto reply = client.create_product(sku, "Bench item", 100);
    if (reply.status == 201)
      us.push_back(seconds_since(t0) * 1e6);
  }
  return median(us);
}

// How long after a creation through node 0 is acknowledged the product shows in the read
// models of the last node (its cluster read models, fed by the owners' pushes): polled
// every 0.5 ms, `n` products one at a time. Products of every owner. Microseconds, sorted.
std::vector<double> visibility_us(const loopback_cluster& c, int n, const std::string& tag) {
  auto writer = c.client(0);
  auto reader = c.client(c.ids().size() - 1);
  std::vector<double> us;
  for (int i = 0; i < n; ++i) {
    auto sku = tag + "-" + std::to_string(i);
    if (writer.create_product(sku, "Bench item", 100).status != 201)
      continue;
    auto t0 = bench_clock::now();
    while (reader.get("/products/" + sku).status != 200 && seconds_since(t0) < 5)
      std::this_thread::sleep_for(std::chrono::microseconds(500));
    us.push_back(seconds_since(t0) * 1e6);
    std::this_thread::sleep_for(std::chrono::milliseconds(20)); // idle between: the push, not a round
  }
  std::sort(us.begin(), us.end());
  return us;
}

// Fills a shard node 0 owns with `events` product creations (C threads through both
// nodes), moves it to node 1 and returns the move's report (empty on failure).
nlohmann::json fill_and_move(const loopback_cluster& c, const options& o, int events, const std::string& tag) {
  uint16_t shard = 0;
  for (int i = 0;; ++i) {
    auto sku = tag + "-probe-" + std::to_string(i);
    if (c.owner_of_sku(sku) == 0) {
      shard = c.shard_of_sku(sku);
      break;
    }
  }
  std::atomic<int> made{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < o.clients; ++t)
    threads.emplace_back([&, t] {
      auto client = c.client(static_cast<std::size_t>(t) % 2);
      for (int i = 0; made < events && i < 1000 * events; ++i) {
        auto sku = tag + "-" + std::to_string(t) + "-" + std::to_string(i);
        if (c.shard_of_sku(sku) != shard)
          continue;
        if (client.create_product(sku, "Moving item", 100).status == 201)
          ++made;
      }
    });
  for (auto& t : threads)
    t.join();
  auto reply = c.client(0).post("/cluster/shards/" + std::to_string(shard) + "/move", {{"to", c.ids()[1]}});
  if (reply.status != 200) {
    std::cerr << "moving shard " << shard << ": " << reply.status << " " << reply.text << "\n";
    return {};
  }
  return reply.json;
}

std::string decimals(double v, int digits) {
  std::ostringstream out;
  out << std::fixed << std::setprecision(digits) << v;
  return out.str();
}

void line(const std::string& c, const std::string& metric, double value, double baseline = 0) {
  json_line l;
  l.str("bench", "cluster").str("case", c).str("metric", metric).num("value", value, 1);
  if (baseline > 0)
    l.num("baseline", baseline, 1).num("ratio", value / baseline, 3);
  l.print();
}

} // namespace

int main(int argc, char** argv) {
  auto o = parse(argc, argv);
  bench_dir root{o.dir, "annal-cluster-bench"};
  if (!root.ok()) {
    std::cerr << root.error() << "\n";
    return 1;
  }
  auto probe = fsync_probe(root.path());
  bench_dir raw_dir{root.path(), "raw"};
  double raw_commits = raw_commit_rate(raw_dir.path(), o.quick ? 1 : 3);
  env_line("durable")
    .num("fsync_us", probe.median_us, 1)
    .num("fsync_per_s", probe.per_s, 0)
    .num("raw_lmdb_commits_per_s", raw_commits, 0)
    .str("fs", fs_type(root.path()))
    .integer("clients", o.clients)
    .boolean("quick", o.quick)
    .print();
  text_table table{{"nodes", "commands/s", "p50 ms", "p99 ms", "node CPU µs/cmd", "errors", "vs 1 node"}};
  double one_node = 0;
  for (int n = o.nodes_min; n <= o.nodes_max; ++n) {
    bench_dir dir{root.path(), "nodes-" + std::to_string(n)};
    loopback_cluster c{dir.path(), CLUSTER_BENCH_SHOP_NODE, n, o.node_args};
    if (auto error = c.start(); !error.empty()) {
      std::cerr << n << " nodes: " << error << "\n";
      return 1;
    }
    // What the nodes burn with nothing to do (CAF's workers polling, heartbeats), so that
    // the CPU per command below can be read with it in mind.
    auto idle0 = c.cpu_seconds();
    std::this_thread::sleep_for(std::chrono::seconds(1));
    auto idle_cpu_share = c.cpu_seconds() - idle0;
    auto r = drive(c, o, "n" + std::to_string(n));
    if (n == 1)
      one_node = r.per_s;
    auto name = "nodes_" + std::to_string(n);
    line(name, "commands_per_s", r.per_s, raw_commits);
    line(name, "p50_us", quantile(r.latencies_us, 0.5), probe.median_us);
    line(name, "p99_us", quantile(r.latencies_us, 0.99), probe.median_us);
    line(name, "node_cpu_us_per_command", r.node_cpu_us_per_command);
    line(name, "idle_node_cpu_s_per_s", idle_cpu_share);
    line(name, "errors", static_cast<double>(r.errors));
    if (n >= 2) {
      auto seen = visibility_us(c, o.latency_samples / 4, "seen-" + std::to_string(n));
      line(name, "read_model_visible_p50_us", quantile(seen, 0.5), probe.median_us);
      line(name, "read_model_visible_p99_us", quantile(seen, 0.99), probe.median_us);
    }
    if (r.errors > 0)
      std::cerr << name << ": " << r.errors << " errors, first: " << r.first_error << "\n";
    table.add({std::to_string(n), decimals(r.per_s, 0), decimals(quantile(r.latencies_us, 0.5) / 1000, 2),
               decimals(quantile(r.latencies_us, 0.99) / 1000, 2), decimals(r.node_cpu_us_per_command, 0),
               std::to_string(r.errors), one_node > 0 ? decimals(r.per_s / one_node, 2) : "-"});
    if (n == 2 && o.forward_cases) {
      // Sequential, one request at a time: the hop itself, not queueing behind others.
      auto local = sequential_p50_us(c, 0, o.latency_samples, "lat-local");
      auto forwarded = sequential_p50_us(c, 1, o.latency_samples, "lat-fwd");
      line("forward_latency", "local_p50_us", local, probe.median_us);
      line("forward_latency", "forwarded_p50_us", forwarded, probe.median_us);
      line("forward_latency", "added_p50_us", forwarded - local, probe.median_us);
      // The CPU a forward adds: every client through a, products of a, then products of b
      // (the CPU of both nodes, per acknowledged command).
      auto through_owner = drive(c, o, "cpu-local", route{true, 0});
      auto forwarded_load = drive(c, o, "cpu-fwd", route{true, 1});
      line("forward_cpu", "local_node_cpu_us_per_command", through_owner.node_cpu_us_per_command);
      line("forward_cpu", "forwarded_node_cpu_us_per_command", forwarded_load.node_cpu_us_per_command);
      line("forward_cpu", "local_commands_per_s", through_owner.per_s, raw_commits);
      line("forward_cpu", "forwarded_commands_per_s", forwarded_load.per_s, raw_commits);
      std::cerr << "forwarded command p50 " << forwarded / 1000 << " ms against " << local / 1000
                << " ms through its owner\n";
    }
    if (n == 2)
      for (int size : o.move_sizes) {
        auto report = fill_and_move(c, o, size, "move-" + std::to_string(size));
        if (report.is_null())
          return 1;
        auto move_case = "move_shard_" + std::to_string(size);
        line(move_case, "events", report["head"].get<double>());
        line(move_case, "pause_ms", report["pause_ms"].get<double>());
        line(move_case, "total_ms", report["total_ms"].get<double>());
        std::cerr << "moved a shard of " << report["head"] << " events: pause " << report["pause_ms"]
                  << " ms, all " << report["total_ms"] << " ms\n";
      }
  }
  table.print("cluster");
  return 0;
}
