// Per-command options and the reply to a command. No CAF here.
#pragma once

#include <chrono>
#include <string>

#include "annal/expected_version.hpp"
#include "annal/result.hpp"

namespace annal {

/// Optional settings of one command.
struct command_options {
  /// The aggregate's stream version the caller based the command on; a mismatch fails
  /// with errc::conflict and runs nothing. Default: any.
  expected_version expected = expected_version::any();
  /// Idempotency key: a repeated id gets the first result and writes nothing. The ids of
  /// recent commands are remembered per aggregate (bounded) across snapshots and restarts.
  std::string command_id;
  /// Copied into the metadata of every event the command produces.
  std::string correlation_id;
  std::string causation_id;
  /// A command still waiting when this time has passed fails with errc::timeout without
  /// running. A command that already ran is never reported as timed out.
  std::chrono::milliseconds timeout{30000};
};

/// A successful command: where its events landed.
struct command_reply {
  /// The aggregate's stream version after the command.
  stream_version version = 0;
  /// Global position of the command's last event (or of the aggregate's newest event when
  /// the command produced none). Pass it as min_position to read your own writes.
  global_position position = 0;
  /// True when the command id was seen before and this is the first result, replayed.
  bool duplicate = false;
  /// The read-your-writes token across a cluster: the aggregate's shard and the shard
  /// position of the event `position` names (0 when the aggregate has no event yet).
  /// Unlike `position`, it means the same on every node and survives a shard's move.
  uint16_t shard = 0;
  uint64_t shard_position = 0;
};

/// The outcome of a command: a reply, or an error (rejected, conflict, timeout,
/// overloaded, storage_full, unavailable, io_error, bad_request).
using command_result = result<command_reply>;

} // namespace annal
