// The event journal and snapshot store: one contract (this interface, pinned by the
// conformance suite tests/persistence/journal_tck_test.cpp) with two implementations —
// the durable one on LMDB (event_store::open) and one in memory for fast tests
// (memory_event_store.hpp).
//
// Thread safety: an event_store is safe to use from many threads at once. Writes are
// serialized; reads run concurrently with the writer. On LMDB, growing the map needs every
// transaction of the process ended, so a write that must grow it waits for the reads in
// progress (keep visitors short; catch-up readers read in chunks). Errors are returned as
// values; no exception escapes, not even one thrown by a visitor (it becomes io_error).
#pragma once

#include <filesystem>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "annal/append.hpp"
#include "annal/event_chunk.hpp"
#include "annal/recorded_event.hpp"
#include "annal/result.hpp"
#include "annal/shard_import.hpp"
#include "annal/snapshot_record.hpp"
#include "annal/store_options.hpp"
#include "annal/stream_info.hpp"

namespace annal {

/// Which events of a stream to read: versions in [from, to], at most max_count of them.
struct stream_range {
  stream_version from = 1;
  stream_version to = std::numeric_limits<stream_version>::max();
  uint64_t max_count = std::numeric_limits<uint64_t>::max();
};

/// What one group commit did: one result per append of the batch, in order, and
/// (when asked for) the committed events in global order.
struct batch_outcome {
  std::vector<result<append_result>> appends;
  std::vector<recorded_event> committed;
};

/// Totals over the whole store (see event_store::stats).
struct store_stats {
  uint64_t events = 0;
  uint64_t streams = 0;
  uint64_t snapshots = 0;
  global_position last_position = 0;
  std::size_t map_size = 0;
  std::size_t map_used = 0;
  std::size_t file_size = 0;
};

/// Which events of one shard to read (see event_store::read_shard).
struct shard_range {
  uint16_t shard = 0;
  /// Only events with a shard position > after.
  uint64_t after = 0;
  /// At most this many events.
  uint64_t max_count = 1000;
  /// Resume hint, valid on this node only: start scanning the log after this node
  /// position (a previous result's next_hint; 0 scans from the start).
  global_position from_position = 0;
};

/// What event_store::read_shard read.
struct shard_chunk {
  /// The shard's events, in shard-position order, copied out of the read transaction.
  event_chunk events;
  /// The shard's head shard position (the newest ever assigned; 0 when none).
  uint64_t head = 0;
  /// Node position where the scan stopped: pass it as from_position with `after` = the
  /// last shard position received to continue without rescanning. Valid on this node only.
  /// A caller must pass it: a scan stopped by the budget may have found nothing, and only
  /// the hint moves the next call past what it scanned.
  global_position next_hint = 0;
  /// True when the scan reached the end of the log (not stopped by max_count or the scan
  /// budget): events past it are not committed yet.
  bool at_end = false;
};

/// The shard of `stream_id` in a journal of `shard_count` (> 0) shards: XXH3-64 of its
/// bytes (seed 0) modulo shard_count, as the store assigns it to the stream's events.
uint16_t shard_of_stream(std::string_view stream_id, uint16_t shard_count) noexcept;

/// Checks a stream id: 1..255 bytes, no NUL byte. Errors: bad_request.
status validate_stream_id(std::string_view stream_id);

/// Called for each event of a zero-copy read; return false to stop early.
using event_visitor = std::function<bool(const event_view&)>;

/// Called once with every event of a zero-copy chunked read (views valid only during the
/// call); an error it returns is returned by the read.
using event_batch_visitor = std::function<status(const std::vector<event_view>&)>;

/// The store contract. Calls are virtual per call (the journal writer calls commit once per
/// group commit, never per event).
class event_store {
public:
  /// Opens (creating when missing) the LMDB store in options.dir. Fails with io_error when the
  /// folder cannot be used, corrupt when it holds no Annal journal or one of a newer format.
  /// A journal of format 2 opened for writing is upgraded to format 3 first (see upgrade).
  static result<std::unique_ptr<event_store>> open(const store_options& options);

  /// Upgrades the journal in options.dir to format 3 in resumable batches, calling
  /// `progress(done, total)` (events) after each; a kill at any point leaves a journal that
  /// opens as format 2 or 3 and a later open or upgrade finishes it. No-op when current.
  static status upgrade(const store_options& options,
                        const std::function<void(uint64_t, uint64_t)>& progress = {});

  virtual ~event_store() = default;
  event_store(const event_store&) = delete;
  event_store& operator=(const event_store&) = delete;

  // -- appends --------------------------------------------------------------------------

  /// Appends `events` to `stream_id` if its head matches `expected`. Errors: conflict
  /// (names stream, expected and actual version), stream_deleted, bad_request (invalid
  /// id, type or oversized payload), storage_full, io_error. Nothing is written on error.
  virtual result<append_result> append(std::string_view stream_id, expected_version expected,
                               std::vector<new_event> events) = 0;

  /// Appends to several streams in ONE transaction: all succeed or nothing is written.
  /// Errors as for append(); the first failing expectation fails the whole call.
  virtual result<std::vector<append_result>> append(std::vector<stream_append> appends) = 0;

