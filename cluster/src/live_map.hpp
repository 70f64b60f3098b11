// Internal: the node's current shard map, changed by shard moves while every cluster actor
// and the runtime's forwarder read it. Starts as the configured map with this node's own
// journal records (hand-overs and take-overs) applied; later changes come from moves and
// from peers' maps (the higher epoch of a shard wins). Thread safety: every function locks.
#pragma once

#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>

#include "annal/cluster/shard_map.hpp"

namespace annal::cluster::detail {

class live_map {
public:
  /// Replaces the whole map (at join).
  void reset(shard_map map);

  /// Runs `fn(const shard_map&)` under the shared lock; keep it short.
  template <class F>
  auto with(F&& fn) const {
    std::shared_lock<std::shared_mutex> lock{mx_};
    return fn(static_cast<const shard_map&>(map_));
  }

  shard_map copy() const;
  shard_owner owner(uint16_t shard) const;
  uint16_t shard_count() const;

  /// Makes `o` the owner of `shard` when its epoch is higher than the current owner's;
  /// true when the map changed.
  bool adopt(uint16_t shard, const shard_owner& o);

private:
  mutable std::shared_mutex mx_;
  shard_map map_;
};

/// The map as bytes (for the wire): per shard, u64 epoch (big-endian), u8 owner length, owner.
std::string encode_map(const shard_map& map);
/// The map back; none when `bytes` is malformed or its shard count differs from `count`.
std::optional<shard_map> decode_map(const std::string& bytes, uint16_t count);

} // namespace annal::cluster::detail
