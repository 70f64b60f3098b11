// Internal: the state behind annal::event_store and the helpers its source files share.
#pragma once

#include <chrono>
#include <functional>

#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "annal/event_store.hpp"
#include "lmdb_env.hpp"
#include "lmdb_event_store.hpp"
#include "memtable.hpp"
#include "stream_index_codec.hpp"

namespace annal {

/// Named tables of the journal environment, in the order they are opened.
enum table : std::size_t { events_table, stream_index_table, streams_table, snapshots_table,
                           meta_table };

/// On-disk format of the journal. 2: one stream_index entry per append, written by the
/// append. 3: the stream index is merged from memory in batches (meta "indexed_through"),
/// events carry their shard and shard position (table `shards`). A store of format 2 is
/// read as is and upgraded when opened for writing; newer formats are refused.
inline constexpr uint32_t journal_format_version = 3;
inline constexpr uint32_t journal_format_v2 = 2;

namespace detail {

/// How much of a stream's unmerged tail a read needs: all its runs (to read events), or
/// the newest one (enough for the head).
enum class tail_wanted : bool { all_runs, newest_run };

/// The per-transaction state of a write: where the log ends, the runs appended so far (not
/// yet in the memtable: published only once the commit succeeded) and the shard heads.
struct write_ctx {
  global_position last = 0;
  std::vector<std::pair<std::string, index_run>> runs;
  std::unordered_map<std::string, std::size_t> newest; // stream -> its newest entry of runs
  std::vector<uint64_t> shard_heads;                    // by shard
  std::vector<uint8_t> shard_state;                     // 0 not loaded, 1 loaded, 2 changed
};

/// What a read transaction knows of the unmerged tail of the log: the stored index is
/// complete through merged.indexed_for(stream); a stream's events after that are indexed
/// by the memtable or, past what the memtable covered when copied, by a scan of the
/// events (`gap`).
struct read_marks {
  merge_progress merged;
  global_position last = 0;
  bool gap_scanned = false;
  global_position gap_from = 0; // the scan covers (gap_from, last]
  std::unordered_map<std::string, std::vector<index_run>> gap;
};

} // namespace detail

struct lmdb_event_store::impl {
  std::unique_ptr<detail::lmdb_env> env;
  MDB_dbi shards_dbi = 0;
  bool has_shards = false;     // false: a format-2 store opened read-only
  uint16_t shard_count = 0;    // 0: a format-2 store opened read-only (no shards)
  detail::memtable mem;
  std::size_t merge_runs = 0; // options().index_merge_runs, or the environment's override
  std::size_t merge_runs_per_leaf = 0; // options().index_merge_runs_per_leaf (0: overridden)
  // Runs that start a merge: merge_runs, or per leaf of the stored index when that is more
  // (size_merges); kept from the newest transaction that measured the index.
  std::size_t merge_threshold = 0;
  std::size_t slice_runs = 0; // options().index_merge_slice_runs, or the override (0: whole)
  // A merge between its slices (merge_if_full): the groups it writes, sorted by stream,
  // and the next one. Reset by a whole merge and by another process's merge.
  struct merge_plan {
    global_position through = 0;
    std::vector<detail::merge_group> groups;
    std::size_t next = 0;
  };
  std::optional<merge_plan> plan;
  // Commits run alone for slice_gap times as long as the last slice took before the next
  // slice (options().index_merge_slice_gap, or the override).
  double slice_gap = 0;
  std::chrono::steady_clock::time_point next_slice_at{};
  // Serializes this process's writes so that a commit's runs are published before the
  // next write transaction of the process begins (LMDB's lock alone releases at commit).
  std::mutex writer;
  // Fenced shards (event_store::fence_shard), by shard, and the node each handed-over
  // shard went to (for the refusal's message); read and written under `writer`.
  std::vector<bool> fenced;
  std::unordered_map<uint16_t, std::string> handed_to;
  MDB_dbi owners_dbi = 0;
  bool has_owners = false; // false: an older store opened read-only (no shard_owners table)
  // The index of deleted and truncated streams by shard (event_store_trimmed.cpp).
  MDB_dbi trimmed_dbi = 0;
  bool has_trimmed = false; // false: an older store opened read-only (no complete index)

