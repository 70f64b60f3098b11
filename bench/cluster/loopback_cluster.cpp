#include "cluster/loopback_cluster.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iterator>
#include <sstream>
#include <thread>

#include "annal/testing/loopback_port.hpp"

namespace annal::bench {

loopback_cluster::loopback_cluster(std::filesystem::path dir, std::string node_binary, int nodes,
                                   std::vector<std::string> extra_args)
  : dir_(std::move(dir)), binary_(std::move(node_binary)), extra_args_(std::move(extra_args)) {
  for (int i = 0; i < nodes; ++i)
    ids_.push_back(std::string(1, static_cast<char>('a' + i)));
  map_ = cluster::shard_map::assign(ids_, 64);
  std::ofstream{dir_ / "secret"} << "cluster-bench-secret-0123456789\n";
  nlohmann::json j;
  j["secret_file"] = (dir_ / "secret").string();
  j["shard_count"] = 64;
  for (const auto& id : ids_)
    j["members"].push_back({{"id", id}, {"host", "127.0.0.1"}, {"port", annal::testing::free_port()}});
  std::ofstream{dir_ / "cluster.json"} << j.dump(2);
}

loopback_cluster::~loopback_cluster() {
  for (auto& n : nodes_)
    if (n->running() && !n->terminate(std::chrono::seconds(30)).exited)
      n->kill9();
}

std::string loopback_cluster::start() {
  for (const auto& id : ids_) {
    auto node = std::make_unique<soak::node_child>();
    std::vector<std::string> argv{binary_, "--data", (dir_ / ("data-" + id)).string(), "--http", "127.0.0.1:0",
                                  "--node-id", id, "--cluster-config", (dir_ / "cluster.json").string()};
    argv.insert(argv.end(), extra_args_.begin(), extra_args_.end());
    auto error = node->start(argv, dir_ / ("node-" + id + ".log"), std::chrono::seconds(60));
    nodes_.push_back(std::move(node));
    if (!error.empty())
      return "node " + id + ": " + error + "\n" + soak::tail_of(dir_ / ("node-" + id + ".log"));
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!all_up()) {
    if (std::chrono::steady_clock::now() > deadline)
      return "the nodes did not see each other up within 30 s";
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return {};
}

shop::client::shop_client loopback_cluster::client(std::size_t i) const {
  return shop::client::shop_client{"127.0.0.1", nodes_.at(i)->port(),
                                   shop::client::client_options{{}, std::chrono::seconds(10)}};
}

std::size_t loopback_cluster::owner_of_sku(const std::string& sku) const {
  auto owner = map_.owner(map_.shard_of("product-" + sku)).node;
  return static_cast<std::size_t>(std::find(ids_.begin(), ids_.end(), owner) - ids_.begin());
}

uint16_t loopback_cluster::shard_of_sku(const std::string& sku) const {
  return map_.shard_of("product-" + sku);
}

double loopback_cluster::cpu_seconds() const {
  double sum = 0;
  for (const auto& n : nodes_) {
    // /proc/PID/stat: after "(comm)", fields 14 and 15 are utime and stime in clock ticks.
    std::ifstream in{"/proc/" + std::to_string(n->pid()) + "/stat"};
    std::string text{std::istreambuf_iterator<char>{in}, {}};
    auto close = text.rfind(')');
    if (close == std::string::npos)
      continue;
    std::istringstream fields{text.substr(close + 2)};
    std::string f;
    double ticks = 0;
    for (int i = 3; i <= 15 && fields >> f; ++i)
      if (i >= 14)
        ticks += std::stod(f);
    sum += ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
  }
  return sum;
}

bool loopback_cluster::all_up() const {
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    auto r = client(i).get("/cluster/status");
    if (r.status != 200)
      return false;
    for (const auto& m : r.json["members"])
      if (m["id"] != ids_[i] && m["health"] != "up")
        return false;
  }
  return true;
}

} // namespace annal::bench
