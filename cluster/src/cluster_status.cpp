#include "annal/cluster/cluster_status.hpp"

#include <nlohmann/json.hpp>

namespace annal::cluster {

const char* to_string(link_state s) noexcept {
  switch (s) {
    case link_state::down: return "down";
    case link_state::connecting: return "connecting";
    case link_state::up: return "up";
    case link_state::refused: return "refused";
  }
  return "down";
}

std::string to_json(const cluster_status& s) {
  nlohmann::json j;
  j["node"] = s.node_id;
  j["tls"] = s.tls;
  j["shard_count"] = s.shards.shard_count();
  auto& members = j["members"] = nlohmann::json::array();
  for (const auto& m : s.members)
    members.push_back({{"id", m.id}, {"host", m.host}, {"port", m.port}, {"joins", m.joins}, {"self", m.self},
                       {"health", to_string(m.state)}, {"last_error", m.last_error},
                       {"connects", m.connects}, {"shards", m.shards}});
  auto& shards = j["shards"] = nlohmann::json::array();
  for (uint16_t i = 0; i < s.shards.shard_count(); ++i)
    shards.push_back({{"shard", i}, {"owner", s.shards.owner(i).node}, {"epoch", s.shards.owner(i).epoch}});
  j["awaiting_process_state"] = s.awaiting_process_state;
  return j.dump();
}

} // namespace annal::cluster
