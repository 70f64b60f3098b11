// How a query waits for its projection (read-your-writes).
#pragma once

#include <chrono>

#include "annal/expected_version.hpp"

namespace annal {

/// How long a query may wait for its projection to reach a position (read-your-writes).
struct query_options {
  /// The position the read model must reflect first (e.g. a command_reply's position);
  /// 0: answer from whatever the model holds now.
  global_position min_position = 0;
  std::chrono::milliseconds timeout{5000};
};

} // namespace annal