  MDB_dbi dbi(table t) const noexcept { return env->dbi(t); }
  const store_options& options() const noexcept { return env->options(); }

  // -- streams ---------------------------------------------------------------------------

  /// Reads the record of `stream_id` from `streams` into `out` (head 0 when unknown).
  status load_record(const detail::txn& t, std::string_view stream_id, stream_info& out,
                     bool* exists = nullptr) const;

  /// Reads what a read transaction knows of `stream_id` into `out`: its record and its
  /// head, from the newest run of its unmerged tail (`tail`, filled) or else of the stored
  /// index. `stale` is set when a merge dropped runs the transaction cannot see (retry).
  /// `wanted`: newest_run lets `tail` hold only the newest run (enough for the head).
  status load_stream(const detail::txn& t, detail::read_marks& m, std::string_view stream_id,
                     stream_info& out, std::vector<detail::index_run>& tail, bool& stale,
                     detail::cursor* index = nullptr,
                     detail::tail_wanted wanted = detail::tail_wanted::all_runs) const;

  /// Reads `stream_id`'s record and head from the stored index alone. REQUIRES: the
  /// memtable was merged in `t`.
  status load_stream_merged(const detail::txn& t, std::string_view stream_id,
                            stream_info& out) const;

  /// Writes the record of `s` (flags, truncation, and the head it had then).
  status store_stream(detail::txn& t, const stream_info& s);

  // -- the index of trimmed streams (event_store_trimmed.cpp) -----------------------------

  /// Opens the index of deleted and truncated streams; a writable open creates it and, for
  /// a journal written before it existed, fills it from `streams` in one transaction.
  status open_trimmed_index();
  /// Adds `s` to the index when it is deleted or truncated (with its record's write).
  status note_trimmed(detail::txn& t, const stream_info& s);

  /// Position of the newest event ever committed: the last key of `events`, or the
  /// high-water mark in `meta` when deletions removed the newest events.
  result<global_position> load_last_position(const detail::txn& t) const;
  /// Records the high-water mark (before a deletion).
  status store_last_position(detail::txn& t, global_position p);

  // -- the deferred index (event_store_index.cpp) ------------------------------------------

