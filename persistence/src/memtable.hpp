// Internal: the in-memory index of the journal's recent appends (the "memtable"). Appends
// no longer write the `stream_index` table; their runs (stream, first version, first
// position, count) are kept here and merged into `stream_index` in one sorted batch, which
// dirties each B-tree leaf once per merge instead of once per append. meta
// "indexed_through" is the position up to which the stored index is complete; the memtable
// covers (indexed_through, covered]. Everything past `covered` that a reader's transaction
// sees (a commit whose runs are not published yet, another process's appends) is indexed
// by scanning those events' headers.
//
// Thread safety: one writer (the event store's writer mutex) mutates; readers copy a
// stream's runs under the internal mutex.
#pragma once

#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "stream_index_codec.hpp"

namespace annal::detail {

/// What a reader copies before it opens its read transaction.
struct memtable_view {
  std::vector<index_run> runs; // the stream's runs, oldest first
  global_position covered = 0; // every event up to here is in the memtable or stored
  global_position indexed = 0; // runs up to here were dropped (merged) when copied
};

class memtable {
public:
  /// Copies the runs of `stream_id` and the covered position into `out`.
  void copy(std::string_view stream_id, memtable_view& out) const;

  /// Copies the ids of the streams with runs that start with `prefix` into `ids`, and the
  /// covered and indexed positions (as copy does).
  void copy_ids(std::string_view prefix, std::vector<std::string>& ids, memtable_view& marks) const;

  /// The newest run of `stream_id`; false when it has none. Writer only.
  bool newest(std::string_view stream_id, index_run& out) const;

  /// Adds runs, in position order, and raises `covered` to `through`. Writer only.
  void publish(const std::vector<std::pair<std::string, index_run>>& runs,
               global_position through);

  /// Adds one run (the open's and the writer's tail scans). Writer only.
  void add(std::string_view stream_id, const index_run& run, global_position through);

  /// Raises `covered` to `through` (a scan found no more events). Writer only.
  void add_covered(global_position through);

  /// Every run, sorted by (stream, first version): what a merge writes. Writer only.
  std::vector<std::pair<std::string_view, index_run>> sorted() const;

  /// Forgets the runs at or before `indexed_through` (merged into the stored index).
  void drop_through(global_position indexed_through);

  std::size_t run_count() const noexcept { return run_count_; }
  global_position covered() const noexcept { return covered_; }
  global_position indexed_through() const noexcept { return indexed_; }
  void set_indexed_through(global_position p) noexcept { indexed_ = p; }

private:
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::vector<index_run>> runs_;
  std::size_t run_count_ = 0;
  global_position covered_ = 0;
  global_position indexed_ = 0;
};

} // namespace annal::detail
