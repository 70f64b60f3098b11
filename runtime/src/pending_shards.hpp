// Internal: what a node's process managers know of the shards it took over whose process
// state (rows and timers) is still on its way from the shard's old owner.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace annal::detail {

/// The shards whose rows this node expects from their old owner, and the shards whose
/// events its managers hold back for them. Thread-safe.
///
/// Two views of one mark, because they change at different instants: `contains` (the
/// keys a manager writes for the shard are noted) ends inside the merge's transaction,
/// where read-model writers take turns; `awaits` (a manager defers the shard's events)
/// ends only once the merged rows are visible to readers (`arrived`, after the commit),
/// or when the mark is older than the wait bound (the old owner gone for good).
class pending_shards {
public:
  using clock = std::chrono::steady_clock;

  /// How long a take-over's events wait for the old owner's rows, at most.
  void set_wait_bound(std::chrono::milliseconds bound) { bound_ = bound; }

  /// True while the rows of `shard` are expected (until the merge's transaction).
  bool contains(uint16_t shard) const;
  /// Marks `shard` as expecting rows or not (the wait bound counts from the take-over).
  void set(uint16_t shard, bool pending);
  /// The rows of `shard` were merged and committed: its held-back events may run.
  /// Wakes every listener.
  void arrived(uint16_t shard);
  /// True while a manager should hold back the events of `shard` (`at`: now).
  bool awaits(uint16_t shard, clock::time_point at) const;
  /// When the wait for `shard`'s rows ends by the bound, if it waits.
  std::optional<clock::time_point> wait_ends(uint16_t shard) const;
  /// True when no shard awaits rows and no manager holds events back (a cheap check).
  bool idle() const noexcept { return active_.load(std::memory_order_acquire) == 0; }

  /// Manager `name` holds back events of `shard` (or no longer does).
  void hold(uint16_t shard, const std::string& name, bool held);
  /// True while some manager holds back events of `shard`.
  bool held(uint16_t shard) const;

  /// Calls `fn` (from the thread that calls arrived) whenever a shard's rows arrived.
  void on_arrival(std::function<void()> fn);

  /// Counts a take-over of `shard` (expect_process_shard); its wait starts now.
  void note_take(uint16_t shard);
  uint64_t takes(uint16_t shard) const;

private:
  void recount(); // active_ from the sets; mx_ held

  mutable std::mutex mx_;
  std::chrono::milliseconds bound_{std::chrono::minutes(5)};
  std::set<uint16_t> shards_;
  std::map<uint16_t, clock::time_point> waiting_;      // shard → marked at
  std::map<uint16_t, std::set<std::string>> holders_;  // shard → managers holding events
  std::map<uint16_t, uint64_t> takes_;                  // since the runtime started
  std::vector<std::function<void()>> listeners_;
  std::atomic<std::size_t> active_{0};
};

} // namespace annal::detail