  /// Group commit: writes every append of `batch` whose expectation holds, plus the
  /// snapshots, in one transaction and one fsync. An append that fails its checks is
  /// skipped with its own error and does not affect the others. When `collect` is true,
  /// the committed events are moved out of `batch` into the outcome. A batch-wide failure
  /// (storage_full, io_error) is returned as the error and nothing is written.
  virtual result<batch_outcome> commit(write_batch& batch, bool collect = false) = 0;

  // -- shards moving between nodes ------------------------------------------------------

  /// Fences `shard` (true) or lifts the fence (false). Once fence_shard(s, true) has
  /// returned, no append to a stream of s commits until the fence is lifted: a commit in
  /// progress finishes first, later ones fail those appends with errc::unavailable ("shard
  /// s is fenced") and keep the others. In memory only: a reopened store has no fences.
  /// Errors: bad_request (shard out of range, a store without shards, lifting the fence
  /// of a shard handed over: see hand_over_shard).
  virtual status fence_shard(uint16_t shard, bool fenced);

  /// True when `shard` is fenced (see fence_shard).
  virtual bool shard_fenced(uint16_t shard) const;

  /// Records durably that node `to` owns `shard` from `epoch` on (the old owner's step of
  /// a move's hand-over) and fences the shard for good: appends to it fail with
  /// unavailable naming `to`, also after the store is reopened, until take_over_shard.
  /// Errors: bad_request (shard out of range, `to` empty, epoch 0), storage_full, io_error.
  virtual status hand_over_shard(uint16_t shard, std::string_view to, uint64_t epoch);

  /// Records durably that this journal's node owns `shard` from `epoch` on (the new
  /// owner's step) and lifts any fence of the shard. Errors as hand_over_shard.
  virtual status take_over_shard(uint16_t shard, uint64_t epoch);

  /// Every shard's newest record of hand_over_shard / take_over_shard, by shard.
  virtual result<std::vector<shard_owner_record>> shard_owners();

  /// Appends a chunk of a shard's events copied from another node, in one transaction
  /// (fences do not apply: the shard is not served here yet). Events at or below the
  /// shard's head here are taken as ones this store has (a resumed copy, or the shard's
  /// earlier history here) and skipped without comparing them; the others must have rising shard
  /// positions, and each must come after its stream's head here — directly, or, for a
  /// stream new here whose first versions were truncated at the source, after a gap that
  /// its record then marks as truncated. Errors: bad_request (shard out of range, an event
  /// of another shard, positions not rising, invalid fields), conflict (a version at or
  /// below its stream's head, or a gap in a stream this node has: the histories differ),
  /// stream_deleted, storage_full, io_error. Nothing is written on error.
  virtual result<import_outcome> import_shard(const shard_import& chunk);

  /// Makes this journal's record of `source.stream_id` (a stream of a shard copied from
  /// its old owner, whose record `source` is) agree with it where events alone cannot
  /// tell: deleted there → its events and snapshots here are erased and it is tombstoned
  /// (also when this journal never had it); truncated further there → truncated here too.
  /// Fences do not apply. Errors: bad_request (invalid id), storage_full, io_error.
  virtual status import_stream_record(const stream_info& source);

  // -- reads ----------------------------------------------------------------------------

  /// Events of `stream_id` within `range`, oldest first. Unknown stream: empty.
  /// Errors: stream_deleted, io_error. A damaged event is returned with corrupt = true.
  virtual result<std::vector<recorded_event>> read_stream(std::string_view stream_id,
                                                          stream_range range = {}) = 0;

  /// Events of `stream_id` from version `from` (0 = the head) down, newest first, at
  /// most `max_count`.
  virtual result<std::vector<recorded_event>> read_stream_backward(std::string_view stream_id,
                                                           stream_version from,
                                                           uint64_t max_count) = 0;

  /// Events of the global log with positions > `after`, in order, at most `max_count`.
  virtual result<std::vector<recorded_event>> read_all(global_position after, uint64_t max_count) = 0;

  /// Zero-copy read of the global log after `after`: calls `visit` for up to `max_count`
  /// events inside one read transaction; returns how many were visited.
  virtual result<uint64_t> read_all(global_position after, uint64_t max_count,
                            const event_visitor& visit) = 0;

  /// Zero-copy read of up to `max_count` events after `after`, handed to `visit` as one
  /// vector inside the read transaction. Returns how many events were read.
  /// REQUIRES: `visit` neither waits for anything (another actor, a lock, a reply) nor
  /// runs long: the open transaction blocks the map's growth for every writer of the
  /// process. Catch-up readers that apply what they read use read_chunk instead.
  virtual result<uint64_t> read_all_batch(global_position after, uint64_t max_count,
                                  const event_batch_visitor& visit) = 0;

  /// Reads up to `max_count` events after `after` and copies those `keep` accepts into
  /// the returned chunk, whose events stay valid after the read transaction has ended.
  /// `keep` runs inside the transaction: it must be quick and must not wait.
  virtual result<event_chunk> read_chunk(global_position after, uint64_t max_count,
                                 const std::function<bool(const event_view&)>& keep) = 0;

