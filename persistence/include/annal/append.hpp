// Requests and results of appends to the event store.
#pragma once

#include <string>
#include <vector>

#include "annal/expected_version.hpp"
#include "annal/recorded_event.hpp"
#include "annal/snapshot_record.hpp"

namespace annal {

/// Events to append to one stream under one expectation; atomic on its own.
struct stream_append {
  std::string stream_id;
  expected_version expected = expected_version::any();
  std::vector<new_event> events;
};

/// Where an append landed.
struct append_result {
  std::string stream_id;
  /// The stream's head after the append: pass it as expected_version::exact next time.
  stream_version next_expected_version = 0;
  /// Positions of the first and last appended events (both 0 when no event was given).
  global_position first_position = 0;
  global_position last_position = 0;
  /// The stream's shard, and the shard position of the last appended event (0 when no
  /// event was given or the store has no shards).
  uint16_t shard = 0;
  uint64_t last_shard_position = 0;
};

/// Work for one group commit: independent appends (each atomic on its own, and one
/// failing does not fail the others) and snapshots, in one transaction with one fsync.
struct write_batch {
  std::vector<stream_append> appends;
  std::vector<snapshot_record> snapshots;

  bool empty() const noexcept { return appends.empty() && snapshots.empty(); }
};

} // namespace annal
