// Process managers (sagas): subscribers that react to events by sending commands to
// aggregates, keep durable state of their own, and schedule durable timers.
//
// A process manager runs like a durable projection (own thread, checkpoint, retries), but
// it never blocks on a command: its handler sends commands and registers continuations
// that run when their replies arrive. The events of a batch are handled at once — events of
// the same instance (by default the same stream) one after the other, in order, different
// instances concurrently — and the batch waits once for all of them. Every command gets a
// deterministic id derived from the triggering event's position and its place in the
// handler, so re-processing an event after a crash re-sends the same ids and the aggregates
// answer with the first result instead of acting twice. Writes to the manager's state and
// timers are staged and committed with its checkpoint once the batch is handled.
//
// In a cluster an event is handled by the process managers of the node that first
// committed it: events a shard move copied here (event_view::imported) are passed over,
// since the node they came from handles them from its own log. State rows and timers
// belong to the shard of the event whose handling wrote them (event_view::shard) and move
// with it: once the new owner serves the shard, the old owner's managers finish what it
// committed of it and their rows go to the new owner, merged without undoing what its
// managers wrote or erased meanwhile (a node fires only the timers of shards it owns). So
// in a cluster an instance's events must come from one shard, as they do with the default
// instance key (the stream), and a state key must name its instance (two instances writing
// one key would each move it with their own shard). Until the rows arrive (the old
// owner's manager lag) the new owner's managers hold the shard's events back — recorded
// with their checkpoint, which passes them — and handle them in log order once the rows
// are merged (or, past runtime_config::process_state_wait, without them, logged).
//
// A replayed first result is not the current state: a step must not undo an effect (say,
// release a reservation) before the decision that undoes it (reject the order) is durable,
// or a re-run step may trust a replayed success whose effect was undone since.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "annal/command_options.hpp"
#include "annal/projection.hpp"
#include "annal/read_model_store.hpp"

namespace annal {

class runtime;
class process_context;

namespace detail {
struct event_run;
}

/// A command on its way to an aggregate, in serialized form (durable timers store these).
struct stored_command {
  std::string category;
  std::string aggregate_id;
  std::string command_bytes;
  std::string command_id;
  std::string correlation_id;
  std::string causation_id;

  template <class Archive>
  void serialize(Archive& ar) {
    ar(category, aggregate_id, command_bytes, command_id, correlation_id, causation_id);
  }
};

/// The outcome, still to come, of a command sent while handling one event.
struct reply_ref {
  std::size_t slot = 0;
};

/// Continues handling an event with the outcome of one command.
using reply_continuation = std::function<status(process_context&, const command_result&)>;
/// Continues handling an event with the outcomes of several commands, in the order asked.
using replies_continuation = std::function<status(process_context&, std::vector<command_result>)>;

/// What a process manager's handler, and each continuation it registers, can do while
/// handling one event. Thread safety: handlers and continuations run on the manager's own
/// thread, one at a time; a context is valid only during the call it is passed to.
class process_context {
public:
  /// Sends `cmd` to instance `id` of A without waiting. The command id is
  /// "<manager>/<event stream>@<event version>/<scope><rank>" (the same on every node of a
  /// cluster and after a restart) unless options.command_id is set (scope: ""
  /// in the handler, "<j>." in its j-th continuation, nested alike); the correlation id is
  /// the event's (or its stream id), the causation id the event's position. The event counts
  /// as handled once every reply arrived; an outcome no continuation takes fails the event
  /// when is_transient(code) (it is retried with the same ids).
  template <class A>
  reply_ref send(std::string id, typename A::command cmd, command_options options = {});

  /// Runs `fn` with the outcome of `r` once it arrived. Its error fails the event as the
  /// handler's would; after an error no further continuation of the event runs.
  void then(reply_ref r, reply_continuation fn);
  /// Runs `fn` once every outcome of `rs` arrived (the commands run concurrently).
  void then(std::vector<reply_ref> rs, replies_continuation fn);

  /// Schedules `cmd` for instance `id` of A at `due` (UTC ns). Durable: committed with the
  /// manager's checkpoint; fires once (with a deterministic command id) even across
  /// restarts. A later schedule with the same `key` replaces it.
  template <class A>
  status schedule(const std::string& key, timestamp_ns due, std::string id, typename A::command cmd);

  /// Cancels the timer `key` (committed with the checkpoint).
  void cancel(const std::string& key);

  /// The manager's state under `key`: this event's staged writes first, then those of the
  /// earlier events of the same instance in this batch, then the store. Errors: io_error.
  result<std::optional<std::string>> get(const std::string& key) const;
  /// Stages a write of the manager's state (keep keys per instance: writes of concurrent
  /// instances to one key commit in event order).
  void put(const std::string& key, std::string value);
  /// Stages the removal of the manager's state under `key`.
  void erase(const std::string& key);

  /// The event being handled (valid during the call, like the context).
  const event_view& event() const noexcept;
  /// The runtime the manager runs in (to load states or query read models).
  runtime& rt() noexcept;

  // -- used by the process manager's sink (internal) --------------------------------------
  /// The writes an event's handling staged, committed with the manager's checkpoint.
  struct staged {
    std::map<std::string, std::optional<std::string>> state;       // nullopt: erase
    std::map<std::string, std::optional<std::pair<timestamp_ns, stored_command>>> timers;
    // The shard of the event that staged each state key and timer (full key).
    std::map<std::string, uint16_t> state_shards;
    std::map<std::string, uint16_t> timer_shards;
  };
  /// A context for one call on `run`; `scope` prefixes its command ids ("" in the handler).
  process_context(detail::event_run& run, std::string scope) noexcept
    : run_(run), scope_(std::move(scope)) {}

private:
  command_options prepare(command_options options);
  /// Registers a command about to be sent; the returned callback delivers its outcome to
  /// the manager's thread (from any thread).
  std::pair<reply_ref, std::function<void(command_result)>> expect_reply();
  status stage_timer(const std::string& key, timestamp_ns due, stored_command cmd);

  detail::event_run& run_;
  std::string scope_;
  unsigned rank_ = 0;
  unsigned continuations_ = 0;
};

/// Starts handling one event; return an error (or throw) to retry the event per the
/// options (its continuations' errors count alike).
using process_handler = std::function<status(process_context&, const event_view&)>;

/// Which instance an event belongs to: events with the same key are handled one after the
/// other, in order; different keys concurrently.
using instance_key_fn = std::function<std::string(const event_view&)>;

/// What a user registers for a process manager.
struct process_manager {
  projection_options options;
  process_handler handle;
  /// Default (empty): the event's stream id. Return one constant to handle every event in
  /// order, one at a time.
  instance_key_fn instance_key;
  /// Events of a batch being handled at once, at most.
  std::size_t max_concurrent_events = 256;
};

/// Re-shares the work of a group of process managers (those whose names satisfy `group`)
/// after its layout changed to `successors` (say, another partition count): when a
/// manager of the group that is not a successor has a checkpoint, or a successor has none
/// while others have, every successor resumes from the lowest checkpoint of the group (or
/// from before the earliest event one of them holds back for its shard's process state,
/// whose record goes), and the others' checkpoints are removed. Call before start();
/// re-processing from there must be idempotent. Errors: io_error, storage_full.
status hand_over_checkpoints(read_model_store& store,
                             const std::function<bool(std::string_view name)>& group,
                             const std::vector<std::string>& successors);

} // namespace annal
