// Which node owns which shard, at which epoch. An aggregate's shard is the one format 3
// stores with its events (XXH3-64 of the stream id, seed 0, modulo the shard count), so the
// map and the journals agree. The epoch rises each time a shard changes owner (a move or a
// failover, later slices): an owner refuses commands sent for another epoch (fencing).
//
// Thread safety: a value; const functions are safe from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace annal::cluster {

/// The owner of one shard and the epoch of that ownership (from 1).
struct shard_owner {
  std::string node;
  uint64_t epoch = 1;

  friend bool operator==(const shard_owner& a, const shard_owner& b) {
    return a.node == b.node && a.epoch == b.epoch;
  }
};

class shard_map {
public:
  shard_map() = default;

  /// The initial map: shard s goes to the s-th member (modulo their count) in the order of
  /// their sorted ids, epoch 1, so that every node computes the same map from the same
  /// member list. Preconditions: shard_count > 0, member_ids not empty.
  static shard_map assign(std::vector<std::string> member_ids, uint16_t shard_count);

  /// The shard of a stream: the function the journal (format 3) uses.
  uint16_t shard_of(std::string_view stream_id) const noexcept;

  uint16_t shard_count() const noexcept { return static_cast<uint16_t>(owners_.size()); }
  /// The owner of `shard` (< shard_count()).
  const shard_owner& owner(uint16_t shard) const { return owners_.at(shard); }
  /// Replaces the owner of `shard` (< shard_count()).
  void set_owner(uint16_t shard, shard_owner o) { owners_.at(shard) = std::move(o); }
  /// The shards `node` owns, ascending.
  std::vector<uint16_t> shards_of(const std::string& node) const;

private:
  std::vector<shard_owner> owners_;
};

} // namespace annal::cluster
