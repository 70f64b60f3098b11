// The journal writer: a detached actor (its own thread: fsync must never block CAF's
// scheduler) that group-commits the appends of every aggregate. Each append that arrived
// while the previous commit ran goes into ONE LMDB transaction with ONE fsync; the
// aggregates get their outcomes only after that commit, and the committed events go to
// the event bus in global order.
#pragma once

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>

#include "annal/append.hpp"
#include "annal/result.hpp"

namespace annal {

class event_store;

/// Counters of the writer, readable from any thread (for metrics).
struct journal_metrics {
  std::atomic<uint64_t> events_written{0};
  std::atomic<uint64_t> appends_committed{0};
  std::atomic<uint64_t> appends_failed{0};
  std::atomic<uint64_t> commits{0};
  std::atomic<uint64_t> snapshots_written{0};
};

struct journal_writer_options {
  /// Bounds of one group commit.
  std::size_t max_batch_events = 8192;
  std::size_t max_batch_bytes = std::size_t{32} << 20;
  /// Snapshots wait until no append is pending; beyond this many queued, a share of them
  /// rides along with the next event commit so that they cannot starve.
  std::size_t max_queued_snapshots = 4096;
  /// Test hook, called before each commit with the batch: return an error to fail the
  /// whole commit (nothing is written), or sleep to simulate a slow disk.
  std::function<status(const write_batch&)> before_commit;
  /// Observation hook, called on the writer's thread right after each successful commit
  /// (durable when the store is) with the position of its newest event; keep it short.
  std::function<void(global_position)> after_commit;
};

/// Spawns the writer over `store` (which must outlive it). Committed events go to `bus`
/// (may be null). Protocol (internal, see detail/messages.hpp):
///   (append_atom, append_request)  -> later (appended_atom, append_outcomes) to the sender
///   (sync_atom)                    -> replies unit once everything queued before is committed
caf::actor spawn_journal_writer(caf::actor_system& sys, event_store& store,
                                journal_writer_options options, caf::actor bus,
                                std::shared_ptr<journal_metrics> metrics);

} // namespace annal
