// Requests and results of appends to the event store.
#pragma once

#include <cstddef>
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

/// About the bytes `a` takes in the journal: its stream id, each event's type, payload and
/// metadata ids, and a fixed allowance per event for its header and index entry. For
/// budgets (group commit sizes, snapshot spacing), not an exact size.
inline std::size_t approximate_bytes(const stream_append& a) {
  std::size_t n = a.stream_id.size();
  for (const auto& e : a.events)
    n += e.payload.size() + e.type.size() + e.metadata.command_id.size()
         + e.metadata.correlation_id.size() + e.metadata.causation_id.size() + 64;
  return n;
}

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
