// What the store knows about one stream without reading its events.
#pragma once

#include <string>

#include "annal/expected_version.hpp"

namespace annal {

/// A stream's head record.
struct stream_info {
  std::string stream_id;
  /// Highest version ever appended (0 when the stream does not exist). Truncation never
  /// lowers it.
  stream_version head = 0;
  /// Global position of the stream's newest event.
  global_position last_position = 0;
  /// Events with versions <= this were truncated away (0 = nothing truncated).
  stream_version truncated_through = 0;
  /// True once the stream was deleted (tombstoned).
  bool deleted = false;
};

} // namespace annal
