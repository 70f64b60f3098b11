// Internal: group commit for one LMDB environment written by many threads.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>

#include "annal/duration_histogram.hpp"
#include "lmdb_env.hpp"

namespace annal::detail {

/// Runs concurrent write requests of one environment in shared transactions, as LevelDB's
/// writers queue does: a caller that finds no commit running becomes the leader, runs every
/// queued request in a nested transaction of its own inside one write transaction, commits
/// once (one pair of syncs for all) and wakes the others with their results. A request that
/// fails has only its nested transaction aborted; the others still commit.
/// Thread safety: run() may be called from any number of threads.
class write_group {
public:
  /// A request: writes through the nested transaction it is given; an error aborts only
  /// its own writes. `map_full` must be set when a put failed with MDB_MAP_FULL.
  /// It may run more than once (after a map growth), so it must be repeatable.
  using request_fn = std::function<status(MDB_txn* nested, bool& map_full)>;

  /// `max_batch`: at most this many requests share one transaction.
  explicit write_group(lmdb_env& env, std::size_t max_batch = 64) noexcept
    : env_(env), max_batch_(max_batch) {}

  /// Runs `fn` in a write transaction shared with the requests queued beside it; returns
  /// after that transaction committed (or failed), with `fn`'s result or the commit's error.
  status run(const request_fn& fn);

  /// How long each shared transaction took to write and commit (sync included).
  const duration_histogram& commit_durations() const noexcept { return commit_durations_; }

private:
  struct request {
    const request_fn* fn;
    status result;
    bool done = false;
  };

  // Runs `batch` in one write transaction and stores each request's result.
  void commit(const std::vector<request*>& batch);

  lmdb_env& env_;
  std::size_t max_batch_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<request*> queue_; // front: the leader, or the next one
  duration_histogram commit_durations_;
};

} // namespace annal::detail
