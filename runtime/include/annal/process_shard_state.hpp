// What a node's process managers hold for one journal shard: the state rows and durable
// timers their handling of the shard's events wrote. A shard moving to another node in a
// cluster takes it along (runtime::export_process_shard / import_process_shard), so the
// managers there continue each instance with its state and its pending timers, and fire
// those timers instead of the old owner. Thread safety: a value.
#pragma once

#include <string>
#include <vector>

#include "annal/process_manager.hpp"

namespace annal {

struct process_shard_state {
  /// A manager's state row: its full key ("<manager>/<key>") and value.
  struct state_row {
    std::string key;
    std::string value;

    template <class Archive>
    void serialize(Archive& ar) {
      ar(key, value);
    }
  };

  /// A pending durable timer: its full key ("<manager>/<key>"), when it is due (UTC ns)
  /// and the command it sends then.
  struct timer_row {
    std::string key;
    timestamp_ns due = 0;
    stored_command command;

    template <class Archive>
    void serialize(Archive& ar) {
      ar(key, due, command);
    }
  };

  std::vector<state_row> state;
  std::vector<timer_row> timers;

  template <class Archive>
  void serialize(Archive& ar) {
    ar(state, timers);
  }
};

} // namespace annal
