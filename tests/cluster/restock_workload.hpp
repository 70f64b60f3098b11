// A restock workload for the shard-move and join tests: clients restock skus through a
// node, each command with an Idempotency-Key retried on 503 (a shard pausing for a move)
// until acknowledged, and what was acknowledged, to check against the journals and the
// read models afterwards.
#pragma once

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "shop_cluster_fixture.hpp"

namespace annal::test::restocks {

/// An acknowledged restock: its key (the command id), its version and shard position.
struct restock_ack {
  std::string key;
  uint64_t version = 0;
  std::string token; // "<shard>:<shard position>"
};

struct workload {
  std::mutex mx;
  std::map<std::string, std::vector<restock_ack>> acks; // by sku
  std::atomic<int> refused{0};                          // 503s retried with the same key
  std::atomic<int> failed{0};                           // anything else
  std::atomic<bool> stop{false};

  /// Acknowledged restocks so far.
  std::size_t acked() {
    std::lock_guard<std::mutex> lock{mx};
    std::size_t n = 0;
    for (const auto& [sku, v] : acks)
      n += v.size();
    return n;
  }
};

/// Restocks `skus` (from the worker's offset on) through node `via` until told to stop; a
/// 503 is retried with the same Idempotency-Key, so each key acts at most once.
inline void restock_loop(cluster_fixture& f, const std::string& via, const std::vector<std::string>& skus,
                         int worker, workload& w) {
  auto c = f.client(via);
  for (int i = 0; i < 2000 && !w.stop; ++i) {
    const auto& sku = skus[static_cast<std::size_t>(i + worker) % skus.size()];
    auto key = via + "-" + std::to_string(worker) + "-" + std::to_string(i);
    for (int attempt = 0; attempt < 400; ++attempt) {
      auto r = c.post("/inventory/" + sku + "/restock", nlohmann::json{{"quantity", 1}},
                      {{"Idempotency-Key", key}});
      if (r.status == 200) {
        std::lock_guard<std::mutex> lock{w.mx};
        w.acks[sku].push_back({key, r.json["version"].get<uint64_t>(), r.json.value("read_token", "")});
        break;
      }
      if (r.status != 503) {
        ++w.failed;
        UNSCOPED_INFO("restock " << key << " via " << via << ": " << r.status << " " << r.text);
        break;
      }
      ++w.refused;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
}

/// The events of `stream` in node `node`'s own journal.
inline nlohmann::json stream_events(cluster_fixture& f, const std::string& node, const std::string& stream) {
  auto r = f.client(node).get("/streams/" + stream + "/events?from=1&limit=1000");
  REQUIRE(r.status == 200);
  return r.json["events"];
}

/// {"shard", "owner", "epoch"} of `shard` in node `node`'s map.
inline nlohmann::json shard_owner(cluster_fixture& f, const std::string& node, int shard) {
  auto r = f.client(node).get("/cluster/status");
  REQUIRE(r.status == 200);
  return r.json["shards"][static_cast<std::size_t>(shard)];
}

} // namespace annal::test::restocks
