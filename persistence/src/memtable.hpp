// Internal: the in-memory index of the journal's recent appends (the "memtable"). Appends
// no longer write the `stream_index` table; their runs (stream, first version, first
// position, count) are kept here and merged into `stream_index` in one sorted batch (written
// in slices by stream id), which dirties each B-tree leaf once per merge instead of once per
// append. meta "indexed_through" (and, between slices, "merge_partial": merge_progress) says
// how far the stored index is complete; the memtable holds the runs after that. Everything
// past `covered` that a reader's transaction sees (a commit whose runs are not published
// yet, another process's appends) is indexed by scanning those events' headers.
//
// Thread safety: one writer (the event store's writer mutex) mutates; readers copy a
// stream's runs under the internal mutex.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "annal/layout/merge_progress.hpp"
#include "stream_index_codec.hpp"

namespace annal::detail {

// How far merges have stored the index (meta "indexed_through" and "merge_partial"); public
// for the tools.
using layout::merge_progress;

/// What a reader copies inside its read transaction.
struct memtable_view {
  std::vector<index_run> runs; // the stream's runs, oldest first
  global_position covered = 0; // every event up to here is in the memtable or stored
  merge_progress merged;       // runs stored by then were dropped when copied
};

/// One stream's runs as a merge writes them: the first `count` runs (clipped at the
/// merge's position) of the memtable's runs of the stream. Points into the memtable: valid
/// while the writer only publishes, until the merge drops the stream's runs.
struct merge_group {
  std::string_view stream_id;         // the memtable's key
  const std::vector<index_run>* runs; // the memtable's runs of the stream, oldest first
  std::size_t count = 0;
  // The id's first 16 bytes, zero-padded, big-endian: sorting compares these in place
  // before it follows stream_id into the memtable's nodes (a cache miss each).
  uint64_t head_hi = 0, head_lo = 0;
};

class memtable {
public:
  /// Copies the runs of `stream_id` and the covered position into `out`; with
  /// `newest_before` (a position), only the newest run starting at or before it (a head
  /// lookup: a hot stream may have thousands of runs here).
  void copy(std::string_view stream_id, memtable_view& out,
            std::optional<global_position> newest_before = std::nullopt) const;

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

  /// The runs starting at or before `through`, grouped by stream, streams sorted by id:
  /// what a merge writes. Writer only.
  std::vector<merge_group> groups_through(global_position through) const;

  /// Forgets the runs at or before `indexed_through` (a whole merge committed).
  void drop_through(global_position indexed_through);

  /// Forgets the runs at or before `through` of `slice` (groups of one merge, sorted, the
  /// next slice of it just committed); `last` says whether the merge is complete.
  void drop_slice(const merge_group* slice, std::size_t count, global_position through, bool last);

  /// Catches up with merges another process committed (or the store's marks at open):
  /// forgets what `p` says is stored. No-op unless `p` is ahead. Writer only.
  void catch_up(const merge_progress& p);

  std::size_t run_count() const noexcept { return run_count_; }
  global_position covered() const noexcept { return covered_; }
  /// How far merges have reached, as this process last committed or saw. Writer only.
  const merge_progress& merged() const noexcept { return merged_; }

private:
  // Erases the runs at or before `through` of the stream at `it`; the next entry.
  using run_map = std::unordered_map<std::string, std::vector<index_run>>;
  run_map::iterator erase_through(run_map::iterator it, global_position through);

  mutable std::mutex mutex_;
  run_map runs_;
  std::size_t run_count_ = 0;
  global_position covered_ = 0;
  merge_progress merged_;
};

} // namespace annal::detail
