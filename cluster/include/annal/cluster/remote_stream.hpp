// A stream as its owner's journal holds it, read through the cluster from another node:
// the owner's head record and the events after a version the reader already has.
// Thread safety: values.
#pragma once

#include <functional>
#include <vector>

#include "annal/recorded_event.hpp"
#include "annal/result.hpp"
#include "annal/stream_info.hpp"

namespace annal::cluster {

struct remote_stream {
  /// The owner's head record of the stream (head 0: no such stream).
  stream_info head;
  /// Events after the version asked for, oldest first, with their metadata.
  std::vector<recorded_event> events;
  /// True when the owner holds events past the last one sent (ask again after it).
  bool more = false;
};

/// Receives a remote read's outcome, once, on an actor thread (keep it short).
using read_stream_done = std::function<void(result<remote_stream>)>;

} // namespace annal::cluster
