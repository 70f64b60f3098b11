// Internal: the states of passivated instances, kept compact (serialized) and bounded by
// bytes, so that activating one again reads only the events after its state instead of
// replaying its stream. A live instance costs ~2 KB (an actor and its queues); a small
// aggregate's serialized state a few dozen bytes, so far more states than instances fit.
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
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

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
  struct entry {
    passivated_state state;
    std::list<std::string>::iterator age; // into order_
    std::size_t cost = 0;
  };
  // Bytes an entry holds: its id (twice: map key and order), its state, and the nodes.
  static std::size_t cost_of(const std::string& stream_id, const passivated_state& s) noexcept;
  void erase(std::unordered_map<std::string, entry>::iterator it);

  const std::size_t budget_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, entry> entries_;
  std::list<std::string> order_; // front: the oldest put
  std::size_t bytes_ = 0;
  uint64_t epoch_ = 0;
  uint64_t hits_ = 0;
  uint64_t misses_ = 0;
};

} // namespace annal::detail
