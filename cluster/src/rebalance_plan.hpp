// Internal: the next move that evens out a shard map among members, one shard at a time.
// Pure: the rebalancer asks again after each move, with the map as it is then.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "annal/cluster/shard_map.hpp"

namespace annal::cluster::detail {

struct planned_move {
  uint16_t shard = 0;
  std::string from;
  std::string to;
};

/// The next move among `members`: while `draining` (a member, or empty) owns a shard, one
/// of its shards to the member owning fewest (not `draining`); otherwise one shard of the
/// member owning most to the one owning fewest, while they differ by more than one. Ties
/// go to the smaller id; the shard moved is the donor's highest. None when balanced,
/// or when no member could receive. Shards of owners outside `members` stay put.
std::optional<planned_move> next_move(const shard_map& map, const std::vector<std::string>& members,
                                      const std::string& draining = {});

} // namespace annal::cluster::detail
