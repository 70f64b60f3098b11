// Internal: the states of passivated instances, kept compact (serialized) and bounded by
// bytes, so that activating one again reads only the events after its state instead of
// replaying its stream. A live instance costs ~2 KB (an actor and its queues); a small
// aggregate's serialized state a few dozen bytes, so far more states than instances fit --
// as long as the bookkeeping per entry stays small too: each entry is one allocation (its
// links, its id and its numbers as varints, its state zero-packed) and a slot of an
// open-addressing table (a pointer and the id's hash): ~66 bytes for a counter, against
// ~250 in node-based containers.
//
// Safety does not rest on the cache being current: an activation takes an entry as the
// starting point of a load (load_tail), which applies whatever the journal holds after
// it, and fails as any load would when the stream was deleted. What the journal cannot
// show is a shard that moved away and back (its events came back at new positions): the
// router clears the cache then, and an instance loaded before the clear does not put its
// state back (epochs).
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "annal/expected_version.hpp"

namespace annal::detail {

/// What an instance leaves behind when it passivates.
struct passivated_state {
  stream_version version = 0;
  global_position last_position = 0;
  uint64_t last_shard_position = 0;
  stream_version last_snapshot = 0;
  std::string bytes; // snapshot_payload<A>: the state and the recent successful command ids
};

/// Thread safety: every member may be called from any thread (instances of one type run
/// on several scheduler threads).
class passivated_states {
public:
  /// Keeps at most `budget` bytes of entries (ids, states and bookkeeping); 0 keeps none.
  explicit passivated_states(std::size_t budget) noexcept : budget_(budget) {}
  ~passivated_states();
  passivated_states(const passivated_states&) = delete;
  passivated_states& operator=(const passivated_states&) = delete;

  /// False when nothing is ever kept (the budget is 0): callers skip serializing.
  bool enabled() const noexcept { return budget_ > 0; }

  /// The current epoch: an instance records it when it loads, and passes it to put().
  uint64_t epoch() const;

  /// Keeps `s` as the state of `stream_id`, replacing any entry of it, and drops the least
  /// recently put entries beyond the budget. Ignored when `epoch` is not current (the
  /// cache was cleared since the instance loaded) or the entry alone exceeds the budget.
  void put(const std::string& stream_id, passivated_state s, uint64_t epoch);

  /// Removes and returns the entry of `stream_id`, if any.
  std::optional<passivated_state> take(const std::string& stream_id);

  /// Drops every entry and starts a new epoch (a shard moved).
  void clear();

  /// Entries kept, their bytes as counted against the budget, and hits and misses of take().
  std::size_t size() const;
  std::size_t bytes() const;
  uint64_t hits() const;
  uint64_t misses() const;

private:
  struct node; // one allocation: links, then the encoded id, numbers and state

  std::size_t slot_of(std::string_view stream_id, uint32_t hash) const; // or npos
  std::size_t next_slot(std::size_t slot) const noexcept;
  std::size_t slots_for(std::size_t entries) const noexcept; // never fewer than now
  void grow_for(std::size_t entries); // a larger table when `entries` would fill it too far
  void place(node* n, uint32_t hash) noexcept;
  void erase_slot(std::size_t slot);
  void rehash(std::size_t capacity);
  void unlink(node* n) noexcept;
  void erase(std::size_t slot); // the entry in `slot`: unlinked, freed, its bytes returned
  void free_all() noexcept;

  const std::size_t budget_;
  mutable std::mutex mutex_;
  std::vector<node*> slots_; // linear probing from each id's home slot; null = free
  std::vector<uint32_t> hashes_; // each slot's id's hash: probes and shifts skip the nodes
  std::size_t size_ = 0;
  node* oldest_ = nullptr; // the put order: oldest_ is dropped first
  node* newest_ = nullptr;
  std::size_t node_bytes_ = 0;
  uint64_t epoch_ = 0;
  uint64_t hits_ = 0;
  uint64_t misses_ = 0;
};

} // namespace annal::detail
