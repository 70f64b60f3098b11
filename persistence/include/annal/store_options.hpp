// How an LMDB environment of Annal is opened: folder, durability and map-size policy.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>

namespace annal {

/// When a commit is reported successful.
enum class durability : uint8_t {
  /// fsync on every commit (the default): an acknowledged write survives power loss.
  durable,
  /// No fsync (MDB_NOSYNC), an explicit opt-in: an acknowledged write survives a crash of
  /// the process (it sits in the OS page cache) but commits since the last flush() may be
  /// lost, and the file may need a restore from backup, after a crash of the machine.
  no_sync,
};

/// Returns "durable" or "no_sync".
const char* to_string(durability d) noexcept;

/// Options for opening an event store or a read-model environment.
struct store_options {
  /// Folder holding the environment; created when missing.
  std::filesystem::path dir;
  durability mode = durability::durable;
  /// Map size to start with; LMDB files grow as data is written, not up front.
  std::size_t initial_map_size = std::size_t{64} << 20;
  /// Cap for automatic map growth; writes beyond it fail with errc::storage_full.
  std::size_t max_map_size = std::size_t{1} << 40;
  /// Largest accepted serialized payload of one event or snapshot.
  std::size_t max_payload_size = std::size_t{16} << 20;
  /// Snapshots kept per stream; older ones are deleted when a newer one is saved
  /// (0 keeps all).
  std::size_t snapshots_to_keep = 3;
  /// Maximum concurrent read transactions (LMDB reader slots), across processes.
  unsigned max_readers = 1024;
  /// False: durable commits sync the data pages but write the meta page without a sync of
  /// its own (MDB_NOMETASYNC; the next commit's sync carries it): one sync per commit
  /// instead of two, and a crash of the machine may lose the newest commit but never the
  /// file's integrity. Read models use it: what they lose is replayed from the journal.
  bool sync_meta = true;
  /// Open read-only (for tools); every write fails with errc::bad_request.
  bool read_only = false;
  /// Journal only: shards of a store created by this open (a store keeps the count it was
  /// created with). An event's shard is XXH3-64 of its stream id modulo this count.
  uint16_t shard_count = 64;
  /// Journal only: appends are indexed in memory and merged into the stored stream index
  /// in one sorted batch once this many appends (runs) are pending, and at close.
  std::size_t index_merge_runs = 262144;
  /// Journal only: a large stored index waits for this many runs per leaf page it has
  /// before merging (at most index_merge_max_runs; 0: index_merge_runs only). A merge
  /// copies every leaf it touches, so this bounds its pages per run as the index grows.
  std::size_t index_merge_runs_per_leaf = 8;
  /// Journal only: the most runs held in memory before a merge (~40-120 bytes each).
  std::size_t index_merge_max_runs = 1048576;
  /// Journal only: a merge writes about this many runs per transaction, one slice after
  /// a commit, so that no commit waits for a whole merge (0: one transaction).
  std::size_t index_merge_slice_runs = 8192;
  /// Journal only: after a slice, commits run without one for this many times as long as
  /// the slice took (0: a slice after every commit until the merge is done). A memtable
  /// grown to twice its merge threshold takes a slice after every commit regardless.
  double index_merge_slice_gap = 1.0;
};

} // namespace annal
