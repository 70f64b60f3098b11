// A shard's events copied from the node that owned it, to continue that shard on this node
// with its history and its shard positions intact (a shard move; later, a follower's copy).
// See event_store::import_shard and docs/architecture.md, "Shard moves".
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "annal/recorded_event.hpp"

namespace annal {

/// One chunk of a shard's copy (what read_shard returned on the source, in order).
struct shard_import {
  uint16_t shard = 0;
  /// The shard's events in rising shard-position order. Each keeps its stream id, version,
  /// type, schema version, timestamp, metadata, payload and shard position; this node gives
  /// it a new node position.
  std::vector<recorded_event> events;
  /// Only with the copy's last chunk: the source's head shard position (read_shard's
  /// `head`), which this shard's head here becomes at least, so that appends after the
  /// move continue the numbering even when the source's newest events were truncated.
  /// 0 with every other chunk.
  uint64_t source_head = 0;
};

/// What event_store::import_shard did.
struct import_outcome {
  /// Events written, and events passed over because this node already had them (a
  /// resumed copy: their shard position was at or below the shard's head here).
  uint64_t imported = 0;
  uint64_t skipped = 0;
  /// The shard's head shard position here afterwards.
  uint64_t head = 0;
  /// Node positions of the first and last written event (0 when none was written).
  global_position first_position = 0;
  global_position last_position = 0;
};

/// A shard's owner as a journal recorded it at a move (event_store::hand_over_shard and
/// take_over_shard): the node that owns it from `epoch` on; `owner` empty: this journal's.
struct shard_owner_record {
  uint16_t shard = 0;
  std::string owner;
  uint64_t epoch = 0;
};

} // namespace annal