  /// meta "indexed_through" (a store without it, format 2, is indexed through `last`) and
  /// "merge_partial" (a merge between its slices).
  result<detail::merge_progress> load_merge_progress(const detail::txn& t, global_position last) const;
  /// Fills `m` (merged, last) for a read transaction.
  status begin_read(const detail::txn& t, detail::read_marks& m) const;
  /// The runs of `stream_id` past the stored index that `t` sees, oldest first (with
  /// newest_run wanted, at least the newest of them). `stale`: see load_stream.
  status tail_runs(const detail::txn& t, detail::read_marks& m, std::string_view stream_id,
                   std::vector<detail::index_run>& out, bool& stale,
                   detail::tail_wanted wanted = detail::tail_wanted::all_runs) const;
  /// Indexes, once per transaction, the events `t` sees past `covered` (into m.gap).
  status scan_gap(const detail::txn& t, detail::read_marks& m, global_position covered) const;
  /// The ids, starting with `prefix`, of the streams with runs past the stored index that
  /// `t` may see (a superset: runs published after `t` began are included). Streams born
  /// since the last merge have no record yet, so a listing needs these. `stale`: see
  /// load_stream.
  status tail_stream_ids(const detail::txn& t, detail::read_marks& m, std::string_view prefix,
                         std::set<std::string>& out, bool& stale) const;
  /// Starts a write: loads the log's end into `ctx` and indexes what other processes
  /// appended or merged since this process last looked. REQUIRES: `writer` held.
  status begin_write(detail::txn& t, detail::write_ctx& ctx);
  /// Writes the changed shard heads of `ctx`. Call last in a write that appended.
  status finish_write(detail::txn& t, detail::write_ctx& ctx);
  /// Publishes the runs of a committed write into the memtable.
  void published(detail::write_ctx& ctx);
  /// Writes every memtable run into stream_index and sets indexed_through to ctx.last
  /// (ending a merge between its slices), inside `t`. After the commit, call
  /// mem.drop_through(ctx.last).
  status merge_into(detail::txn& t, const detail::write_ctx& ctx);
  /// Writes `count` groups (sorted by stream) into stream_index, their runs clipped at
  /// `through`, and the record of each stream born in them that has none yet: new streams
  /// get their record with their first stored run.
  status write_groups(detail::txn& t, const detail::merge_group* groups, std::size_t count,
                      global_position through);
  /// Merges the memtable in its own transaction. REQUIRES: `writer` held.
  status merge_locked();
  /// Merges when the memtable holds merge_threshold runs or more: in slices of
  /// about slice_runs runs, one transaction each, at most one slice per call and none
  /// before next_slice_at (so no commit waits for a whole merge, and commits between
  /// slices run at full speed). REQUIRES: `writer` held.
  status merge_if_full();
  /// Sets merge_threshold from the stored index's leaf pages as `t` sees them: a merge
  /// copies each leaf it touches, so waiting for runs in proportion to the leaves keeps
  /// its pages per run from growing with the index.
  void size_merges(const detail::txn& t);
  /// Records a merge as complete through `through` (ending one between its slices) and
  /// sizes the next one (size_merges).
  status finish_merge(detail::txn& t, global_position through);
  /// Writes the next slice of `plan` in its own transaction. REQUIRES: `writer` held.
  status merge_slice();
  /// Rebuilds the memtable from the events past the stored index (at open).
  status rebuild_memtable();

  /// The journal's upgrade from format 2 (event_store_upgrade.cpp): stamps every event
  /// with its shard and shard position in resumable batches; `progress(done, total)`
  /// after each. No-op for a current journal.
  status upgrade_format(const std::function<void(uint64_t, uint64_t)>& progress);

  /// Checks and writes one append inside `t`; nothing is written when a check fails.
  /// `index` is a cursor on stream_index reused across the appends of a batch.
  result<append_result> apply(detail::txn& t, detail::cursor& index, detail::write_ctx& ctx,
                              const stream_append& a, timestamp_ns now);

  /// unavailable when `stream_id`'s shard is fenced. REQUIRES: `writer` held.
  status check_fence(std::string_view stream_id) const;
  /// Reads `shard_owners` and fences the shards handed over to other nodes (at open).
  status load_owner_fences();
  /// Writes the shard's owner record and sets its fence to match (REQUIRES: `writer`).
  status record_owner(uint16_t shard, std::string_view owner, uint64_t epoch);

  /// Writes one snapshot and enforces the retention of the newest K.
  status put_snapshot(detail::txn& t, const snapshot_record& s);

  /// Deletes the snapshots of `stream_id` within `bounds`; returns how many.
  result<uint64_t> erase_snapshots(detail::txn& t, std::string_view stream_id,
                                   const snapshot_bounds& bounds);

  /// Deletes index entries and events of `stream_id` with versions in [1, through].
  /// REQUIRES: the memtable was merged in `t` (the stored index is complete).
  status erase_events(detail::txn& t, std::string_view stream_id, stream_version through);

  /// Runs `change(t, s)` on stream `stream_id` (refused when deleted, or when its shard is
  /// fenced) in one write transaction that first merges the memtable: truncation and
  /// deletion erase events through the stored index, so it must be complete. Takes the
  /// writer mutex. `import`: a record copied from a shard's old owner, which neither
  /// refusal applies to (`change` sees deleted streams too).
  status change_stream(std::string_view stream_id,
                       const std::function<status(detail::txn&, stream_info&)>& change,
                       bool import = false);

