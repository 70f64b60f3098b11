// Internal: the state behind annal::event_store and the helpers its source files share.
#pragma once

#include <memory>
#include <string_view>

#include "annal/event_store.hpp"
#include "lmdb_env.hpp"

namespace annal {

/// Named tables of the journal environment, in the order they are opened.
enum table : std::size_t { events_table, stream_index_table, streams_table, snapshots_table,
                           meta_table };

/// On-disk format of the journal; a store written by a newer format is refused.
inline constexpr uint32_t journal_format_version = 1;

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

  /// Position of the newest event committed, as recorded in the meta table.
  result<global_position> load_last_position(const detail::txn& t) const;
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

} // namespace detail
} // namespace annal
