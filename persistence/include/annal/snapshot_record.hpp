// A stored snapshot of an aggregate's state, and the bounds used to select snapshots.
#pragma once

#include <cstdint>
#include <limits>
#include <string>

#include "annal/recorded_event.hpp"

namespace annal {

/// A serialized state of one stream at one version.
struct snapshot_record {
  std::string stream_id;
  /// The stream version the state reflects (all events up to and including it).
  stream_version version = 0;
  /// When the snapshot was taken (UTC ns); 0 lets the store stamp it.
  timestamp_ns timestamp = 0;
  /// Registered state type name and its schema version.
  std::string type;
  uint32_t schema_version = 1;
  /// Serialized state.
  std::string state;
};

/// Selects snapshots by version and timestamp, bounds inclusive.
struct snapshot_bounds {
  stream_version min_version = 0;
  stream_version max_version = std::numeric_limits<stream_version>::max();
  timestamp_ns min_timestamp = std::numeric_limits<timestamp_ns>::min();
  timestamp_ns max_timestamp = std::numeric_limits<timestamp_ns>::max();

  /// True when a snapshot at (`version`, `ts`) lies within the bounds.
  bool contains(stream_version version, timestamp_ns ts) const noexcept {
    return version >= min_version && version <= max_version && ts >= min_timestamp
           && ts <= max_timestamp;
  }
};

} // namespace annal
