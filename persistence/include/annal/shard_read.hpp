// Reading one shard of a node's journal in shard-position order (issue 12): what a
// projection that covers every shard of a cluster pulls from each shard's owner, and what a
// shard move will copy. There is no per-shard index (docs/architecture.md, "Shards and shard
// positions"): the read scans the node's log after a node position the caller keeps
// (`from`), filtered by the envelope's shard, so a reader that passes back `resume_after`
// scans each event of the log once.
//
// Thread safety: as event_store's reads.
#pragma once

#include <cstdint>

#include "annal/event_chunk.hpp"
#include "annal/result.hpp"

namespace annal {

class event_store;

/// What read_shard found.
struct shard_read {
  /// Events of the shard with shard position > `after`, ascending, copied out of the
  /// journal's transaction (see event_chunk).
  event_chunk events;
  /// The node position to pass as `from` next time: every event of the shard after
  /// `after` up to it is in `events`. Node-local: valid only against the same journal.
  global_position resume_after = 0;
  /// True when the scan stopped early (max_events kept, or max_scan events read): read
  /// again from resume_after. False: the reader has the shard up to the journal's end.
  bool more = false;
};

/// Reads events of `shard` with shard position > `after` from `store`, scanning the log
/// after node position `from` (0: from the start): at most `max_events` kept and at most
/// `max_scan` events read. Errors: bad_request (max_events or max_scan 0), io_error.
result<shard_read> read_shard(event_store& store, uint16_t shard, uint64_t after, global_position from,
                              uint64_t max_events, uint64_t max_scan = 65536);

} // namespace annal
