// Projections: actors that apply committed events, in global order, to read models.
// A projection is a name, a filter, a failure policy and a sink that applies batches of
// events (durable: an LMDB read model whose checkpoint is stored in the same transaction;
// in memory: rebuilt on start).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "annal/event_filter.hpp"
#include "annal/recorded_event.hpp"
#include "annal/result.hpp"

namespace annal {

/// Where a projection stands.
enum class projection_state : uint8_t {
  /// Reading the journal to reach the live end.
  catching_up,
  /// Applying batches as they are committed.
  live,
  /// Stopped at an event its handler kept failing on (see projection_info::error).
  faulted,
  /// Replaying from position 0 after its read model was dropped.
  rebuilding,
  /// Stopped on request.
  stopped,
};

/// Returns "catching_up", "live", "faulted", "rebuilding" or "stopped".
const char* to_string(projection_state s) noexcept;

/// What happens when a handler still fails after its retries.
enum class failure_policy : uint8_t {
  /// The projection stops at the event (faulted) until restarted or told to skip it.
  stop,
  /// The event is recorded in the parked list and the projection goes on.
  skip,
};

/// Where a projection that has never stored a position begins.
enum class start_position : uint8_t {
  /// Position 0: the whole log.
  beginning,
  /// The end of the log when it first starts: only events committed from then on. A
  /// durable projection stores that position at once, so a restart resumes there.
  end,
};

struct projection_options {
  /// Unique name; also the name of its checkpoint.
  std::string name;
  event_filter filter;
  failure_policy on_failure = failure_policy::stop;
  /// Attempts after the first failure, with doubling backoff starting at `backoff`.
  unsigned max_retries = 3;
  std::chrono::milliseconds backoff{50};
  /// Events read per catch-up chunk (and applied per transaction).
  std::size_t chunk_events = 8192;
  /// While live batches keep arriving, they are applied at most this often, all queued
  /// ones in one apply (for a durable read model: one transaction, one fsync). A batch
  /// after a quiet spell is applied at once. 0: every mailbox round applies what it has.
  std::chrono::milliseconds apply_interval{0};
  /// Where to begin without a stored position (a checkpoint always wins; a rebuild
  /// replays from 0 either way).
  start_position start = start_position::beginning;
};

/// A status report of one projection.
struct projection_info {
  std::string name;
  projection_state state = projection_state::catching_up;
  /// Global position the read model reflects.
  global_position position = 0;
  /// Events committed after `position`, and the age of the oldest of them (ms).
  uint64_t lag_events = 0;
  double lag_ms = 0;
  /// While faulted: the event and the error.
  global_position faulted_at = 0;
  std::string error;
  /// While rebuilding: progress in events of the log.
  uint64_t rebuild_done = 0;
  uint64_t rebuild_total = 0;
  /// Events skipped and parked so far.
  uint64_t parked = 0;
};

/// How a projection applies events to its read model. Implementations: the durable LMDB
/// sink and the in-memory sink of the runtime. Called from the projection's actor only.
class projection_sink {
public:
  virtual ~projection_sink() = default;

  /// The position the model reflects (its checkpoint), or none when the sink never stored
  /// one: a fresh model, which resumes from 0 (or, with start_position::end, from the end).
  virtual result<std::optional<global_position>> stored_position() = 0;

  /// Stores `position` as reached without applying events (start_position::end).
  virtual status store_position(global_position position) = 0;

  /// Applies `events` (filtered, in order) and makes `through` the new position, all or
  /// nothing. On failure sets `failed_at` to the position of the event that failed (0 if
  /// none in particular). Skipped (parked) events never reach the sink: the projection
  /// leaves them out of `events`.
  virtual status apply(const std::vector<event_view>& events, global_position through,
                       global_position& failed_at) = 0;

  /// For sinks that finish events after apply() returned (process managers): handles what
  /// arrived for them since and commits what is finished. On failure sets `failed_at` like
  /// apply(). The projection calls it after the sink's wake-up fired.
  virtual status poll(global_position& failed_at) {
    failed_at = 0;
    return {};
  }

  /// The position through which events have fully taken effect, when that may trail the
  /// `through` of the last apply(); none: it never trails.
  virtual std::optional<global_position> settled() const { return std::nullopt; }

  /// Registers the projection's wake-up: a sink that finishes events later calls it (from
  /// any thread) when poll() has something to do.
  virtual void set_wakeup(std::function<void()> wake) { (void)wake; }

  /// When poll() has something to do without a wake-up (a wait that ends by time), if
  /// ever: the projection polls then.
  virtual std::optional<std::chrono::steady_clock::time_point> next_wakeup() const { return std::nullopt; }

  /// The projection resumes from stored_position(): forget events handed over by apply()
  /// and not yet settled (they are delivered again).
  virtual void restart() {}

  /// Drops the read model and the checkpoint (before a rebuild).
  virtual status reset() = 0;

  /// Records that the event at `position` was skipped because of `why`.
  virtual status park(global_position position, const error& why) = 0;

  /// Positions parked so far (so that a restarted projection keeps skipping them).
  virtual result<std::vector<global_position>> parked_positions() {
    return std::vector<global_position>{};
  }
};

} // namespace annal