  /// Events of one shard with shard position > range.after, in shard-position order, at
  /// most range.max_count, copied out (the transaction ends before it returns). Scans the
  /// log after range.from_position filtered by the envelope's shard (payloads of other
  /// shards are not decoded), at most shard_scan_budget events per call. Errors:
  /// bad_request (shard >= shard count, or a store without shards), io_error.
  virtual result<shard_chunk> read_shard(const shard_range& range) = 0;

  /// Events one read_shard call scans at most (bounds its read transaction).
  static constexpr uint64_t shard_scan_budget = 262144;

  /// Zero-copy read of a stream (versions in `range`, oldest first).
  virtual result<uint64_t> read_stream(std::string_view stream_id, stream_range range,
                               const event_visitor& visit) = 0;

  /// read_stream that first sets `head` to the stream's head record, read with the events
  /// (in the same transaction, before `visit` is called): a loader's one lookup instead of
  /// stream_head and then read_stream. Errors as read_stream (`head` is set also on
  /// stream_deleted). The default calls stream_head, then read_stream.
  virtual result<uint64_t> read_stream_and_head(std::string_view stream_id, stream_range range,
                                                stream_info& head, const event_visitor& visit);

  /// The stream's head record; an unknown stream has head 0. Never replays events.
  virtual result<stream_info> stream_head(std::string_view stream_id) = 0;

  /// Streams whose ids start with `prefix`, in id order, after id `after` (exclusive; ""
  /// starts at the beginning), at most `limit`. Deleted streams are included (flagged).
  virtual result<std::vector<stream_info>> list_streams(std::string_view prefix,
                                                std::string_view after, uint64_t limit) = 0;

  /// The streams of shard `shard` (of `shard_count`) that were deleted or truncated — what
  /// a shard's events cannot tell its next owner — in id order after `after` ("" starts at
  /// the beginning), at most `limit`, with their heads. The LMDB store keeps an index of
  /// them, so the cost follows their number, not the journal's; the default (and an LMDB
  /// store asked with another shard count) filters list_streams.
  virtual result<std::vector<stream_info>> list_trimmed_streams(uint16_t shard_count, uint16_t shard,
                                                                std::string_view after,
                                                                uint64_t limit);

  /// Position of the newest event ever committed (0 for an empty store).
  virtual result<global_position> last_position() = 0;

  // -- stream maintenance ---------------------------------------------------------------

  /// Deletes the events of `stream_id` with versions <= `through` (clamped to the head).
  /// The head version never goes down; later appends continue the numbering. Errors:
  /// stream_deleted, unavailable (its shard is fenced), storage_full, io_error.
  virtual status truncate_stream(std::string_view stream_id, stream_version through) = 0;

  /// Deletes the stream's events and snapshots and tombstones it: later reads fail with
  /// stream_deleted and appends are refused. Errors: not_found, stream_deleted,
  /// unavailable (its shard is fenced: fence_shard, hand_over_shard).
  virtual status delete_stream(std::string_view stream_id) = 0;

  // -- snapshots ------------------------------------------------------------------------

  /// Saves a snapshot (overwriting one at the same version) and deletes the oldest ones
  /// beyond options.snapshots_to_keep. Errors: bad_request, storage_full, io_error.
  virtual status save_snapshot(snapshot_record snapshot) = 0;

  /// The newest snapshot of `stream_id` within `bounds`, or none. A damaged snapshot
  /// yields errc::corrupt (callers fall back to a full replay).
  virtual result<std::optional<snapshot_record>> load_snapshot(std::string_view stream_id,
                                                               snapshot_bounds bounds = {}) = 0;

  /// Deletes the snapshot at `version` if there is one.
  virtual status delete_snapshot(std::string_view stream_id, stream_version version) = 0;

  /// Deletes every snapshot of `stream_id` within `bounds`; returns how many.
  virtual result<uint64_t> delete_snapshots(std::string_view stream_id, snapshot_bounds bounds) = 0;

  // -- environment ----------------------------------------------------------------------

  /// Forces buffered commits to disk (useful in no_sync mode).
  virtual status flush() = 0;

  /// LMDB: merges the in-memory index of recent appends into the stored stream index now
  /// (it also happens once options().index_merge_runs appends are pending, or more for
  /// a large index, before a truncation, deletion or backup, and at close). No-op when
  /// read-only, and for other stores.
  virtual status merge_index() { return {}; }

  /// Counts and sizes of the store (O(streams); sizes are 0 for a store without a file).
  virtual result<store_stats> stats() = 0;

  /// The options the store was opened with.
  virtual const store_options& options() const noexcept = 0;

  /// LMDB: copies a consistent, compacted image of the store into the empty folder `dest`
  /// while it keeps serving (mdb_env_copy2 with MDB_CP_COMPACT). Other stores: bad_request.
  virtual status backup(const std::filesystem::path& dest);

  /// LMDB: the underlying environment (MDB_env*), for tools and tests that inspect it.
  /// Other stores: nullptr.
  virtual void* native_handle() noexcept { return nullptr; }

protected:
  event_store() = default;
};

} // namespace annal
