// Process managers (sagas): subscribers that react to events by sending commands to
// aggregates, keep durable state of their own, and schedule durable timers.
//
// A process manager runs like a durable projection (own thread, checkpoint, retries). For
// each event its handler may send commands — each gets a deterministic id derived from
// the triggering event's position and the command's rank in the handler, so re-processing
// an event after a crash re-sends the same ids and the aggregates answer with the first
// result instead of acting twice — and may stage writes to its state and timers, which are
// committed together with its checkpoint once the event's batch is handled.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "annal/command_options.hpp"
#include "annal/projection.hpp"
#include "annal/read_model_store.hpp"

namespace annal {

class runtime;

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

/// What a process manager's handler can do while handling one event.
/// Thread safety: used on the process manager's thread only, during the handler call.
class process_context {
public:
  process_context(runtime& rt, std::string manager, const event_view& event, table_id state_table);

  /// Sends `cmd` to instance `id` of A and waits for the outcome. The command id is
  /// "<manager>/<event position>/<rank>" unless options.command_id is set; the
  /// correlation id is the event's (or its stream id), the causation id the event's
  /// position.
  template <class A>
  command_result send(std::string id, typename A::command cmd, command_options options = {});

  /// Schedules `cmd` for instance `id` of A at `due` (UTC ns). Durable: committed with the
  /// manager's checkpoint; fires once (with a deterministic command id) even across
  /// restarts. A later schedule with the same `key` replaces it.
  template <class A>
  status schedule(const std::string& key, timestamp_ns due, std::string id, typename A::command cmd);

  /// Cancels the timer `key` (committed with the checkpoint).
  void cancel(const std::string& key);

  /// The manager's state under `key` (staged writes of this batch first).
  std::optional<std::string> get(const std::string& key) const;
  /// Stages a write of the manager's state.
  void put(const std::string& key, std::string value);
  void erase(const std::string& key);

  const event_view& event() const noexcept { return event_; }
  runtime& rt() noexcept { return rt_; }

  // -- used by the process manager's sink -------------------------------------------------
  struct staged {
    std::map<std::string, std::optional<std::string>> state;       // nullopt: erase
    std::map<std::string, std::optional<std::pair<timestamp_ns, stored_command>>> timers;
  };
  /// Writes of this event go to `current`; reads see them, then `batch` (the earlier
  /// events of the batch), then the store.
  void bind(staged* current, const staged* batch) noexcept {
    staged_ = current;
    batch_ = batch;
  }

private:
  command_options prepare(command_options options);
  status stage_timer(const std::string& key, timestamp_ns due, stored_command cmd);

  runtime& rt_;
  std::string manager_;
  const event_view& event_;
  table_id state_table_;
  unsigned rank_ = 0;
  staged* staged_ = nullptr;
  const staged* batch_ = nullptr;
};

/// Handles one event; return an error (or throw) to retry the batch per the options.
using process_handler = std::function<status(process_context&, const event_view&)>;

/// What a user registers for a process manager.
struct process_manager {
  projection_options options;
  process_handler handle;
};

} // namespace annal
