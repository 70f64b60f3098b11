// One shard's events as its owner's journal holds them, read through the cluster (catch-up
// of a read model that covers every shard). Thread safety: values.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "annal/recorded_event.hpp"
#include "annal/result.hpp"

namespace annal::cluster {

struct shard_events {
  /// Events with shard position > the one asked for, in shard-position order, with their
  /// metadata, at most 1000.
  std::vector<recorded_event> events;
  /// The shard's head shard position on its owner.
  uint64_t head = 0;
  /// Where the owner's scan stopped: pass it back as the hint of the next read of this
  /// shard, with `epoch` (it is a position in the owner's own log, meaningless elsewhere).
  uint64_t next_hint = 0;
  /// The epoch of the owner that answered (a move raises it).
  uint64_t epoch = 0;
  /// True when the owner had nothing more of the shard at the time of the read.
  bool at_end = false;
};

/// Receives a shard read's outcome, once (on an actor thread when the read was remote).
using read_shard_done = std::function<void(result<shard_events>)>;

/// Receives a watch's outcome, once, on an actor thread: the heads (shard positions) of the
/// shards the watched node owns, by shard (0 for shards it does not own).
using watch_shards_done = std::function<void(result<std::vector<uint64_t>>)>;

} // namespace annal::cluster
