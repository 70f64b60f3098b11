// N shop-node processes on 127.0.0.1 as one cluster, for the cluster benchmark: a
// cluster file with free ports and a secret file in the bench folder, each node started
// with its own data folder and log, stopped (SIGTERM, then SIGKILL by PID) on destruction.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <shop/client/shop_client.hpp>

#include "annal/cluster/shard_map.hpp"
#include "soak/child_process.hpp"

namespace annal::bench {

class loopback_cluster {
public:
  /// Writes the files for members "a", "b", ... (`nodes` of them) under `dir`; start()
  /// runs them, each with `extra_args` at the end of its command line.
  loopback_cluster(std::filesystem::path dir, std::string node_binary, int nodes,
                   std::vector<std::string> extra_args = {});
  ~loopback_cluster();
  loopback_cluster(const loopback_cluster&) = delete;
  loopback_cluster& operator=(const loopback_cluster&) = delete;

  /// Starts every node and waits until each sees every peer up. "" or what went wrong.
  std::string start();

  const std::vector<std::string>& ids() const noexcept { return ids_; }
  /// A client of node `i`'s HTTP front.
  shop::client::shop_client client(std::size_t i) const;
  /// CPU-seconds (user + system) the node processes have used so far, summed.
  double cpu_seconds() const;
  /// Index of the node owning product `sku`'s shard (in the map the cluster started with).
  std::size_t owner_of_sku(const std::string& sku) const;
  /// The shard of product `sku`.
  uint16_t shard_of_sku(const std::string& sku) const;

private:
  bool all_up() const;

  std::filesystem::path dir_;
  std::string binary_;
  std::vector<std::string> extra_args_;
  std::vector<std::string> ids_;
  cluster::shard_map map_;
  std::vector<std::unique_ptr<soak::node_child>> nodes_;
};

} // namespace annal::bench