  /// Runs `fn(marks)` in a read transaction, again when a merge raced it (bounded).
  template <class F>
  auto read_indexed(F&& fn) -> decltype(fn(std::declval<const detail::txn&>(),
                                           std::declval<detail::read_marks&>(),
                                           std::declval<bool&>()));
};

template <class F>
auto lmdb_event_store::impl::read_indexed(F&& fn)
  -> decltype(fn(std::declval<const detail::txn&>(), std::declval<detail::read_marks&>(),
                 std::declval<bool&>())) {
  using result_type = decltype(fn(std::declval<const detail::txn&>(),
                                  std::declval<detail::read_marks&>(), std::declval<bool&>()));
  // A merge commits and then drops the merged runs from the memtable; a transaction that
  // began before that commit but copies the memtable after the drop misses them. Such a
  // copy is detected (stale) and the read runs again in a new transaction, which sees the
  // merge. Merges are rare (one per index_merge_runs appends, in slices a few milliseconds
  // apart): a few tries suffice.
  for (int attempt = 0;; ++attempt) {
    bool stale = false;
    result_type r = env->read([&](const detail::txn& t) -> result_type {
      detail::read_marks m;
      if (auto ok = begin_read(t, m); !ok)
        return std::move(ok).error();
      return fn(t, m, stale);
    });
    if (!stale || attempt >= 1000)
      return r;
  }
}

namespace detail {

/// Checks ids, type names, sizes; returns bad_request naming the offending field.
status validate_stream_id(std::string_view id);
status validate_append(const stream_append& a, const store_options& o);
/// Checks a chunk of a shard's copy before anything is written: the shard, each event's
/// fields and shard, rising shard positions.
status validate_import(const shard_import& chunk, uint16_t shard_count, const store_options& o);

inline MDB_val as_val(std::string_view s) noexcept {
  return MDB_val{s.size(), const_cast<char*>(s.data())};
}
inline std::string_view as_view(const MDB_val& v) noexcept {
  return {static_cast<const char*>(v.mv_data), v.mv_size};
}

/// Parses the entry `c` points at as a run of `stream_id`.
inline bool current_run(const MDB_val& k, const MDB_val& v, std::string_view stream_id,
                        index_run& run) noexcept {
  return detail::parse_index_entry(as_view(k), as_view(v), stream_id, run);
}

/// Positions the stream_index cursor `c` on the run of `stream_id` covering version `v`,
/// or else on the stream's first run after `v`. False when there is neither.
inline bool seek_run(cursor& c, std::string_view stream_id, stream_version v, index_run& run) {
  auto key = stream_key(stream_id, v);
  MDB_val k = as_val(key), val;
  int rc = c.get(k, val, MDB_SET_RANGE);
  if (rc == 0 && current_run(k, val, stream_id, run) && run.first_version == v)
    return true;
  MDB_val pk, pv;
  if (c.get(pk, pv, rc == 0 ? MDB_PREV : MDB_LAST) == 0 && current_run(pk, pv, stream_id, run)
      && run.covers(v))
    return true;
  k = as_val(key);
  return c.get(k, val, MDB_SET_RANGE) == 0 && current_run(k, val, stream_id, run);
}

/// Positions `c` on the newest run of `stream_id`. False when the stream has none.
inline bool seek_last_run(cursor& c, std::string_view stream_id, index_run& run) {
  auto upper = stream_key(stream_id, std::numeric_limits<uint64_t>::max());
  MDB_val k = as_val(upper), v;
  int rc = c.get(k, v, MDB_SET_RANGE);
  return c.get(k, v, rc == 0 ? MDB_PREV : MDB_LAST) == 0 && current_run(k, v, stream_id, run);
}

} // namespace detail
} // namespace annal
