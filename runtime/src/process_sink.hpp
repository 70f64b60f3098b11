// Internal: the projection sink of a process manager.
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <queue>
#include <set>
#include <unordered_map>

#include "annal/process_manager.hpp"
#include "process_run.hpp"
#include "process_shard.hpp"

namespace caf::scheduler {
class test_coordinator;
}

namespace annal::detail {

/// What a window slot does with its event.
enum class slot_kind : uint8_t {
  handle, // runs the handler
  defer,  // holds it back until its shard's rows arrived: its commit records it
  replay, // runs the handler on an event held back earlier: its commit forgets the record
  drop,   // forgets an event held back earlier without handling it (parked, or gone)
};

/// An event in a process manager's window: an owning copy (the batch it came in is gone
/// once apply() returns) and its handling.
struct window_slot {
  recorded_event owned;
  event_view view; // into `owned`
  std::string key; // the instance
  event_run run;
  slot_kind kind = slot_kind::handle;
  bool finished = false;
};

/// The unfinished events of one instance, in order (the front one runs or may start), and
/// the writes its finished, not yet committed events staged.
struct window_chain {
  std::deque<uint64_t> pending;
  std::size_t uncommitted = 0;
  process_context::staged overlay;
};

/// Handles events concurrently (in order per instance) in a window that spans batches: a
/// batch's events start at once, apply() waits only until at most `max_concurrent` events
/// are unfinished, and the staged state, timers and checkpoint of the finished prefix are
/// committed in one read-model transaction — so one batch's commands are in flight while
/// the next batch starts, and replies arriving between batches wake the manager (poll).
/// Called from the manager's actor only.
///
/// In a cluster, the events of a shard this node took over whose old owner's rows have not
/// arrived yet are held back — recorded with the checkpoint, which passes them — together
/// with every later event of that shard, and handled in log order once the rows arrived
/// (or the wait bound passed: the old owner gone for good, logged). Until then the shard
/// counts as held (pending_shards::hold), so it does not move on.
class process_sink final : public projection_sink {
public:
  process_sink(runtime& rt, process_manager spec, process_tables tables, std::function<void()> wake);

  result<std::optional<global_position>> stored_position() override;
  status store_position(global_position position) override;
  status apply(const std::vector<event_view>& events, global_position through,
               global_position& failed_at) override;
  status poll(global_position& failed_at) override;
  std::optional<global_position> settled() const override { return settled_; }
  void set_wakeup(std::function<void()> wake) override;
  std::optional<std::chrono::steady_clock::time_point> next_wakeup() const override;
  void restart() override { clear_window(); }
  /// Reads the events this manager holds back (at registration, and after the window was
  /// given up). Errors: io_error.
  status load_deferred();
  status reset() override;
  status park(global_position position, const error& why) override;
  result<std::vector<global_position>> parked_positions() override;

private:
  std::string checkpoint_name() const { return checkpoint_prefix + name_; }
  // The records of held-back events a commit writes (true) or forgets (false), in order.
  using deferral_writes = std::vector<std::pair<std::string, bool>>;
  status commit(const process_context::staged& s, const deferral_writes& deferrals, global_position through);
  // True when `e` must be held back for its shard's rows.
  bool defers(const event_view& e, std::chrono::steady_clock::time_point now) const;
  // Appends `e` to the window as `kind`, in its instance's chain when it runs.
  void add_slot(const event_view& e, slot_kind kind);
  // Queues the held-back events of every shard no longer waiting for its rows.
  status release_deferred();
  // Publishes whether this manager holds events of `shard` back.
  void update_hold(uint16_t shard);
  // Starts eligible events, lowest first, while fewer than max_concurrent_ run.
  void launch();
  // Marks the event `seq` handled (or failed) and makes its instance's next one eligible.
  void finish(uint64_t seq);
  // Delivers the replies in `inbox` and starts what they made eligible.
  void deliver(std::deque<batch_mailbox::message>& inbox);
  // Handles replies until `done()`; false when replies stopped coming (stall_limit).
  bool drain_until(const std::function<bool()>& done);
  // Waits for at least one reply into `inbox`; false when none can come.
  bool await_replies(std::deque<batch_mailbox::message>& inbox);
  // Commits the finished prefix of the window; on a failed event (once nothing runs),
  // also gives up the rest and returns the failure.
  status settle(global_position& failed_at);
  // Forgets the window (after a failure or a reset): replies still coming are dropped.
  void clear_window();
  // Stages the removal of the manager's state rows (a reset).
  status erase_state(read_model_txn& t);
  // Stages the removal of the records of the events it holds back (a reset).
  status erase_deferred(read_model_txn& t);

  runtime& rt_;
  std::string name_;
  process_handler handler_;
  instance_key_fn key_;
  std::size_t max_concurrent_;
  process_tables tables_;
  std::function<void()> wake_;
  std::function<void()> poll_wakeup_;

  std::deque<window_slot> window_;            // events not committed yet, in log order
  uint64_t base_ = 0;                  // sequence number of window_.front()
  std::unordered_map<std::string, window_chain> chains_;
  std::priority_queue<uint64_t, std::vector<uint64_t>, std::greater<>> eligible_;
  std::deque<std::pair<uint64_t, global_position>> marks_; // (end of a batch, its through)
  std::size_t active_ = 0;             // started, not finished
  std::size_t unfinished_ = 0;         // in the window, not finished
  std::optional<uint64_t> stop_;       // the lowest failed event: nothing after it starts
  std::shared_ptr<batch_mailbox> box_;
  std::optional<global_position> settled_;
  // Held back, not yet queued again: by shard, in log order (recorded, or in the window).
  std::map<uint16_t, std::vector<global_position>> deferred_;
  std::map<uint16_t, std::size_t> replaying_; // queued again, not committed yet
  std::set<uint16_t> held_;                   // published to tables_.expected
  bool reload_deferred_ = false;              // the window was given up: read them again
  std::chrono::steady_clock::time_point last_commit_{};
  // Set on CAF's test coordinator: a wait for replies runs the other actors itself.
  caf::scheduler::test_coordinator* coordinator_ = nullptr;

public:
  /// Process managers' checkpoints are named "pm/<name>".
  static constexpr const char* checkpoint_prefix = "pm/";
};

} // namespace annal::detail
