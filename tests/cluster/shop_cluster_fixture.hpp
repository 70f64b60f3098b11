// Shop-node processes on 127.0.0.1 as one cluster, for the process tests: ports chosen
// free at run time, a cluster file (and one with a wrong secret) in a temp folder, each
// node started and stopped on its own, and which node owns a stream's shard.
#pragma once

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <fstream>
#include <map>
#include <stdexcept>
#include <memory>
#include <string>
#include <vector>

#include "annal/cluster/shard_map.hpp"
#include "cluster_harness.hpp"
#include "node_process.hpp"
#include "shop_client.hpp"
#include "temp_dir.hpp"

namespace annal::test {

inline const std::vector<std::string> ids = {"a", "b", "c"};

/// Writes a cluster file for `ports`; `secret_file` names the secret a node reads, `extra`
/// holds further top-level keys (e.g. TLS files).
inline void write_config(const std::filesystem::path& file, const std::map<std::string, uint16_t>& ports,
                         const std::filesystem::path& secret_file, const nlohmann::json& extra = {}) {
  nlohmann::json j = extra.is_object() ? extra : nlohmann::json::object();
  j["secret_file"] = secret_file.string();
  j["shard_count"] = 64;
  for (const auto& [id, port] : ports)
    j["members"].push_back({{"id", id}, {"host", "127.0.0.1"}, {"port", port}});
  std::ofstream{file} << j.dump(2);
}

struct cluster_fixture {
  annal::test::temp_dir dir;
  std::vector<std::string> members;
  std::map<std::string, uint16_t> ports;
  std::map<std::string, std::unique_ptr<shop::test::node_process>> nodes;
  cluster::shard_map map;
  /// Options every node started from now on gets besides the cluster's (say, a short
  /// payment timeout).
  std::vector<std::string> node_args;

  explicit cluster_fixture(std::vector<std::string> member_ids = ids)
    : members(std::move(member_ids)), map(cluster::shard_map::assign(members, 64)) {
    for (const auto& id : members)
      ports[id] = annal::test::free_port();
    std::ofstream{dir / "secret"} << "the-shop-cluster-secret-0123456789\n";
    std::ofstream{dir / "wrong-secret"} << "not-the-secret-of-this-cluster-xx\n";
    write_config(dir / "cluster.json", ports, dir / "secret");
    write_config(dir / "wrong.json", ports, dir / "wrong-secret");
  }

  /// Starts every member and requires every link up within 15 s.
  void start_all() {
    for (const auto& id : members)
      start(id);
    REQUIRE(shop::test::eventually([&] { return all_up(); }, std::chrono::seconds(15)));
  }

  /// Starts node `id` with the cluster file `config` (in dir); throws when it does not come up.
  void start(const std::string& id, const std::string& config = "cluster.json") {
    std::vector<std::string> args{"--node-id", id, "--cluster-config", (dir / config).string()};
    args.insert(args.end(), node_args.begin(), node_args.end());
    nodes[id] = std::make_unique<shop::test::node_process>(dir / ("data-" + id), std::move(args));
  }

  shop::test::shop_client client(const std::string& id) const {
    return shop::test::shop_client{nodes.at(id)->host(), nodes.at(id)->port()};
  }

  /// The health of `peer` as node `id` sees it.
  std::string health(const std::string& id, const std::string& peer) const {
    auto r = client(id).get("/cluster/status");
    if (r.status != 200)
      return "no answer";
    for (const auto& m : r.json["members"])
      if (m["id"] == peer)
        return m["health"].get<std::string>();
    return "absent";
  }

  /// True when every running node sees every other member up.
  bool all_up() const {
    for (const auto& [id, node] : nodes)
      for (const auto& peer : members)
        if (peer != id && health(id, peer) != "up")
          return false;
    return true;
  }

  std::string owner_of_stream(const std::string& stream) const { return map.owner(map.shard_of(stream)).node; }
  std::string owner_of_sku(const std::string& sku) const { return owner_of_stream("product-" + sku); }

  /// The first "<prefix><n>" whose stream "<category>-<prefix><n>" node `owner` owns.
  std::string id_owned_by(const std::string& owner, const std::string& category,
                          const std::string& prefix) const {
    for (int i = 0; i < 100000; ++i)
      if (owner_of_stream(category + "-" + prefix + std::to_string(i)) == owner)
        return prefix + std::to_string(i);
    throw std::runtime_error("no id owned by " + owner);
  }

  std::string log_of(const std::string& id) const { return nodes.at(id)->log(); }

  /// Stops node `id` with SIGTERM and checks that it exits with 0; when it does not, its
  /// log is shown (the sanitizers' reports go there).
  bool stop(const std::string& id) {
    int code = nodes.at(id)->terminate();
    INFO("node " << id << " exited with " << code << "; its log:\n" << (code == 0 ? std::string{} : log_of(id)));
    CHECK(code == 0);
    return code == 0;
  }
};

} // namespace annal::test
