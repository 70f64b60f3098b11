// An entry of the journal's `stream_index` table: one per append ("run"), whose events have
// consecutive versions and consecutive global positions.
//   key:   stream_key(stream id, version of its first event)
//   value: u64 BE position of its first event, u64 BE event count
#pragma once

#include <cstddef>
#include <string_view>

#include "annal/expected_version.hpp"

namespace annal::layout {

/// Bytes of an entry's value.
inline constexpr std::size_t index_value_size = 16;

/// One run: `count` events from (`first_version`, `first_position`).
struct index_run {
  stream_version first_version = 0;
  global_position first_position = 0;
  uint64_t count = 0;

  /// The version of the run's last event.
  stream_version last_version() const noexcept { return first_version + count - 1; }
  /// The position of version `v` (REQUIRES: covers(v)).
  global_position position_of(stream_version v) const noexcept {
    return first_position + (v - first_version);
  }
  /// True when `v` is one of the run's versions.
  bool covers(stream_version v) const noexcept { return v >= first_version && v <= last_version(); }
};

/// Writes the value of a run into `out` (index_value_size bytes).
void encode_index_value(char* out, global_position first_position, uint64_t count) noexcept;

/// Parses an entry of `stream_id`; false when the key belongs to another stream or the
/// entry is malformed (an empty run, version 0).
bool parse_index_entry(std::string_view key, std::string_view value, std::string_view stream_id,
                       index_run& out) noexcept;

} // namespace annal::layout
