// The thread-safe window on one projection: its state and position, published by its
// actor and read by queries from any thread (read-your-writes waits here).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

#include "annal/projection.hpp"

namespace annal {

/// Thread safety: every member is safe to call from any thread.
class projection_monitor {
public:
  explicit projection_monitor(std::string name);

  /// Blocks until the projection has applied everything up to `position`, or `timeout`
  /// passed (false). Also false when the projection is faulted or stopped meanwhile.
  bool wait_for(global_position position, std::chrono::milliseconds timeout);

  /// A registered asynchronous wait (0: none; its callback ran or runs at once).
  using wait_ticket = uint64_t;

  /// Calls `done(true)` once the projection has applied everything up to `position`, or
  /// `done(false)` when it is faulted or stopped first. When that is known already, `done`
  /// runs at once on the calling thread and the ticket is 0; otherwise it runs later on the
  /// thread that updates the monitor (the projection's actor: keep it short, never block).
  /// Deadlines are the caller's: cancel() the ticket when yours passes.
  wait_ticket notify_when(global_position position, std::function<void(bool)> done);

  /// Forgets a wait. True when its callback had not run (it never will); false when it
  /// ran or is running.
  bool cancel(wait_ticket ticket);

  /// The current report: lag against `journal_head` (the newest position) and, in
  /// milliseconds, the age of `oldest_unapplied` (the commit time of the first event after
  /// the projection's position; 0 when unknown).
  projection_info info(global_position journal_head, timestamp_ns oldest_unapplied) const;

  global_position position() const noexcept { return position_.load(std::memory_order_acquire); }
  projection_state state() const noexcept;

  // -- updates from the projection's actor ------------------------------------------------

  /// Records that the model reflects every event up to `position`.
  void advance(global_position position);
  void set_state(projection_state s);
  void set_fault(global_position at, std::string error);
  /// Records a failure that will be retried: the state becomes catching_up (the retry
  /// resumes by reading the journal) and the error stays visible until it succeeds.
  void set_retrying(global_position at, std::string error);
  void set_rebuild_progress(uint64_t done, uint64_t total);
  void add_parked();
  /// Rewinds the position (rebuild).
  void reset_position();

private:
  struct waiter {
    wait_ticket ticket;
    std::function<void(bool)> done;
  };
  /// Takes the waiters that are decided now (under mx_); the caller runs them unlocked.
  std::vector<std::pair<std::function<void(bool)>, bool>> take_decided_locked();
  void run(std::vector<std::pair<std::function<void(bool)>, bool>> decided);

  std::string name_;
  std::atomic<global_position> position_{0};
  std::atomic<uint8_t> state_{0};
  std::atomic<uint64_t> rebuild_done_{0};
  std::atomic<uint64_t> rebuild_total_{0};
  std::atomic<uint64_t> parked_{0};
  mutable std::mutex mx_;
  std::condition_variable cv_;
  global_position faulted_at_ = 0;
  std::string error_;
  /// Asynchronous waits by the position they wait for.
  std::multimap<global_position, waiter> waiters_;
  std::unordered_map<wait_ticket, std::multimap<global_position, waiter>::iterator> tickets_;
  wait_ticket next_ticket_ = 1;
};

/// Waits on several projections at once: calls `done(std::nullopt)` once every monitor of
/// `monitors` has applied everything up to `position`, or `done(i)` when monitor i is
/// faulted or stopped first. `done` runs once, at once or on a projection's actor (keep it
/// short). Deadlines are the caller's: call the returned cancel when yours passes (true
/// when `done` had not run; it never will).
std::function<bool()> notify_when_all(std::vector<std::shared_ptr<projection_monitor>> monitors,
                                      global_position position,
                                      std::function<void(std::optional<std::size_t>)> done);

} // namespace annal
