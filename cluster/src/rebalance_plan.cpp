#include "rebalance_plan.hpp"

#include <algorithm>
#include <map>

#include <nlohmann/json.hpp>

#include "annal/cluster/rebalance.hpp"

namespace annal::cluster {

std::string to_json(const rebalance_report& r) {
  auto moves = nlohmann::json::array();
  for (const auto& m : r.moves)
    moves.push_back(nlohmann::json::parse(to_json(m)));
  return nlohmann::json{{"moves", std::move(moves)}}.dump();
}

namespace detail {

std::optional<planned_move> next_move(const shard_map& map, const std::vector<std::string>& members,
                                      const std::string& draining) {
  std::map<std::string, std::vector<uint16_t>> owned; // sorted by id: ties go to the smaller
  for (const auto& m : members)
    owned[m];
  for (uint16_t s = 0; s < map.shard_count(); ++s)
    if (auto i = owned.find(map.owner(s).node); i != owned.end())
      i->second.push_back(s);
  const std::vector<uint16_t>* fewest = nullptr;
  const std::string* receiver = nullptr;
  for (const auto& [id, shards] : owned)
    if (id != draining && (!fewest || shards.size() < fewest->size())) {
      fewest = &shards;
      receiver = &id;
    }
  if (!receiver)
    return std::nullopt;
  auto donor = owned.end();
  if (auto d = owned.find(draining); d != owned.end() && !d->second.empty())
    donor = d;
  else
    for (auto i = owned.begin(); i != owned.end(); ++i)
      if (i->first != draining && (donor == owned.end() || i->second.size() > donor->second.size()))
        donor = i;
  if (donor->first != draining && donor->second.size() <= fewest->size() + 1)
    return std::nullopt;
  return planned_move{donor->second.back(), donor->first, *receiver};
}

} // namespace detail

} // namespace annal::cluster
