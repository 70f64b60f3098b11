// Settings and counters of the journal writer (annal/journal_writer.hpp), apart from it so
// that a runtime's settings and metrics can name them without including CAF.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>

#include "annal/append.hpp"
#include "annal/duration_histogram.hpp"
#include "annal/result.hpp"

namespace annal {

/// Counters of the writer, readable from any thread (for metrics).
struct journal_metrics {
  std::atomic<uint64_t> events_written{0};
  std::atomic<uint64_t> appends_committed{0};
  std::atomic<uint64_t> appends_failed{0};
  std::atomic<uint64_t> commits{0};
  std::atomic<uint64_t> snapshots_written{0};
  /// How long each successful group commit took in the store (write transaction and
  /// sync; with journal_writer_options::before_commit, the hook's time too); one record
  /// per commit counted in `commits`.
  duration_histogram commit_durations;
};

struct journal_writer_options {
  /// Bounds of one group commit.
  std::size_t max_batch_events = 8192;
  std::size_t max_batch_bytes = std::size_t{32} << 20;
  /// Snapshots wait until no append is pending; beyond this many queued, a share of them
  /// rides along with the next event commit so that they cannot starve.
  std::size_t max_queued_snapshots = 4096;
  /// After a commit with nothing queued behind it, the writer's thread watches its mailbox
  /// this long before it sleeps: a caller with one command in flight sends the next append
  /// within tens of microseconds of its reply, and waking a sleeping thread costs as much
  /// again (W2_single). It burns that much CPU per idle commit at most; 0 sleeps at once.
  std::chrono::microseconds idle_spin{50};
  /// Test hook, called before each commit with the batch: return an error to fail the
  /// whole commit (nothing is written), or sleep to simulate a slow disk.
  std::function<status(const write_batch&)> before_commit;
  /// Observation hook, called on the writer's thread right after each successful commit
  /// (durable when the store is) with the position of its newest event; keep it short.
  std::function<void(global_position)> after_commit;
};

} // namespace annal
