// What moving a shard to another node did (cluster_node::move_shard). Thread safety: values.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "annal/result.hpp"

namespace annal::cluster {

struct move_report {
  uint16_t shard = 0;
  std::string from;
  std::string to;
  /// The epoch the new owner owns the shard at.
  uint64_t epoch = 0;
  /// The shard's head (newest shard position) when it was handed over.
  uint64_t head = 0;
  /// How long commands for the shard were refused: from the fence on the old owner to
  /// the new owner's confirmation that it serves the shard.
  std::chrono::microseconds pause{0};
  /// The whole move, the copy made while the old owner still served included.
  std::chrono::microseconds total{0};
  /// The process managers' state rows and timers of the shard the new owner merged after
  /// the take-over (process_state_moved false: they stay on the old owner for now, which
  /// hands them over later by itself).
  uint64_t process_rows = 0;
  bool process_state_moved = false;
};

/// Receives a move's outcome, once, on an actor thread.
using move_shard_done = std::function<void(result<move_report>)>;

/// {"shard", "from", "to", "epoch", "head", "pause_ms", "total_ms", "process_rows",
/// "process_state_moved"}.
std::string to_json(const move_report& r);

} // namespace annal::cluster
