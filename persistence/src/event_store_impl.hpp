// Internal: the state behind annal::event_store and the helpers its source files share.
#pragma once

#include <limits>
#include <memory>
#include <string_view>

#include "annal/event_store.hpp"
#include "lmdb_env.hpp"
#include "stream_index_codec.hpp"

namespace annal {

/// Named tables of the journal environment, in the order they are opened.
enum table : std::size_t { events_table, stream_index_table, streams_table, snapshots_table,
                           meta_table };

/// On-disk format of the journal; a store of another format is refused (2: one
/// stream_index entry per append).
inline constexpr uint32_t journal_format_version = 2;

struct event_store::impl {
  std::unique_ptr<detail::lmdb_env> env;

  MDB_dbi dbi(table t) const noexcept { return env->dbi(t); }
  const store_options& options() const noexcept { return env->options(); }

  /// Reads what is known of `stream_id` into `out` (head 0 when unknown): its record in
  /// `streams` (flags, truncation) and its head, which is the newest entry of
  /// `stream_index` (or, when truncation left none, the head kept in the record).
  /// `index` is a cursor on stream_index to reuse; `exists` tells whether a record exists.
  status load_stream(const detail::txn& t, std::string_view stream_id, stream_info& out,
                     detail::cursor* index = nullptr, bool* exists = nullptr) const;

  /// Writes the record of `s` (flags, truncation, and the head it had then).
  status store_stream(detail::txn& t, const stream_info& s);

  /// Position of the newest event ever committed: the last key of `events`, or the
  /// high-water mark in `meta` when deletions removed the newest events.
  result<global_position> load_last_position(const detail::txn& t) const;
  /// Records the high-water mark (before a deletion).
  status store_last_position(detail::txn& t, global_position p);

  /// Checks and writes one append inside `t`; nothing is written when a check fails.
  /// `index` is a cursor on stream_index reused across the appends of a batch.
  result<append_result> apply(detail::txn& t, detail::cursor& index, const stream_append& a,
                              global_position& last, timestamp_ns now);

  /// Writes one snapshot and enforces the retention of the newest K.
  status put_snapshot(detail::txn& t, const snapshot_record& s);

  /// Deletes the snapshots of `stream_id` within `bounds`; returns how many.
  result<uint64_t> erase_snapshots(detail::txn& t, std::string_view stream_id,
                                   const snapshot_bounds& bounds);

  /// Deletes index entries and events of `stream_id` with versions in [1, through].
  status erase_events(detail::txn& t, std::string_view stream_id, stream_version through);
};

namespace detail {

/// Checks ids, type names, sizes; returns bad_request naming the offending field.
status validate_stream_id(std::string_view id);
status validate_append(const stream_append& a, const store_options& o);

inline MDB_val as_val(std::string_view s) noexcept {
  return MDB_val{s.size(), const_cast<char*>(s.data())};
}
inline std::string_view as_view(const MDB_val& v) noexcept {
  return {static_cast<const char*>(v.mv_data), v.mv_size};
}

/// Parses the entry `c` points at as a run of `stream_id`.
inline bool current_run(const MDB_val& k, const MDB_val& v, std::string_view stream_id,
                        index_run& run) noexcept {
  return parse_index_entry(as_view(k), as_view(v), stream_id, run);
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
