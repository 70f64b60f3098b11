// The checks behind `annal verify`, each a walk over one table of the journal inside the
// caller's read transaction (one consistent state, even while a node writes). They read
// the on-disk layout directly (annal/layout/: envelopes, stream records, index runs,
// snapshots, keys), because the event_store API hides damage they must see.
#pragma once

#include <limits>
#include <map>
#include <string>
#include <vector>

#include "annal/layout/index_run.hpp"
#include "annal/layout/merge_progress.hpp"

#include "annal/event_registry.hpp"
#include "annal/snapshot_record.hpp"
#include "annal/cli/domain.hpp"
#include "journal_meta.hpp"
#include "raw_read_txn.hpp"
#include "verify_report.hpp"

namespace annal::cli {

/// The journal's tables, and what format 3 adds: the stored index reaches through
/// `merged` (indexed_through, further for some streams while a merge is between its
/// slices); the events after it (the tail not merged yet) are indexed here from their
/// headers, by stream, as the running store's memtable would.
struct journal_tables {
  MDB_dbi events = 0;
  MDB_dbi stream_index = 0;
  MDB_dbi streams = 0;
  MDB_dbi snapshots = 0;
  MDB_dbi meta = 0;
  MDB_dbi shards = 0;
  bool has_shards = false;
  uint16_t shard_count = 0;         // 0: a format-2 journal (no shards)
  bool upgrading = false;           // an upgrade from format 2 is under way
  // How far the stored index reaches: merged.indexed, or further for some streams while a
  // merge is between its slices (merged.indexed_for).
  layout::merge_progress merged{std::numeric_limits<global_position>::max(), 0, {}};
  std::map<std::string, std::vector<layout::index_run>> tail;
  uint64_t tail_events = 0;
};

/// Opens the tables inside `t` and indexes the tail. Errors: not_found (not a journal),
/// io_error.
result<journal_tables> open_journal_tables(const raw_read_txn& t);

/// Meta: a format version this build reads and a node id.
status check_meta(const journal_meta& meta, verify_report& report);

/// Events, in position order: well-formed keys and envelopes, checksums, the index entry
/// of each event pointing back at it (up to indexed_through), shards (each event's shard
/// is its stream's, shard positions rise per shard up to the head in `shards`), payloads that decode with `registry` (types it
/// does not know are counted as unknown, not as problems).
status check_events(const raw_read_txn& t, const journal_tables& tables,
                    const event_registry& registry, verify_report& report);

/// The stream index against the streams table (merged in id order): well-formed keys,
/// versions gap-free from the truncation point to the head, positions increasing with
/// versions, entries pointing at the event they name, a record for every stream with
/// stored index entries (one born since the last merge has none yet) and no record
/// claiming events the index lacks.
status check_streams(const raw_read_txn& t, const journal_tables& tables, verify_report& report);

/// The index of deleted and truncated streams (table `trimmed_streams`, once complete):
/// an entry, under its stream's shard, for each such record and for no other.
status check_trimmed(const raw_read_txn& t, const journal_tables& tables, verify_report& report);

/// Snapshots: well-formed keys, checksums, an existing, undeleted stream, a version no
/// newer than the head. Every `stride`-th snapshot of a type `catalog` knows is copied
/// into `sampled` for replay_sampled (after the transaction ends).
status check_snapshots(const raw_read_txn& t, const journal_tables& tables,
                       const domain& catalog, uint64_t stride,
                       std::vector<snapshot_record>& sampled, verify_report& report);

/// Replays each sampled snapshot's stream and compares states (see replay_snapshot).
void replay_sampled(event_store& store, const domain& catalog,
                    const std::vector<snapshot_record>& sampled, verify_report& report);

} // namespace annal::cli
