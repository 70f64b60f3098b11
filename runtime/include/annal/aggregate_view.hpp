// Read-only loads of an aggregate's state: now, at a version, or as of a time.
#pragma once

#include <limits>

#include "annal/expected_version.hpp"
#include "annal/recorded_event.hpp"

namespace annal {

/// Which state of an aggregate to load.
struct as_of {
  /// Apply events up to this version (inclusive).
  stream_version max_version = std::numeric_limits<stream_version>::max();
  /// Apply events recorded at or before this time (UTC ns, inclusive).
  timestamp_ns max_timestamp = std::numeric_limits<timestamp_ns>::max();

  /// The newest state.
  static as_of latest() { return {}; }
  /// The state after the first `v` events.
  static as_of version(stream_version v) { return {v, std::numeric_limits<timestamp_ns>::max()}; }
  /// The state after every event recorded at or before `t` (UTC ns).
  static as_of time(timestamp_ns t) { return {std::numeric_limits<stream_version>::max(), t}; }
};

/// A loaded state and where it stands.
template <class State>
struct aggregate_view {
  State state;
  /// Version of the last event applied (0: no event, the initial state).
  stream_version version = 0;
  /// Global position of that event.
  global_position position = 0;
};

} // namespace annal
