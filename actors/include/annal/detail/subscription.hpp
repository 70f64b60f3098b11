// Internal: the subscriber side of the event bus protocol (see event_bus.hpp), for actors
// that consume the global log in order: first reading the journal directly from a
// position (catch-up, in chunks, in their own read transactions), then switching to live
// batches from the bus with no gap and no duplicate, and back to catch-up when the bus
// says they fell behind.
//
// The owning actor forwards the bus messages to on_* and calls catch_up_step() for each
// catchup_atom it sends itself. Thread safety: used only inside its actor.
#pragma once

#include <caf/actor.hpp>
#include <caf/event_based_actor.hpp>

#include <chrono>
#include <functional>
#include <vector>

#include "annal/event_filter.hpp"
#include "annal/detail/messages.hpp"
#include "annal/event_store.hpp"

namespace annal::detail {

class subscription {
public:
  /// Applies `events` (already filtered, positions increasing) and records `through` as
  /// the new position; on error nothing may have been applied.
  using apply_fn = std::function<status(const std::vector<event_view>&, global_position through)>;
  /// Reports a failed apply or read (the subscription has paused itself).
  using fail_fn = std::function<void(const error&)>;
  /// Reports a switch between catching up (false) and live (true).
  using mode_fn = std::function<void(bool live)>;

  /// `apply_interval`: live batches are applied at most this often (see
  /// projection_options::apply_interval); the bus paces its deliveries to it.
  subscription(caf::event_based_actor* self, event_store& store, caf::actor bus,
               event_filter filter, std::size_t chunk, apply_fn apply, fail_fn fail,
               mode_fn mode, std::chrono::milliseconds apply_interval = {});

  /// Starts (or restarts) from `position`: subscribes to the bus and catches up.
  void start(global_position position);

  /// Stops deliveries (unsubscribes); start() resumes.
  void pause();

  /// Reads and applies the next chunk of the journal (on catchup_atom).
  void catch_up_step();

  /// Applies a live batch at once.
  void on_committed(const std::vector<recorded_event>& batch);
  /// Queues a live batch; every batch queued before the next flush_atom (which this sends
  /// the actor) is applied together, in one apply call: the journal writer's group-commit
  /// trick, so a projection whose apply costs an fsync keeps up with the log.
  void on_committed(const committed_events& batch);
  /// Applies a paced delivery of the bus at once, with what is queued: `batches` in order,
  /// and the position to advance to (past them when later commits had no matching event).
  void on_delivery(const committed_batches& batches, global_position through);
  /// Applies the queued batches (on flush_atom).
  void flush();
  void on_progress(global_position position);
  void on_behind();

  global_position position() const noexcept { return position_; }
  bool live() const noexcept { return live_; }
  bool active() const noexcept { return active_; }
  const event_filter& filter() const noexcept { return filter_; }

private:
  void request_live();
  bool apply(const std::vector<event_view>& events, global_position through);
  void collect(const std::vector<recorded_event>& batch, std::vector<event_view>& out) const;

  caf::event_based_actor* self_;
  event_store& store_;
  caf::actor bus_;
  event_filter filter_;
  std::size_t chunk_;
  std::chrono::milliseconds apply_interval_;
  apply_fn apply_;
  fail_fn fail_;
  mode_fn mode_;
  global_position position_ = 0;
  global_position live_from_ = 0;
  bool live_ = false;
  bool active_ = false;
  bool flush_scheduled_ = false;
  std::vector<committed_events> queued_;
  global_position queued_through_ = 0; // progress seen while batches are queued
  uint64_t epoch_ = 0; // ignores replies of an earlier start()
};

} // namespace annal::detail
