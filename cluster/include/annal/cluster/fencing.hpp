// Epoch fencing: the owner-side check that a forwarded command was sent for a shard this
// node owns, at the epoch it owns it. A stale sender (an old map, a shard that moved) is
// refused before anything runs, so two nodes never write one shard.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "annal/cluster/shard_map.hpp"
#include "annal/result.hpp"

namespace annal::cluster {

/// Ok when `self` owns `shard` at `epoch` in `map` and `stream_id` maps to `shard`.
/// Errors: unavailable (another owner, or another epoch: the sender's map is stale; it may
/// retry after refreshing it), bad_request (no such shard, or the stream belongs to another
/// shard: the sender's shard count differs).
status check_ownership(const shard_map& map, const std::string& self, std::string_view stream_id,
                       uint16_t shard, uint64_t epoch);

/// Ok when `self` owns `shard` at `epoch` in `map` (a shard read). Errors as above.
status check_shard_ownership(const shard_map& map, const std::string& self, uint16_t shard,
                             uint64_t epoch);

} // namespace annal::cluster
